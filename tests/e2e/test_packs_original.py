"""The original paygod/v1 kernel's own packs (tests/fixtures/packs-original) run unchanged.

Every pack.yaml must load (`paygod validate`) and every pack with tests/cases.yaml must pass
`paygod test --pack DIR`, case by case, with the verdict the case file expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paygod.decisions.packs import CASES_FILE, load_cases
from tests.e2e.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "packs-original"
PACK_DIRS = sorted(p.parent for p in ROOT.rglob("pack.yaml"))
TESTED = [d for d in PACK_DIRS if (d / CASES_FILE).is_file()]


def _id(directory: Path) -> str:
    return directory.relative_to(ROOT).as_posix()


def test_the_fixtures_are_there() -> None:
    # Guards against an empty parametrisation passing vacuously.
    assert len(PACK_DIRS) >= 15
    assert len(TESTED) >= 7


@pytest.mark.parametrize("directory", TESTED, ids=_id)
def test_every_case_of_the_original_packs_passes(directory: Path) -> None:
    result = run_cli("test", "--pack", str(directory), "--json")
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    cases = load_cases(directory)
    assert report["summary"] == {"total": len(cases), "passed": len(cases), "failed": 0}
    assert [r["name"] for r in report["results"]] == [c.name for c in cases]
    for row, case in zip(report["results"], cases, strict=True):
        assert row["status"] == "pass", row
        assert row["actual"] == case.expected, row


@pytest.mark.parametrize("directory", PACK_DIRS, ids=_id)
def test_every_original_pack_yaml_loads(directory: Path) -> None:
    result = run_cli("validate", str(directory), "--json")
    assert result.code == 0, result.stdout + result.stderr
    (row,) = json.loads(result.stdout)["results"]
    assert row["status"] == "valid", row
