"""Packs written by other authors for the paygod/v1 format, driven through the CLI.

The packs under tests/fixtures/packs-v1/ are written as another author would: block and
flow style, quoted and unquoted scalars, CRLF line endings, a UTF-8 byte order mark,
unicode in names and reasons, manifest.json present (one with a BOM) and absent. Their
cases use every matcher operator of the reference contract (equals, contains, regex, gt,
lt) on decision, reason, rule and the outcome trace.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import jsonschema_rs
import pytest

from paygod.decisions.packs import load_cases
from tests.e2e.conftest import run_cli

FIXTURES = Path(__file__).parent.parent / "fixtures" / "packs-v1"
PACKS = sorted(p.name for p in FIXTURES.iterdir() if (p / "pack.yaml").is_file())
CLOCK = {"PAYGOD_CLOCK": "2026-01-28T11:05:08Z"}
BUNDLE = ["findings.json", "ledger.jsonl", "manifest.json", "plan.json", "receipt.json"]


def test_the_fixture_set_covers_the_formats_it_claims() -> None:
    raw = {name: (FIXTURES / name / "pack.yaml").read_bytes() for name in PACKS}
    assert len(PACKS) >= 6
    assert any(b"\r\n" in data for data in raw.values())
    assert any(data.startswith(b"\xef\xbb\xbf") for data in raw.values())
    manifests = [FIXTURES / name / "manifest.json" for name in PACKS]
    assert any(m.is_file() for m in manifests) and not all(m.is_file() for m in manifests)
    assert any(m.is_file() and m.read_bytes().startswith(b"\xef\xbb\xbf") for m in manifests)
    operators = {
        matcher["operator"]
        for name in PACKS
        for case in load_cases(FIXTURES / name)
        for matcher in case.matchers
    }
    assert operators == {"equals", "contains", "regex", "gt", "lt"}


@pytest.mark.parametrize("name", PACKS)
def test_pack_tests_pass_and_report_every_case(name: str) -> None:
    result = run_cli("test", "--pack", str(FIXTURES / name), "--json")
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    cases = load_cases(FIXTURES / name)
    assert report["summary"] == {"total": len(cases), "passed": len(cases), "failed": 0}
    assert [r["name"] for r in report["results"]] == [c.name for c in cases]
    for row, case in zip(report["results"], cases, strict=True):
        assert {"name", "status", "expected", "actual", "reason"} <= set(row)
        assert (row["status"], row["expected"], row["actual"]) == (
            "pass",
            case.expected,
            case.expected,
        )
        assert isinstance(row["reason"], str) and row["reason"]


@pytest.mark.parametrize("name", PACKS)
def test_a_wrong_expectation_fails_with_exit_1(name: str, tmp_path: Path) -> None:
    # Swap the first case's expected decision for another verdict: the report must say so.
    pack = tmp_path / name
    shutil.copytree(FIXTURES / name, pack)
    first = load_cases(pack)[0]
    wrong = "allow" if first.expected != "allow" else "deny"
    cases = pack / "tests" / "cases.yaml"
    text = cases.read_bytes().decode("utf-8")
    marker = {
        "deny": ["decision: deny", 'decision: "deny"', "decision: 'deny'"],
        "allow": ["decision: allow", 'decision: "allow"', "decision: 'allow'"],
        "flag": ["decision: flag", 'decision: "flag"', "decision: 'flag'"],
        "error": ["decision: error", 'decision: "error"', "decision: 'error'"],
    }[first.expected]
    at = min(i for i in (text.find(m) for m in marker) if i >= 0)
    found = next(m for m in marker if text.startswith(m, at))
    cases.write_bytes(
        (text[:at] + found.replace(first.expected, wrong) + text[at + len(found) :]).encode()
    )
    result = run_cli("test", "--pack", str(pack), "--json")
    assert result.code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 1
    assert report["summary"]["passed"] == report["summary"]["total"] - 1
    row = report["results"][0]
    assert (row["status"], row["expected"], row["actual"]) == ("fail", wrong, first.expected)


@pytest.mark.parametrize("name", PACKS)
def test_validate_accepts_the_pack_and_its_cases(name: str) -> None:
    result = run_cli("validate", str(FIXTURES / name), "--json")
    assert result.code == 0, result.stdout + result.stderr
    (row,) = json.loads(result.stdout)["results"]
    assert row["status"] == "valid"
    assert f"{len(load_cases(FIXTURES / name))} test cases" in row["message"]


@pytest.mark.parametrize("name", PACKS)
def test_run_is_reproducible_and_agrees_with_test(
    name: str, tmp_path: Path, reference_dir: Path
) -> None:
    pack = FIXTURES / name
    report = json.loads(run_cli("test", "--pack", str(pack), "--json").stdout)
    verdicts = {row["name"]: row for row in report["results"]}
    case = next(c for c in load_cases(pack) if "invalid input" not in verdicts[c.name]["reason"])
    source = tmp_path / "input.json"
    source.write_text(json.dumps(case.input, ensure_ascii=False), encoding="utf-8")
    for out in ("a", "b"):
        args = ["run", "--pack", str(pack), "--input", str(source), "--out", str(tmp_path / out)]
        result = run_cli(*args, env={**CLOCK, "PAYGOD_HOME": str(tmp_path / "home")})
        assert result.code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == BUNDLE
    for file in BUNDLE:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    receipt = json.loads((tmp_path / "a" / "receipt.json").read_text("utf-8"))
    contract = json.loads((reference_dir / "contracts" / "receipt.schema.json").read_text())
    jsonschema_rs.validator_for(contract).validate(receipt)
    decided = verdicts[case.name]["actual"]
    assert receipt["verdict"]["value"] == ("allow" if decided == "flag" else decided)
    assert (
        receipt["pack"]["digest_sha256"]
        == hashlib.sha256((pack / "pack.yaml").read_bytes()).hexdigest()
    )
    findings = json.loads((tmp_path / "a" / "findings.json").read_text("utf-8"))["findings"]
    assert bool(findings) is (decided in ("flag", "error"))
    (line,) = (tmp_path / "a" / "ledger.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["data"]["verdict"] == decided
    verified = run_cli("validate", str(tmp_path / "a" / "ledger.jsonl"), "--json")
    assert verified.code == 0, verified.stdout


def _broken_copy(tmp_path: Path, name: str, old: bytes, new: bytes) -> Path:
    pack = tmp_path / name
    shutil.copytree(FIXTURES / name, pack)
    source = (pack / "pack.yaml").read_bytes()
    assert old in source
    (pack / "pack.yaml").write_bytes(source.replace(old, new, 1))
    return pack


@pytest.mark.parametrize(
    ("name", "old", "new", "where"),
    [
        # A `|` block: the error names the file line of the offending text.
        (
            "eu-data-residency",
            b"and not input",
            b"and not = input",
            "/spec/policy/rules/0/condition: pack.yaml:24: line 2, column 11: unexpected character",
        ),
        # A double-quoted flow scalar over two lines (CRLF file).
        (
            "mobile-release-gate",
            b"s.status == 'failed'",
            b"s.status === 'failed'",
            "/spec/policy/rules/1/condition: pack.yaml:12: column 57: unexpected character '='",
        ),
        # A plain scalar; the file starts with a byte order mark.
        (
            "kyc-onboarding-guard",
            b"> ''Z''",
            b"> ''Z'' and",
            "/spec/policy/rules/2/condition: pack.yaml:30: column 38: unexpected end of condition",
        ),
    ],
)
def test_syntax_error_refuses_the_pack_with_file_rule_and_column(
    name: str, old: bytes, new: bytes, where: str, tmp_path: Path
) -> None:
    pack = _broken_copy(tmp_path, name, old, new)
    result = run_cli("test", "--pack", str(pack))
    assert result.code == 2
    assert where in " ".join(result.stderr.split()), result.stderr
    as_json = run_cli("test", "--pack", str(pack), "--json")
    assert as_json.code == 2
    assert json.loads(as_json.stdout)["status"] == "error"
    assert "/condition" in json.loads(as_json.stdout)["message"]
    # Nothing is recorded for a refused pack.
    source = tmp_path / "input.json"
    source.write_text("{}")
    out = tmp_path / "out"
    ran = run_cli("run", "--pack", str(pack), "--input", str(source), "--out", str(out), env=CLOCK)
    assert ran.code == 2
    assert not out.exists()
    validated = run_cli("validate", str(pack), "--json")
    assert validated.code == 2
    assert json.loads(validated.stdout)["results"][0]["status"] == "invalid"


@pytest.mark.parametrize("name", PACKS)
def test_human_output_prints_names_and_reasons_as_written(name: str, tmp_path: Path) -> None:
    # Names and reasons are other people's text: "[/policies/...]", "[bold]", ":warning:"
    # must come out as written, one line each, never read as rich markup (a closing tag
    # with nothing open was a MarkupError traceback) nor wrapped at 80 columns.
    pack = FIXTURES / name
    result = run_cli("test", "--pack", str(pack))
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for case in load_cases(pack):
        assert f"  PASS {case.name} ({case.expected})" in lines, result.stdout
    case = load_cases(pack)[0]
    source = tmp_path / "input.json"
    source.write_text(json.dumps(case.input, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    ran = run_cli("run", "--pack", str(pack), "--input", str(source), "--out", str(out), env=CLOCK)
    if ran.code == 2:  # a case whose input the pack refuses: nothing to print
        return
    assert ran.code == 0, ran.stderr
    data = json.loads((out / "ledger.jsonl").read_text("utf-8"))["data"]
    rule = data["rule_name"] or "-"
    expected = f"OK: {data['verdict']} by rule {rule}: {data['reason']} (bundle in {out})"
    assert ran.stdout.splitlines() == [expected]
