"""Semantic lint and diff: findings are proofs, witnesses are real, nothing is invented."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from paygod.cli.main import app
from paygod.decisions.conditions import compile_condition
from paygod.decisions.engine import first_match
from paygod.decisions.lint import lint_packs
from paygod.decisions.model import Pack, Verdict
from paygod.decisions.packs import DEFAULT_PACKS_DIR, load_pack
from paygod.decisions.semantic_lint import diff_verdicts, lint_rules
from paygod.decisions.semantics import Encoder, env_of

SCHEMA = """
  inputs:
    - name: "payment"
      required: true
      schema:
        type: "object"
        required: ["amount"]
        properties:
          amount: { type: "integer" }
          rail: { type: "string", enum: ["card", "wire"] }
"""


def pack_text(rules: list[tuple[str, str, str]], *, name: str = "p", schema: bool = True) -> str:
    body = "".join(
        f'      - {{name: "{n}", condition: "{c}", decision: "{d}", reason: "{n}"}}\n'
        for n, c, d in rules
    )
    inputs = SCHEMA if schema else ""
    return (
        f'api_version: "paygod/v1"\nkind: Pack\nmetadata: {{name: "{name}", version: "1.0.0"}}\n'
        f"spec:{inputs}\n  policy:\n    rules:\n{body}"
    )


def make(tmp: Path, rules: list[tuple[str, str, str]], **kw: Any) -> Pack:
    directory = tmp / kw.get("name", "p")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pack.yaml").write_text(pack_text(rules, **kw))
    return load_pack(directory)


def by_rule(pack: Pack) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in lint_rules(pack):
        found.setdefault(f.rule, []).append(f.message)
    return found


def test_a_flag_before_a_wider_deny_hides_it_with_a_witness(tmp_path: Path) -> None:
    pack = make(
        tmp_path,
        [
            ("flag-5", "input.payment.amount > 5", "flag"),
            ("deny-10", "input.payment.amount > 10", "deny"),
            ("allow", "input.payment.amount <= 5", "allow"),
        ],
    )
    (finding,) = lint_rules(pack)
    assert finding.rule == "deny-10" and "'flag-5' matches first" in finding.message
    assert finding.related == ("flag-5",)
    witness = finding.witness
    assert witness is not None and witness["input"]["payment"]["amount"] > 10
    # The witness is real: the deny's condition holds, yet the flag decides.
    assert pack.rules[1].condition.test(env_of(witness))
    assert first_match(pack, env_of(witness)) == (Verdict.FLAG, "flag-5")


def test_a_contradictory_conjunction_is_never_true(tmp_path: Path) -> None:
    pack = make(
        tmp_path, [("odd", "input.payment.amount > 5 and input.payment.amount < 3", "deny")]
    )
    assert by_rule(pack) == {
        "odd": ["condition is always false: no input its pack accepts satisfies it"]
    }


def test_text_semantics_are_followed_not_assumed_numeric(tmp_path: Path) -> None:
    # Without a schema an amount may be any JSON value, and the language compares a
    # non-numeric string with a number by text: "2a" > "10" and "2a" < "3". So this
    # condition CAN be true, and lint must not call it dead.
    condition = "input.payment.amount > 10 and input.payment.amount < 3"
    pack = make(tmp_path, [("odd", condition, "deny")], schema=False)
    assert lint_rules(pack) == []
    assert compile_condition(condition).test(env_of({"input": {"payment": {"amount": "2a"}}}))
    # With the schema saying integer, it is dead.
    typed = make(tmp_path / "typed", [("odd", condition, "deny")])
    assert "odd" in by_rule(typed)


def test_always_true_needs_the_value_to_be_present(tmp_path: Path) -> None:
    both = "input.payment.amount > 5 or input.payment.amount <= 5"
    required = make(tmp_path, [("all", both, "deny")])
    assert any("always true" in m for m in by_rule(required)["all"])
    # An absent path reads as null and every ordering of null is false.
    optional = make(tmp_path / "o", [("all", both.replace("amount", "fee"), "deny")])
    assert lint_rules(optional) == []


def test_an_enum_makes_an_unlisted_value_dead(tmp_path: Path) -> None:
    pack = make(tmp_path, [("ach", "input.payment.rail == 'ach'", "deny")])
    assert "always false" in by_rule(pack)["ach"][0]


def test_several_earlier_rules_together_can_hide_one(tmp_path: Path) -> None:
    pack = make(
        tmp_path,
        [
            ("low", "input.payment.amount < 100", "allow"),
            ("high", "input.payment.amount >= 100", "flag"),
            ("never", "input.payment.amount == 42", "deny"),
        ],
    )
    (finding,) = lint_rules(pack)
    assert finding.rule == "never" and finding.related == ("low",)
    assert finding.witness is not None and finding.witness["input"]["payment"]["amount"] == 42
    covered = make(
        tmp_path / "c",
        [
            ("low", "input.payment.amount < 100", "allow"),
            ("high", "input.payment.amount >= 100", "flag"),
            ("any", "input.payment.amount != 7", "deny"),
        ],
    )
    (finding,) = lint_rules(covered)
    assert set(finding.related) == {"low", "high"}


def test_reachable_rules_and_the_bundled_packs_lint_clean() -> None:
    for directory in sorted(p for p in DEFAULT_PACKS_DIR.iterdir() if (p / "pack.yaml").exists()):
        assert lint_rules(load_pack(directory)) == [], directory.name


def test_an_allow_another_pack_always_overrules(tmp_path: Path) -> None:
    allow = make(tmp_path, [("small", "input.payment.amount < 100", "allow")], name="a")
    deny = make(tmp_path, [("under-1000", "input.payment.amount < 1000", "deny")], name="b")
    found = lint_packs([allow, deny])
    (finding,) = found["a"]
    assert "contradicts pack 'b'" in finding.message and "'b/under-1000'" in finding.message
    assert finding.witness is not None
    assert first_match(deny, env_of(dict(finding.witness)))[0] == Verdict.DENY
    assert found["b"] == []
    # Overlap alone is composition, not contradiction.
    partial = make(tmp_path, [("under-50", "input.payment.amount < 50", "deny")], name="c")
    assert lint_packs([allow, partial]) == {"a": [], "c": []}


def test_diff_names_each_verdict_change_with_a_confirmed_witness(tmp_path: Path) -> None:
    old = make(
        tmp_path,
        [("deny-big", "input.payment.amount > 1000", "deny"), ("ok", "true", "allow")],
        name="v1",
    )
    new = make(
        tmp_path,
        [("deny-big", "input.payment.amount > 500", "deny"), ("ok", "true", "allow")],
        name="v2",
    )
    (change,) = diff_verdicts(old, new)
    assert (change.before, change.after) == (Verdict.ALLOW, Verdict.DENY)
    assert change.witness is not None
    amount = change.witness["input"]["payment"]["amount"]
    assert 500 < amount <= 1000
    assert diff_verdicts(old, old) == []


def test_cli_lint_and_diff(tmp_path: Path) -> None:
    make(
        tmp_path,
        [("a", "input.payment.amount > 5", "flag"), ("b", "input.payment.amount > 9", "deny")],
    )
    shutil.copytree(tmp_path / "p", tmp_path / "q")
    text = (tmp_path / "q" / "pack.yaml").read_text().replace("> 9", "> 3")
    (tmp_path / "q" / "pack.yaml").write_text(text)
    result = CliRunner().invoke(app, ["packs", "lint", str(tmp_path / "p"), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["findings"][0]["rule"] == "b" and "witness" in report["findings"][0]
    result = CliRunner().invoke(
        app, ["packs", "diff", str(tmp_path / "p"), str(tmp_path / "q"), "--json"]
    )
    assert result.exit_code == 1, result.output
    changes = json.loads(result.output)["changes"]
    assert {(c["before"], c["after"]) for c in changes} == {("error", "deny")}


# -- a corpus of deliberately broken packs -------------------------------------------

BROKEN: list[tuple[str, list[tuple[str, str, str]], str]] = [
    (
        "shadow-flag",
        [("a", "input.payment.amount > 5", "flag"), ("b", "input.payment.amount > 10", "deny")],
        "b",
    ),
    (
        "shadow-same",
        [("a", "input.payment.amount > 5", "flag"), ("b", "input.payment.amount > 5", "deny")],
        "b",
    ),
    ("shadow-true", [("a", "true", "allow"), ("b", "input.payment.amount > 5", "deny")], "b"),
    (
        "shadow-eq",
        [("a", "input.payment.amount >= 10", "flag"), ("b", "input.payment.amount == 12", "deny")],
        "b",
    ),
    (
        "shadow-in",
        [
            ("a", "input.payment.rail in ['card', 'wire']", "flag"),
            ("b", "input.payment.rail == 'wire'", "deny"),
        ],
        "b",
    ),
    (
        "shadow-union",
        [
            ("a", "input.payment.amount < 0", "deny"),
            ("b", "input.payment.amount >= 0", "flag"),
            ("c", "input.payment.amount == 3", "allow"),
        ],
        "c",
    ),
    (
        "shadow-and",
        [
            ("a", "input.payment.amount > 5", "flag"),
            ("b", "input.payment.amount > 7 and input.payment.rail == 'card'", "deny"),
        ],
        "b",
    ),
    (
        "shadow-or",
        [
            ("a", "input.payment.rail == 'card' or input.payment.rail == 'wire'", "flag"),
            ("b", "input.payment.rail != 'card'", "deny"),
        ],
        "b",
    ),
    (
        "shadow-not",
        [
            ("a", "not (input.payment.amount <= 100)", "flag"),
            ("b", "input.payment.amount > 200", "deny"),
        ],
        "b",
    ),
    (
        "shadow-arith",
        [("a", "input.payment.amount * 2 > 10", "flag"), ("b", "input.payment.amount > 6", "deny")],
        "b",
    ),
    ("dead-range", [("a", "input.payment.amount > 5 and input.payment.amount < 3", "deny")], "a"),
    ("dead-eq", [("a", "input.payment.amount == 3 and input.payment.amount == 4", "deny")], "a"),
    ("dead-enum", [("a", "input.payment.rail == 'sepa'", "deny")], "a"),
    (
        "dead-not",
        [("a", "input.payment.amount > 1 and not (input.payment.amount > 0)", "deny")],
        "a",
    ),
    ("dead-literal", [("a", "1 > 2", "deny")], "a"),
    ("dead-in", [("a", "input.payment.rail in ['ach', 'sepa']", "deny")], "a"),
    ("dead-arith", [("a", "input.payment.amount + 1 < input.payment.amount", "deny")], "a"),
    ("always-or", [("a", "input.payment.amount > 5 or input.payment.amount <= 5", "deny")], "a"),
    ("always-ne", [("a", "input.payment.amount != 3 or input.payment.amount != 4", "flag")], "a"),
    ("always-range", [("a", "input.payment.amount >= 0 or input.payment.amount < 0", "flag")], "a"),
]


def test_the_broken_corpus_is_caught(tmp_path: Path) -> None:
    caught = 0
    for name, rules, culprit in BROKEN:
        pack = make(tmp_path / name, rules)
        if culprit in by_rule(pack):
            caught += 1
    assert len(BROKEN) == 20 and caught >= 19


# -- soundness: what the solver proves holds on every input -----------------------------

PATHS = ["input.p.a", "input.p.b"]
LITERALS = ["0", "3", "7.5", "-2", "'7'", "'x'", "''", "true", "false", "null"]
VALUES: list[Any] = [None, 0, 3, 7.5, -2, 10, "7", "x", "", "2a", "10", True, False, [], [1], {}]


def atoms() -> st.SearchStrategy[str]:
    compare = st.builds(
        lambda p, op, lit: f"{p} {op} {lit}",
        st.sampled_from(PATHS),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        st.sampled_from([*LITERALS, *PATHS]),
    )
    member = st.builds(
        lambda p, items: f"{p} in [{', '.join(items)}]",
        st.sampled_from(PATHS),
        st.lists(st.sampled_from(LITERALS), min_size=1, max_size=3),
    )
    arith = st.builds(
        lambda p, q, n: f"{p} + {q} > {n}",
        st.sampled_from(PATHS),
        st.sampled_from(PATHS),
        st.sampled_from(["0", "5"]),
    )
    return st.one_of(compare, member, arith, st.sampled_from(PATHS))


conditions = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=4,
)


@settings(max_examples=150, deadline=None)
@given(conditions)
def test_never_and_always_are_proofs(source: str) -> None:
    condition = compile_condition(source)
    encoder = Encoder()
    formula = encoder.condition(source)
    solver = z3.Solver()
    solver.add(*encoder.constraints)
    never = solver.check(formula) == z3.unsat
    always = solver.check(z3.Not(formula)) == z3.unsat
    for a in VALUES:
        for b in VALUES:
            payment = {k: v for k, v in (("a", a), ("b", b)) if v is not None}
            try:
                truth = condition.test({"input": {"p": payment}, "measure": {}})
            except Exception:
                continue  # an evaluation error stops the pack: neither true nor false
            assert not (never and truth), (source, payment)
            assert not (always and not truth), (source, payment)


# Contradictions across packs decided together (lint_set): (name, pack A, pack B, A's culprit
# or None for a control that must not be reported).
CONTRADICTORY: list[
    tuple[str, list[tuple[str, str, str]], list[tuple[str, str, str]], str | None]
] = [
    (
        "allow-vs-deny",
        [("allow-pos", "input.payment.amount > 0", "allow"), ("rest", "true", "flag")],
        [("deny-pos", "input.payment.amount > 0", "deny"), ("ok", "true", "allow")],
        "allow-pos",
    ),
    (
        "flag-vs-wider-deny",
        [("flag-card", "input.payment.rail == 'card'", "flag"), ("rest", "true", "allow")],
        [("deny-cw", "input.payment.rail in ['card', 'wire']", "deny"), ("ok", "true", "allow")],
        "flag-card",
    ),
    (
        "band-inside-deny",
        [
            ("allow-band", "input.payment.amount > 100 and input.payment.amount < 200", "allow"),
            ("rest", "true", "flag"),
        ],
        [("deny-100", "input.payment.amount >= 100", "deny"), ("ok", "true", "allow")],
        "allow-band",
    ),
    (
        "control-overlap-only",
        [("allow-wire", "input.payment.rail == 'wire'", "allow"), ("rest", "true", "flag")],
        [("deny-big", "input.payment.amount > 1000", "deny"), ("ok", "true", "allow")],
        None,
    ),
]


def test_contradictions_across_packs_are_caught_with_witnesses(tmp_path: Path) -> None:
    from paygod.decisions.semantic_lint import lint_set

    for name, first, second, culprit in CONTRADICTORY:
        a = make(tmp_path / name, first, name="a")
        b = make(tmp_path / name, second, name="b")
        found = {(f.pack, f.rule): f for f in lint_set([a, b])}
        if culprit is None:
            assert ("a", "allow-wire") not in found, name
            continue
        finding = found[("a", culprit)]
        assert "contradicts pack 'b'" in finding.message, name
        assert finding.witness is not None, name  # the engine confirmed it
