"""The original paygod/v1 kernel's own packs (tests/fixtures/packs-original) run unchanged.

Every paygod/v1 pack.yaml must load (`paygod validate`) and every pack with tests/cases.yaml
must pass `paygod test --pack DIR`, case by case, with the verdict the case file expects. The
pre-paygod/v1 drafts the original ships under `_drafts` (pack_id, version, modules, tests)
are another format: refused, naming the first missing member (issue 16).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paygod.decisions.packs import CASES_FILE, load_cases
from tests.e2e.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "packs-original"
ALL_DIRS = sorted(p.parent for p in ROOT.rglob("pack.yaml"))
DRAFTS = [d for d in ALL_DIRS if "pack_id:" in (d / "pack.yaml").read_text()]
PACK_DIRS = [d for d in ALL_DIRS if d not in DRAFTS]
TESTED = [d for d in PACK_DIRS if (d / CASES_FILE).is_file()]


def _id(directory: Path) -> str:
    return directory.relative_to(ROOT).as_posix()


def test_the_fixtures_are_there() -> None:
    # Guards against an empty parametrisation passing vacuously.
    assert len(PACK_DIRS) >= 10
    assert len(TESTED) >= 7
    assert len(DRAFTS) >= 5


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


@pytest.mark.parametrize("directory", DRAFTS, ids=_id)
def test_a_pre_paygod_v1_draft_is_refused_not_run(directory: Path) -> None:
    result = run_cli("validate", str(directory))
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"error: {directory / 'pack.yaml'} is not a paygod/v1 pack: /api_version is missing"
    )
