"""`paygod credit line open|draw|repay|show|list|close` as a user runs them, on one
PAYGOD_HOME, the clock moved between commands by PAYGOD_CLOCK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CliResult, run_cli


def _cli(home: Path, clock: str, *args: str) -> CliResult:
    env = {"PAYGOD_HOME": str(home), "PAYGOD_CLOCK": clock, "PAYGOD_DATABASE_URL": ""}
    return run_cli(*args, env=env)


def _json(result: CliResult) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_credit_line_through_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    t0, t1 = "2026-01-05T12:00:00Z", "2026-02-04T12:00:00Z"  # 30 days apart
    application = tmp_path / "line.json"
    application.write_text(
        json.dumps(
            {
                "product_id": "revolving-credit-line",
                "applicant_ref": "urn:applicant:prime",
                "amount": 300_000,
                "currency": "USD",
                "monthly_income": 900_000,
            }
        )
    )
    made = _json(
        _cli(home, t0, "credit", "apply", "--file", str(application), "--as", "alice", "--json")
    )
    assert made["status"] == "offered" and made["offer"]["credit_limit"] == 300_000
    line_id = made["application_id"]
    _json(_cli(home, t0, "credit", "accept", line_id, "--as", "alice", "--json"))
    opened = _json(_cli(home, t0, "credit", "line", "open", line_id, "--json"))
    assert opened["status"] == "open" and opened["ledger"]["inclusion_proof"]
    draw = ("credit", "line", "draw", line_id, "--currency", "USD", "--json")
    over = _cli(home, t0, *draw, "--amount", "300001", "--idempotency-key", "d0")
    assert over.code == 1 and over.stdout == "" and len(over.stderr.strip().splitlines()) == 1
    for bad in (["--amount", "-5"], ["--amount", "ten"], ["--amount", "0"]):
        refused = _cli(home, t0, *draw, *bad, "--idempotency-key", "d0")
        assert refused.code == 2 and refused.stdout == ""
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    drawn = _json(_cli(home, t0, *draw, "--amount", "200000", "--idempotency-key", "d1"))
    assert drawn["line"]["principal_balance"] == 200_000
    again = _json(_cli(home, t0, *draw, "--amount", "200000", "--idempotency-key", "d1"))
    assert again["move"] == drawn["move"] and again["line"]["principal_balance"] == 200_000

    shown = _json(_cli(home, t1, "credit", "line", "show", line_id, "--json"))
    rate = float(made["offer"]["annual_rate"])
    assert shown["accrued_interest"] == round(200_000 * rate * 30 / 365)
    then = _json(_cli(home, t1, "credit", "line", "show", line_id, "--at", t0, "--json"))
    assert then["accrued_interest"] == 0
    assert _cli(home, t1, "credit", "line", "show", line_id, "--at", "yesterday").code == 2
    closing = _cli(home, t1, "credit", "line", "close", line_id)
    assert closing.code == 1 and "owes" in closing.stderr and closing.stdout == ""

    # The borrower's bank pays in what the wallet lacks (the interest).
    assert _cli(home, t1, "accounts", "create", "--ledger", "USD", "--code", "equity",
                "--id", "bank").code == 0  # fmt: skip
    assert _cli(home, t1, "transfers", "create", "--id", "top-up", "--debit", "bank",
                "--credit", shown["wallet_account"], "--amount", "50000").code == 0  # fmt: skip
    owed = str(shown["principal_balance"] + shown["accrued_interest"])
    repay = ("credit", "line", "repay", line_id, "--currency", "USD", "--json")
    paid = _json(_cli(home, t1, *repay, "--amount", owed, "--idempotency-key", "r1"))
    assert paid["move"]["interest"] == shown["accrued_interest"]
    assert paid["line"]["principal_balance"] == 0
    closed = _json(_cli(home, t1, "credit", "line", "close", line_id, "--json"))
    assert closed["status"] == "closed"
    listed = _json(_cli(home, t1, "credit", "line", "list", "--json"))
    assert [x["line_id"] for x in listed["lines"]] == [line_id]
    assert _cli(home, t1, "accounts", "audit").code == 0
    assert _cli(home, t1, "ledger", "verify").code == 0
