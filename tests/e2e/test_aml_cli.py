"""`paygod aml` as a user drives it: a scan over history, alerts, thresholds, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from paygod.accounting import AccountCode, AccountSpec
from paygod.accounting.model import TransferRequest
from paygod.bootstrap import build_kernel
from tests.e2e.conftest import run_cli


def _structuring_history() -> None:
    kernel = build_kernel()
    try:
        specs = [AccountSpec(ledger="USD", code=AccountCode.ASSET, id="src")]
        specs += [
            AccountSpec(ledger="USD", code=AccountCode.LIABILITY, id=f"to-{n}") for n in (1, 2, 3)
        ]
        kernel.accounting.open_accounts("default", specs)
        for n in (1, 2, 3):
            request = TransferRequest(
                id=f"t{n}", debit_account_id="src", credit_account_id=f"to-{n}",
                amount=990_000 + n, ledger="USD",
            )  # fmt: skip
            kernel.accounting.transfer("default", request)
    finally:
        kernel.close()


def test_scan_raises_once_and_alerts_list_it(paygod_home: Path) -> None:
    _structuring_history()
    dry = run_cli("aml", "scan", "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    assert json.loads(dry.stdout)["raised"] == 0
    (hit,) = json.loads(dry.stdout)["hits"]
    assert hit["typology"] == "structuring" and [t["id"] for t in hit["transactions"]] == [
        "t1",
        "t2",
        "t3",
    ]
    assert run_cli("aml", "alerts", "--json").code == 0
    scanned = json.loads(run_cli("aml", "scan", "--json").stdout)
    # `aml alerts` caught up first (the incremental pass), so the scan finds it known.
    assert scanned["raised"] == 0 and scanned["hits"][0]["raised_now"] is False
    alerts = json.loads(run_cli("aml", "alerts", "--json").stdout)["alerts"]
    assert [a["alert_id"] for a in alerts] == [hit["alert_id"]]
    shown = json.loads(run_cli("aml", "alert", hit["alert_id"], "--json").stdout)
    assert shown["seq"] is not None and shown["typology"] == "structuring"
    assert run_cli("ledger", "verify").code == 0


def test_thresholds_are_sealed_and_bad_input_is_one_line_exit_2(paygod_home: Path) -> None:
    set_ = run_cli("aml", "set-thresholds", '{"fan_count": 25}', "--as", "officer", "--json")
    assert set_.code == 0, set_.stderr
    assert json.loads(set_.stdout)["thresholds"]["fan_count"] == 25
    shown = json.loads(run_cli("aml", "thresholds", "--json").stdout)
    assert shown["thresholds"]["fan_count"] == 25 and shown["set_by"] == "officer"
    for args, where in (
        (["set-thresholds", '{"fan_count": 1}'], "/fan_count"),
        (["set-thresholds", "{not json"], "not JSON"),
        (["scan", "--from", "yesterday"], "/from"),
        (["scan", "--from", "2026-02-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z"], "/to"),
        (["alert", "aml_nope"], "no such AML alert"),
    ):
        refused = run_cli("aml", *args)
        assert refused.code == 2, (args, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) == 1 and where in refused.stderr
