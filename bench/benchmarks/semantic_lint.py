"""Semantic lint and diff of a 200-rule pack (issue target: each within 1 s).

Baseline, same run: loading the same pack (YAML, schema and condition compilation),
the work every reload already does."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.harness import Figure, benchmark

RAILS = ["card", "sepa", "ach", "wire", "rtp"]
COUNTRIES = ["DE", "FR", "US", "GB", "NL", "IR", "KP", "RU", "BR", "IN"]


def _rule(rng: random.Random, i: int, shift: int) -> str:
    amount = rng.randrange(1, 5_000_000) + shift
    kind = i % 5
    if kind == 0:
        cond = f"input.payment.amount_minor > {amount}"
    elif kind == 1:
        rail = rng.choice(RAILS)
        cond = f"input.payment.rail == '{rail}' and input.payment.amount_minor >= {amount}"
    elif kind == 2:
        picked = rng.sample(COUNTRIES, 3)
        cond = f"input.payment.country in {picked} and measure.velocity_1h > {rng.randrange(1, 50)}"
    elif kind == 3:
        cond = (
            f"input.payment.verified != true and input.payment.amount_minor > {amount} "
            f"or measure.amount_24h + input.payment.amount_minor > {amount * 3}"
        )
    else:
        low = rng.randrange(1, 1000)
        cond = f"input.payment.amount_minor > {low} and input.payment.amount_minor < {low + amount}"
    verdict = rng.choice(["deny", "flag", "allow"])
    return f'      - {{name: "r{i}", condition: "{cond}", decision: "{verdict}", reason: "r{i}"}}\n'


def write_pack(directory: Path, version: str, shift: int, rules: int = 200) -> Path:
    rng = random.Random(7)
    body = "".join(_rule(rng, i, shift if i % 17 == 0 else 0) for i in range(rules))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pack.yaml").write_text(
        f"""api_version: "paygod/v1"
kind: Pack
metadata: {{name: "generated", version: "{version}"}}
spec:
  inputs:
    - name: "payment"
      schema:
        type: "object"
        required: ["amount_minor", "rail"]
        properties:
          amount_minor: {{type: "integer", minimum: 0}}
          rail: {{type: "string", enum: {RAILS}}}
          country: {{type: "string"}}
          verified: {{type: "boolean"}}
  policy:
    rules:
{body}"""
    )
    return directory


def _seconds(fn: object, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


@benchmark("semantic_lint")
def semantic_lint() -> Iterator[Figure]:
    from paygod.decisions.lint import lint_pack
    from paygod.decisions.packs import load_pack
    from paygod.decisions.semantic_lint import diff_verdicts

    with tempfile.TemporaryDirectory() as tmp:
        v1 = write_pack(Path(tmp) / "v1", "1.0.0", 0)
        v2 = write_pack(Path(tmp) / "v2", "1.1.0", 250_000)
        old, new = load_pack(v1), load_pack(v2)
        load = _seconds(lambda: load_pack(v1))
        findings: list[object] = []
        lint = _seconds(lambda: findings.extend(lint_pack(old)), repeats=1)
        changes: list[object] = []
        diff = _seconds(lambda: changes.extend(diff_verdicts(old, new)), repeats=1)
    yield Figure(
        "semantic_lint.lint_200_rules",
        lint,
        "s",
        load,
        "load_pack (same pack)",
        {"findings": len(findings), "target_s": 1.0},
    )
    yield Figure(
        "semantic_lint.diff_200_rules",
        diff,
        "s",
        load,
        "load_pack (same pack)",
        {"verdict_changes": len(changes), "target_s": 1.0},
    )
