from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest

from tests.e2e.conftest import run_cli

REFERENCE_PACKS = ["critical-cve-blocker", "cross-border-pii-guard", "secrets-in-repo-guard"]


@pytest.mark.parametrize("name", REFERENCE_PACKS)
def test_reference_pack_tests_pass_unchanged(reference_dir: Path, name: str) -> None:
    result = run_cli("test", "--pack", str(reference_dir / "packs" / name), "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0
    assert report["summary"]["total"] == report["summary"]["passed"] >= 2
    assert set(report["results"][0]) >= {"name", "status", "expected", "actual", "reason"}


def test_failing_case_is_exit_1(reference_dir: Path, tmp_path: Path) -> None:
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(reference_dir / "packs" / "secrets-in-repo-guard", pack)
    cases = pack / "tests" / "cases.yaml"
    cases.write_text(cases.read_text().replace('decision: "allow"', 'decision: "deny"'))
    result = run_cli("test", "--pack", str(pack), "--json")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert report["summary"] == {"total": 2, "passed": 1, "failed": 1}
    failed = next(r for r in report["results"] if r["status"] == "fail")
    assert (failed["expected"], failed["actual"]) == ("deny", "allow")


def test_broken_pack_is_exit_2_with_line_and_pointer(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pack.yaml").write_text(
        'api_version: "paygod/v1"\nkind: Pack\nmetadata: {name: "x", version: "1.0.0"}\n'
        "spec:\n  policy:\n    rules:\n"
        '      - {name: "a", condition: "input.a ===", decision: "deny", reason: "r"}\n'
    )
    (tmp_path / "tests" / "cases.yaml").write_text("cases: []\n")
    result = run_cli("test", "--pack", str(tmp_path))
    assert result.code == 2
    assert "pack.yaml:7" in result.stderr
    assert "/spec/policy/rules/0/condition" in result.stderr
    assert "column 11" in result.stderr
    as_json = run_cli("test", "--pack", str(tmp_path), "--json")
    assert as_json.code == 2
    assert json.loads(as_json.stdout)["status"] == "error"


def test_run_is_byte_for_byte_reproducible_and_receipt_follows_contract(
    reference_dir: Path, tmp_path: Path
) -> None:
    pack = reference_dir / "packs" / "critical-cve-blocker"
    source = tmp_path / "input.json"
    source.write_text(
        json.dumps({"scan_report": {"vulnerabilities": [{"cvss_score": 9.8, "status": "active"}]}})
    )
    env = {"PAYGOD_CLOCK": "2026-01-28T11:05:08Z", "PAYGOD_HOME": str(tmp_path / "home")}
    for out in ("a", "b"):
        result = run_cli(
            "run",
            "--pack",
            str(pack),
            "--input",
            str(source),
            "--out",
            str(tmp_path / out),
            env=env,
        )
        assert result.code == 0, result.stderr
    names = ["findings.json", "ledger.jsonl", "manifest.json", "plan.json", "receipt.json"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    receipt = json.loads((tmp_path / "a" / "receipt.json").read_text())
    contract = json.loads((reference_dir / "contracts" / "receipt.schema.json").read_text())
    jsonschema_rs.validator_for(contract).validate(receipt)
    assert receipt["verdict"]["value"] == "deny"
    assert receipt["clock"] == {"value": "2026-01-28T11:05:08Z", "source": "env:PAYGOD_CLOCK"}
    assert (
        receipt["pack"]["digest_sha256"]
        == __import__("hashlib").sha256((pack / "pack.yaml").read_bytes()).hexdigest()
    )
    verified = run_cli("validate", str(tmp_path / "a" / "ledger.jsonl"), "--json")
    assert verified.code == 0, verified.stdout


def test_validate_reports_each_path(reference_dir: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "ledger.jsonl"
    tampered.write_text(
        json.dumps(
            {
                "entry_index": 0,
                "timestamp": "t",
                "previous_hash": "0" * 64,
                "data": {},
                "record_hash": "f" * 64,
            }
        )
        + "\n"
    )
    pack = reference_dir / "packs" / "critical-cve-blocker"
    result = run_cli("validate", str(pack), str(tampered), "--json")
    report = json.loads(result.stdout)
    assert result.code == 1
    assert [r["status"] for r in report["results"]] == ["valid", "invalid"]
    assert "record_hash" in report["results"][1]["message"]


def test_packs_lint_and_list(tmp_path: Path) -> None:
    pack = tmp_path / "packs" / "p"
    pack.mkdir(parents=True)
    (pack / "pack.yaml").write_text(
        'api_version: "paygod/v1"\nkind: Pack\nmetadata: {name: "p", version: "1.0.0"}\n'
        "spec:\n  policy:\n    rules:\n"
        '      - {name: "all", condition: "true", decision: "allow", reason: "r"}\n'
        '      - {name: "never", condition: "input.a > 1", decision: "deny", reason: "r"}\n'
    )
    lint = run_cli("packs", "lint", str(pack), "--json")
    assert lint.code == 1
    assert json.loads(lint.stdout)["findings"][0]["rule"] == "never"
    listed = run_cli("packs", "list", "--json", env={"PAYGOD_PACKS": str(tmp_path / "packs")})
    assert listed.code == 0, listed.stderr
    assert [p["name"] for p in json.loads(listed.stdout)["packs"]] == ["p"]
    bundled = run_cli("packs", "list", "--json", env={"PAYGOD_PACKS": str(tmp_path / "none")})
    assert json.loads(bundled.stdout)["bundled"] is True
