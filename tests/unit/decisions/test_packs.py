from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from paygod.decisions.engine import evaluate, evaluate_set
from paygod.decisions.lint import lint_pack
from paygod.decisions.model import Verdict
from paygod.decisions.packs import (
    DEFAULT_PACKS_DIR,
    PackInvalid,
    PackRepository,
    load_pack,
    pack_digest,
    validate_input,
)
from paygod.decisions.testing import check_matcher, run_pack_tests

OWN_PACKS = Path(__file__).parent / "packs"
REFERENCE_PACKS = ["critical-cve-blocker", "cross-border-pii-guard", "secrets-in-repo-guard"]

GOOD = """api_version: "paygod/v1"
kind: Pack
metadata:
  name: "limits"
  version: "1.0.0"
spec:
  inputs:
    - name: "payment"
      schema:
        type: "object"
        required: ["amount"]
        properties:
          amount: { type: "integer" }
  policy:
    rules:
      - name: "big"
        condition: "input.payment.amount > 100"
        decision: "deny"
        reason: "Too big."
      - name: "small"
        condition: "input.payment.amount <= 100"
        decision: "allow"
        reason: "Small."
"""


def write_pack(directory: Path, text: str = GOOD) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pack.yaml").write_text(text)
    return directory


@pytest.mark.parametrize("name", REFERENCE_PACKS)
def test_reference_packs_pass_their_tests_unchanged(reference_dir: Path, name: str) -> None:
    report = run_pack_tests(reference_dir / "packs" / name)
    assert report.failed == 0
    assert report.passed == len(report.results) >= 2


@pytest.mark.parametrize("name", sorted(p.name for p in OWN_PACKS.iterdir()))
def test_own_realistic_packs_pass(name: str) -> None:
    report = run_pack_tests(OWN_PACKS / name)
    assert report.failed == 0, [r.as_dict() for r in report.results if r.status != "pass"]


@pytest.mark.parametrize("name", sorted(p.name for p in DEFAULT_PACKS_DIR.iterdir()))
def test_bundled_default_packs_pass(name: str) -> None:
    report = run_pack_tests(DEFAULT_PACKS_DIR / name)
    assert report.failed == 0, [r.as_dict() for r in report.results if r.status != "pass"]
    assert len(report.results) >= 4


def test_digest_is_sha256_of_pack_yaml_bytes(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path / "p"))
    assert (
        pack.digest
        == pack_digest(GOOD.encode())
        == __import__("hashlib").sha256(GOOD.encode()).hexdigest()
    )


def test_bad_condition_names_file_line_pointer_and_column(tmp_path: Path) -> None:
    text = GOOD.replace("input.payment.amount <= 100", "input.payment.amount <== 100")
    with pytest.raises(PackInvalid) as info:
        load_pack(write_pack(tmp_path / "p", text))
    error = info.value.errors[0]
    assert error.pointer == "/spec/policy/rules/1/condition"
    assert error.message.startswith("pack.yaml:21: column 24: unexpected")


def test_schema_violation_names_line_and_pointer(tmp_path: Path) -> None:
    text = GOOD.replace('decision: "allow"', 'decision: "maybe"')
    with pytest.raises(PackInvalid) as info:
        load_pack(write_pack(tmp_path / "p", text))
    error = info.value.errors[0]
    assert error.pointer == "/spec/policy/rules/1/decision"
    assert error.message.startswith("pack.yaml:22: ")
    assert "maybe" in error.message


def test_unknown_field_and_bad_version_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace('version: "1.0.0"', 'version: "1.0"').replace(
        'reason: "Small."', 'reason: "Small."\n        weight: 3'
    )
    with pytest.raises(PackInvalid) as info:
        load_pack(write_pack(tmp_path / "p", text))
    pointers = {e.pointer for e in info.value.errors}
    assert pointers == {"/metadata/version", "/spec/policy/rules/1"}


def test_duplicate_rule_names_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace('name: "small"', 'name: "big"')
    with pytest.raises(PackInvalid, match="duplicate rule name 'big'"):
        load_pack(write_pack(tmp_path / "p", text))


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(PackInvalid, match=r"pack.yaml is not valid YAML:3"):
        load_pack(write_pack(tmp_path / "p", "a: 1\nb: [1,\nc: }"))


def test_missing_pack_file(tmp_path: Path) -> None:
    with pytest.raises(PackInvalid, match=r"pack\.yaml not found"):
        load_pack(tmp_path)


def test_input_validation_gives_pointers(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path / "p"))
    assert validate_input(pack, {"payment": {"amount": 5}}) == []
    errors = validate_input(pack, {"payment": {"amount": "5"}})
    assert [e.pointer for e in errors] == ["/payment/amount"]
    assert validate_input(pack, [1])[0].pointer == ""


def test_first_match_wins_and_trace_explains(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path / "p"))
    result = evaluate(pack, {"payment": {"amount": 500}})
    assert (result.verdict, result.rule) == (Verdict.DENY, "big")
    assert [o.status for o in result.outcomes] == ["matched", "skipped"]
    assert result.outcomes[0].values == {"input.payment.amount": 500}
    allowed = evaluate(pack, {"payment": {"amount": 5}})
    assert [o.status for o in allowed.outcomes] == ["not_matched", "matched"]


