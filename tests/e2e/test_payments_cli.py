"""`paygod payments ...` as a user drives it: quote, create, review by a second person."""

from __future__ import annotations

import json
from pathlib import Path

from paygod.bootstrap import build_kernel
from tests.e2e.conftest import run_cli
from tests.support.accounts import open_funded_payer

PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}


def test_quote_create_and_review_from_the_cli(paygod_home: Path, tmp_path: Path) -> None:
    quote = run_cli("payments", "quote", "--amount", "10000", "--currency", "USD", "--json")
    assert quote.code == 0, quote.stderr
    assert json.loads(quote.stdout)["rail"] == "internal"  # no payee given: free book transfer
    bad = run_cli("payments", "quote", "--amount", "100", "--currency", "USD", "--prefer", "x")
    assert bad.code == 2 and "rail_preference" in bad.stderr

    kernel = build_kernel()
    try:
        open_funded_payer(kernel.accounting, amount=10_000_000)
    finally:
        kernel.close()
    request = tmp_path / "pay.json"
    request.write_text(
        json.dumps(
            {
                "payer_account": "agent-1",
                "payee": PAYEE,
                "amount": 1_500_000,
                "currency": "USD",
                "purpose": "machine parts",
                "rail_preference": "wire",
                "metadata": {"counterparty_verified": True},
            }
        )
    )
    created = run_cli(
        "payments", "create", str(request), "--idempotency-key", "cli-1", "--as", "maker", "--json"
    )
    assert created.code == 0, created.stderr
    payment = json.loads(created.stdout)
    assert payment["decision"]["verdict"] == "review"
    own = run_cli("payments", "approve", payment["payment_id"], "--as", "maker")
    assert own.code == 2 and "maker-checker" in own.stderr
    ok = run_cli("payments", "approve", payment["payment_id"], "--as", "checker", "--json")
    assert ok.code == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "held"
    drained = run_cli("worker", "--once", "--json")
    assert json.loads(drained.stdout)["done"] >= 1
    shown = run_cli("payments", "show", payment["payment_id"], "--json")
    data = json.loads(shown.stdout)
    assert data["status"] == "settled" and data["rail"] == "wire"
    assert "approved" in [h["transition"] for h in data["history"]]
