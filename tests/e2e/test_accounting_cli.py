"""`paygod accounts|transfers|reconcile` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_accounts_transfers_audit_and_reconcile(paygod_home: Path, tmp_path: Path) -> None:
    ok = run_cli(
        "accounts",
        "create",
        "--id",
        "wallet",
        "--ledger",
        "EUR",
        "--code",
        "liability",
        "--flag",
        "debits_must_not_exceed_credits",
        "--json",
    )
    assert ok.code == 0, ok.stderr
    assert json.loads(ok.stdout)["flags"] == ["debits_must_not_exceed_credits"]
    assert (
        run_cli("accounts", "create", "--id", "bank", "--ledger", "EUR", "--code", "asset").code
        == 0
    )
    fund = run_cli(
        "transfers",
        "create",
        "--id",
        "f1",
        "--debit",
        "bank",
        "--credit",
        "wallet",
        "--amount",
        "1000",
        "--json",
    )
    assert fund.code == 0, fund.stderr
    overdraw = run_cli(
        "transfers",
        "create",
        "--id",
        "x",
        "--debit",
        "wallet",
        "--credit",
        "bank",
        "--amount",
        "1001",
    )
    assert overdraw.code == 1 and "exceed" in overdraw.stderr
    zero = run_cli(
        "transfers", "create", "--id", "z", "--debit", "bank", "--credit", "wallet", "--amount", "0"
    )
    assert zero.code == 2 and "amount" in zero.stderr
    floaty = run_cli(
        "transfers",
        "create",
        "--id",
        "z",
        "--debit",
        "bank",
        "--credit",
        "wallet",
        "--amount",
        "1.5",
    )
    assert floaty.code == 2
    hold = run_cli(
        "transfers",
        "create",
        "--id",
        "h",
        "--debit",
        "wallet",
        "--credit",
        "bank",
        "--amount",
        "300",
        "--pending",
        "--timeout",
        "3600",
    )
    assert hold.code == 0, hold.stderr
    post = run_cli("transfers", "post", "h", "--amount", "100", "--json")
    assert post.code == 0 and json.loads(post.stdout)["amount"] == 100
    again = run_cli("transfers", "void", "h")
    assert again.code == 1 and "already posted" in again.stderr
    bal = json.loads(run_cli("accounts", "balance", "wallet", "--json").stdout)
    assert bal["balance"] == 900
    audit = run_cli("accounts", "audit", "--json")
    assert audit.code == 0 and json.loads(audit.stdout)["ok"] is True
    tb = run_cli("accounts", "trial-balance", "--json")
    assert tb.code == 0 and json.loads(tb.stdout)["balanced"] is True
    export = run_cli("accounts", "export", "--format", "csv")
    assert export.stdout.splitlines()[0].startswith("id,timestamp")
    statement = tmp_path / "bank.csv"
    statement.write_text("date,amount,reference\n2026-01-01,99.99,nothing\n", encoding="utf-8")
    rec = run_cli("reconcile", "--statement", str(statement), "--account", "bank", "--json")
    assert rec.code == 0, rec.stderr
    report = json.loads(rec.stdout)
    assert len(report["unmatched_statement_lines"]) == 1
    missing = run_cli("accounts", "show", "nope")
    assert missing.code == 2 and "not found" in missing.stderr


def test_an_account_can_belong_to_an_agent_of_its_tenant(paygod_home: Path) -> None:
    agent = json.loads(run_cli("agents", "create", "bot", "--tenant", "acme", "--json").stdout)
    owner = agent["principal_id"]
    made = run_cli(
        "accounts", "create", "--id", "bot-wallet", "--ledger", "USD", "--code", "liability",
        "--owner", owner, "--tenant", "acme", "--json",
    )  # fmt: skip
    assert made.code == 0, made.stderr
    assert json.loads(made.stdout)["owner"] == owner
    # An owner from another tenant (or no one) is bad input: exit 2, one line, nothing opened.
    stranger = run_cli(
        "accounts", "create", "--id", "other-wallet", "--ledger", "USD", "--code", "liability",
        "--owner", owner, "--tenant", "globex",
    )  # fmt: skip
    assert stranger.code == 2 and "--owner" in stranger.stderr
    assert len(stranger.stderr.strip().splitlines()) == 1
    listed = run_cli("accounts", "list", "--tenant", "globex", "--json")
    assert listed.code == 0 and "other-wallet" not in listed.stdout
