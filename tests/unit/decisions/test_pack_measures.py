"""Packs that measure: a declared score is computed before the rules, read by them as
`measure.<name>`, sealed with its explanation, and fails closed when it cannot be computed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from paygod.decisions.engine import evaluate, first_match
from paygod.decisions.model import Verdict
from paygod.decisions.packs import PackInvalid, load_pack

PLUGINS = Path(__file__).parent / "plugins"

SCORED = """
api_version: "paygod/v1"
kind: Pack
metadata: {name: "scored", version: "1.0.0"}
spec:
  measurements:
    - name: risk
      unit: score
      base: 10
      terms:
        - when: "input.payment.amount_minor > 100000"
          weight: 40
        - value: "measure.velocity_1h"
          weight: 5
          cap: 30
        - value: "input.payment.age_days"
          weight: -0.5
          default: 0
      min: 0
      max: 100
      bands: [{below: 30, band: low}, {below: 70, band: medium}, {band: high}]
  policy:
    rules:
      - name: deny-high
        condition: "measure.risk_band == 'high'"
        decision: deny
        reason: "Risk Score is high."
      - {name: flag-medium, condition: "measure.risk >= 30", decision: flag, reason: "medium"}
      - {name: allow, condition: "true", decision: allow, reason: "ok"}
"""


def write(tmp_path: Path, text: str, name: str = "scored") -> Path:
    directory = tmp_path / name
    directory.mkdir(exist_ok=True)
    (directory / "pack.yaml").write_text(text)
    return directory


def payment(amount: int, **extra: Any) -> dict[str, Any]:
    return {"payment": {"amount_minor": amount, **extra}}


def test_a_score_is_policy_read_by_rules_and_explained(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, SCORED))
    result = evaluate(pack, payment(200_000), {"velocity_1h": 10})
    assert result.verdict is Verdict.DENY and result.rule == "deny-high"
    (risk,) = result.measurements
    assert risk["value"] == 80 and risk["band"] == "high" and risk["unit"] == "score"
    assert [t["contribution"] for t in risk["terms"]] == [40, 30, 0]
    assert result.as_dict()["measurements"][0]["value"] == 80
    low = evaluate(pack, payment(500, age_days=10), {"velocity_1h": 0})
    assert (low.verdict, low.measurements[0]["value"], low.measurements[0]["band"]) == (
        Verdict.ALLOW,
        5,
        "low",
    )
    assert first_match(pack, {"input": payment(200_000), "measure": {"velocity_1h": 10}}) == (
        Verdict.DENY,
        "deny-high",
    )


def test_a_value_that_is_no_number_fails_closed(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, SCORED))
    result = evaluate(pack, payment(500), {"velocity_1h": "many"})
    assert result.verdict is Verdict.ERROR and result.rule is None
    assert "Measurement 'risk' could not be computed" in result.reason
    assert result.measurements[0]["error"].startswith("measure.velocity_1h is 'many'")


def test_a_pack_may_not_redefine_a_kernel_measurement(tmp_path: Path) -> None:
    text = SCORED.replace("- name: risk\n", "- name: velocity_1h\n")
    with pytest.raises(PackInvalid) as refused:
        load_pack(write(tmp_path, text))
    assert refused.value.errors[0].pointer.endswith("/spec/measurements/0/name")


def test_a_pack_without_measurements_answers_as_before(tmp_path: Path) -> None:
    text = SCORED.split("  measurements:")[0] + "  policy:" + SCORED.split("  policy:")[1]
    pack = load_pack(write(tmp_path, text))
    result = evaluate(pack, payment(1), {"risk": 90})
    assert result.measurements == () and "measurements" not in result.as_dict()
    assert result.rule == "flag-medium"


def _plugin_pack(tmp_path: Path, module: str, **limits: Any) -> Path:
    directory = write(tmp_path, "", name=f"plugged-{module}")
    (directory / "plugins").mkdir()
    shutil.copy(PLUGINS / f"{module}.wat", directory / "plugins" / f"{module}.wat")
    digest = "sha256:" + hashlib.sha256((PLUGINS / f"{module}.wat").read_bytes()).hexdigest()
    extra = "".join(f", {k}: {v}" for k, v in limits.items())
    (directory / "pack.yaml").write_text(
        f"""
api_version: "paygod/v1"
kind: Pack
metadata: {{name: "plugged", version: "1.0.0"}}
spec:
  measurements:
    - name: size
      plugin: {{module: plugins/{module}.wat, sha256: "{digest}"{extra}}}
  policy:
    rules:
      - {{name: big, condition: "measure.size > 50", decision: flag, reason: "big"}}
      - {{name: small, condition: "true", decision: allow, reason: "small"}}
"""
    )
    return directory


def test_a_plugin_measurement_decides_and_names_its_module(tmp_path: Path) -> None:
    pack = load_pack(_plugin_pack(tmp_path, "length"))
    result = evaluate(pack, payment(1), {})
    assert result.verdict is Verdict.FLAG
    (size,) = result.measurements
    assert size["value"] == len(b'{"input":{"payment":{"amount_minor":1}},"measure":{}}')
    assert size["plugin"]["module"] == "plugins/length.wat"
    assert size["plugin"]["sha256"].startswith("sha256:")
    again = evaluate(pack, payment(1), {})
    assert again.as_dict() == result.as_dict()


@pytest.mark.parametrize(
    ("module", "reason"),
    [("forever", "ran out of fuel"), ("junk", "not JSON"), ("greedy", "unreachable")],
)
def test_a_failing_plugin_fails_the_pack_closed(tmp_path: Path, module: str, reason: str) -> None:
    pack = load_pack(_plugin_pack(tmp_path, module))
    result = evaluate(pack, payment(1), {})
    assert result.verdict is Verdict.ERROR
    assert reason in result.reason and reason in result.measurements[0]["error"]


def test_a_module_that_differs_from_its_pin_or_imports_is_refused(tmp_path: Path) -> None:
    directory = _plugin_pack(tmp_path, "length")
    (directory / "plugins" / "length.wat").write_text(
        ";; edited\n" + (PLUGINS / "length.wat").read_text()
    )
    with pytest.raises(PackInvalid, match="the pack pins"):
        load_pack(directory)
    with pytest.raises(PackInvalid, match="may import nothing"):
        load_pack(_plugin_pack(tmp_path, "imports"))
