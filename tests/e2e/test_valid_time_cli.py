"""`paygod transfers create --valid-from` and `accounts balance --valid-at --recorded-at`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def _ok(*args: str) -> dict[str, object]:
    out = run_cli(*args, "--json")
    assert out.code == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_backdate_and_read_both_axes(paygod_home: Path) -> None:
    _ok(
        "accounts",
        "create",
        "--id",
        "w",
        "--ledger",
        "EUR",
        "--code",
        "liability",
        "--flag",
        "debits_must_not_exceed_credits",
    )
    _ok("accounts", "create", "--id", "bank", "--ledger", "EUR", "--code", "asset")
    fund = _ok(
        "transfers", "create", "--id", "f", "--debit", "bank", "--credit", "w", "--amount", "100"
    )
    _ok("transfers", "create", "--id", "s", "--debit", "w", "--credit", "bank", "--amount", "90")
    _ok("transfers", "create", "--id", "t", "--debit", "bank", "--credit", "w", "--amount", "50")
    refused = run_cli(
        "transfers",
        "create",
        "--id",
        "l",
        "--debit",
        "w",
        "--credit",
        "bank",
        "--amount",
        "20",
        "--valid-from",
        str(fund["timestamp"]),
    )
    assert refused.code != 0
    assert "would have had debits exceeding its credits at" in refused.stderr
    _ok(
        "transfers",
        "create",
        "--id",
        "l2",
        "--debit",
        "w",
        "--credit",
        "bank",
        "--amount",
        "10",
        "--valid-from",
        str(fund["timestamp"]),
    )
    then = _ok("accounts", "balance", "w", "--valid-at", str(fund["timestamp"]))
    assert then["balance"] == 90
    known = _ok(
        "accounts",
        "balance",
        "w",
        "--valid-at",
        str(fund["timestamp"]),
        "--recorded-at",
        str(fund["timestamp"]),
    )
    assert known["balance"] == 100
    bad = run_cli("accounts", "balance", "w", "--valid-at", "soon")
    assert bad.code == 2 and "--valid-at" in bad.stderr