def test_no_match_is_error_with_reason(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path / "p"))
    result = evaluate(pack, {"payment": {}})
    assert result.verdict is Verdict.ERROR
    assert result.rule is None
    assert "No policy rule matched" in result.reason


def test_evaluation_error_fails_closed(tmp_path: Path) -> None:
    text = GOOD.replace("input.payment.amount > 100", "input.payment.amount / 0 > 100")
    pack = load_pack(write_pack(tmp_path / "p", text))
    result = evaluate(pack, {"payment": {"amount": 1}})
    assert result.verdict is Verdict.ERROR
    assert "division by zero" in result.reason
    assert result.outcomes[0].status == "error"


def test_policy_set_strictest_wins(tmp_path: Path) -> None:
    limits = load_pack(write_pack(tmp_path / "a"))
    flagger = load_pack(
        write_pack(
            tmp_path / "b",
            GOOD.replace('"limits"', '"flagger"').replace('decision: "allow"', 'decision: "flag"'),
        )
    )
    result = evaluate_set([limits, flagger], {"payment": {"amount": 5}})
    assert result.verdict is Verdict.FLAG
    assert result.deciding.pack == "flagger"
    assert [r.verdict for r in result.results] == [Verdict.ALLOW, Verdict.FLAG]
    denied = evaluate_set([flagger, limits], {"payment": {"amount": 500}})
    assert denied.verdict is Verdict.DENY
    assert denied.deciding.pack == "flagger"  # tie: first pack in order decides
    assert Verdict.DENY.severity > Verdict.ERROR.severity > Verdict.FLAG.severity


def test_repository_reloads_and_refuses_a_broken_version(tmp_path: Path) -> None:
    directory = write_pack(tmp_path / "packs" / "limits")
    repo = PackRepository(tmp_path / "packs", poll_seconds=0)
    first = repo.get("limits")
    assert first is not None
    changed = GOOD.replace("> 100", "> 1000").replace("<= 100", "<= 1000")
    (directory / "pack.yaml").write_text(changed)
    os.utime(directory / "pack.yaml", ns=(1, 1))
    second = repo.get("limits")
    assert second is not None and second.digest != first.digest
    (directory / "pack.yaml").write_text(changed.replace("input.payment", "input..payment"))
    os.utime(directory / "pack.yaml", ns=(2, 2))
    still = repo.get("limits")
    assert still is not None and still.digest == second.digest
    assert str(directory) in repo.problems
    assert repo.by_digest(first.digest) is first


def test_repository_falls_back_to_bundled_defaults(tmp_path: Path) -> None:
    repo = PackRepository(tmp_path / "absent")
    assert repo.bundled
    assert {p.name for p in repo.packs()} >= {"agent-payment-limits", "high-risk-review"}


def test_matchers() -> None:
    record = {"decision": "deny", "reason": "Too big.", "score": 7, "tags": ["a"]}
    assert (
        check_matcher(record, {"field": "reason", "operator": "contains", "value": "big"}) is None
    )
    assert check_matcher(record, {"field": "reason", "operator": "regex", "value": "^Too"}) is None
    assert check_matcher(record, {"field": "score", "operator": "gt", "value": 5}) is None
    assert check_matcher(record, {"field": "score", "operator": "lt", "value": 8}) is None
    assert check_matcher(record, {"field": "tags", "operator": "contains", "value": "a"}) is None
    assert (
        check_matcher(record, {"field": "decision", "operator": "equals", "value": "deny"}) is None
    )
    failed = check_matcher(record, {"field": "score", "operator": "gt", "value": 9})
    assert failed is not None and "actual 7" in failed


def test_lint_finds_unreachable_constant_false_and_unknown_paths(tmp_path: Path) -> None:
    text = GOOD.replace(
        'condition: "input.payment.amount > 100"', 'condition: "input.payment.amont > 100 or true"'
    )
    text = text.replace('condition: "input.payment.amount <= 100"', 'condition: "1 > 2"')
    pack = load_pack(write_pack(tmp_path / "p", text))
    messages = [f.message for f in lint_pack(pack)]
    assert any("unknown path input.payment.amont" in m for m in messages)
    assert any("never fires: rule 'big'" in m for m in messages) is False  # 'big' reads input
    assert any("always false" in m for m in messages)


def test_lint_reports_rules_after_a_catch_all(tmp_path: Path) -> None:
    text = GOOD.replace('condition: "input.payment.amount > 100"', 'condition: "true"')
    pack = load_pack(write_pack(tmp_path / "p", text))
    findings = lint_pack(pack)
    assert [(f.rule, f.message) for f in findings] == [
        ("small", "never fires: rule 'big' before it always matches")
    ]


def test_reference_packs_lint_clean(reference_dir: Path, tmp_path: Path) -> None:
    for name in REFERENCE_PACKS:
        shutil.copytree(reference_dir / "packs" / name, tmp_path / name)
        assert lint_pack(load_pack(tmp_path / name)) == []
