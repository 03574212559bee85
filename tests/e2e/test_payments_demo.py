"""`paygod demo` includes the payments tour and ends with a verified ledger."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import run_cli


def test_demo_pays_through_several_rails(paygod_home: Path) -> None:
    result = run_cli("demo", env={"PAYGOD_LOG_LEVEL": "error", "COLUMNS": "200"})
    assert result.code == 0, result.stderr + result.stdout
    out = result.stdout
    assert "approved by human:treasurer" in out
    assert "ach → instant" in out  # the failover
    assert "rail calls 0" in out  # the panic switch held the batch
    assert "denied" in out
    assert "verification passed" in out
