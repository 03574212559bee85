"""`paygod credit apply|offer|accept|disburse|repay|loans|portfolio` as a user runs them, on
one PAYGOD_HOME, the clock moved between commands by PAYGOD_CLOCK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CliResult, run_cli


def _cli(home: Path, clock: str, *args: str) -> CliResult:
    env = {"PAYGOD_HOME": str(home), "PAYGOD_CLOCK": clock, "PAYGOD_DATABASE_URL": ""}
    return run_cli(*args, env=env)


def _application(folder: Path) -> Path:
    """A six-month personal loan of 6,000.00 USD for the prime fixture applicant."""
    path = folder / "application.json"
    path.write_text(
        json.dumps(
            {
                "product_id": "personal-term-loan",
                "applicant_ref": "urn:applicant:prime",
                "amount": 600_000,
                "currency": "USD",
                "payments": 6,
                "monthly_income": 900_000,
            }
        )
    )
    return path


def _json(result: CliResult) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_loan_through_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    t0, t1 = "2026-01-05T12:00:00Z", "2026-02-05T12:00:00Z"
    application = _application(tmp_path)
    made = _json(
        _cli(home, t0, "credit", "apply", "--file", str(application), "--as", "alice", "--json")
    )
    assert made["status"] == "offered"
    loan_id = made["application_id"]
    offer = _json(_cli(home, t0, "credit", "offer", loan_id, "--json"))
    assert offer["offer"]["disclosure"]["amount_financed"] == 600_000 - 12_000
    assert _cli(home, t0, "credit", "accept", loan_id, "--as", "mallory").code == 2  # not hers
    _json(_cli(home, t0, "credit", "accept", loan_id, "--as", "alice", "--json"))
    loan = _json(_cli(home, t0, "credit", "disburse", loan_id, "--as", "lender", "--json"))
    assert loan["status"] == "active" and loan["ledger"]["inclusion_proof"]
    first = loan["instalments"][0]
    due = str(first["interest"] + first["principal"])
    repay = ("credit", "repay", loan_id, "--currency", "USD", "--json")
    paid = _json(_cli(home, t1, *repay, "--amount", due, "--idempotency-key", "k1"))
    assert paid["repayment"]["allocation"]["principal"] == first["principal"]
    again = _json(_cli(home, t1, *repay, "--amount", due, "--idempotency-key", "k1"))
    assert again["repayment"] == paid["repayment"]
    for bad in (["--amount", "-5"], ["--amount", "ten"], ["--amount", "0"]):
        refused = _cli(home, t1, *repay, *bad, "--idempotency-key", "k2")
        assert refused.code == 2 and refused.stdout == ""
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert _cli(home, t1, "credit", "loans", "--at", "yesterday").code == 2
    # The borrower's bank pays in what the wallet lacks: an account of the tenant's books.
    assert _cli(home, t1, "accounts", "create", "--ledger", "USD", "--code", "equity",
                "--id", "bank").code == 0  # fmt: skip
    wallet = paid["loan"]["wallet_account"]
    assert _cli(home, t1, "transfers", "create", "--id", "top-up", "--debit", "bank",
                "--credit", wallet, "--amount", "50000").code == 0  # fmt: skip
    payoff = str(paid["loan"]["payoff"])
    closed = _json(_cli(home, t1, *repay, "--amount", payoff, "--idempotency-key", "k3"))
    assert closed["loan"]["status"] == "repaid"
    after = _cli(home, t1, *repay, "--amount", "1", "--idempotency-key", "k4")
    assert after.code != 0 and "repaid" in after.stderr and after.stdout == ""
    listed = _json(_cli(home, t1, "credit", "loans", "--json"))
    assert [x["loan_id"] for x in listed["loans"]] == [loan_id]
    then = _json(_cli(home, t1, "credit", "portfolio", "--at", "2026-01-20T00:00:00Z", "--json"))
    assert then["currencies"]["USD"]["outstanding"] == 600_000
    now = _json(_cli(home, t1, "credit", "portfolio", "--json"))
    assert now["currencies"]["USD"]["repaid"] == 1 and now["currencies"]["USD"]["outstanding"] == 0
    assert _cli(home, t1, "accounts", "audit").code == 0
    assert _cli(home, t1, "ledger", "verify").code == 0


def test_applications_listed_and_withdrawn_through_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    t0, t1 = "2026-01-05T12:00:00Z", "2026-01-06T12:00:00Z"
    application = _application(tmp_path)
    apply = ("credit", "apply", "--file", str(application), "--json")
    first = _json(_cli(home, t0, *apply, "--as", "alice"))["application_id"]
    second = _json(_cli(home, t0, *apply, "--as", "bob"))["application_id"]
    withdrawn = _json(
        _cli(home, t1, "credit", "withdraw", first, "--reason", "a better rate", "--json")
    )
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["withdrawal"]["reason"] == "a better rate"
    assert withdrawn["withdrawal"]["from_status"] == "offered"
    again = _cli(home, t1, "credit", "withdraw", first)
    assert again.code == 1 and again.stdout == "" and "withdrawn" in again.stderr
    accept = _cli(home, t1, "credit", "accept", first, "--as", "alice")
    assert accept.code == 1 and "withdrawn" in accept.stderr

    every = _json(_cli(home, t1, "credit", "applications", "--json"))
    assert [a["application_id"] for a in every["applications"]] == [first, second]
    assert every["next_after"] is None
    only = _json(_cli(home, t1, "credit", "applications", "--status", "withdrawn", "--json"))
    assert [a["application_id"] for a in only["applications"]] == [first]
    then = _json(_cli(home, t1, "credit", "applications", "--at", t0, "--json"))
    assert [a["status"] for a in then["applications"]] == ["offered", "offered"]
    page = _json(_cli(home, t1, "credit", "applications", "--limit", "1", "--json"))
    assert page["next_after"] == first
    human = _cli(home, t1, "credit", "applications")
    assert human.code == 0 and first in human.stdout and "withdrawn" in human.stdout

    for args in (
        ("credit", "applications", "--status", "bogus"),
        ("credit", "applications", "--at", "yesterday"),
        ("credit", "applications", "--limit", "0"),
        ("credit", "applications", "--after", "nobody"),
        ("credit", "withdraw", second, "--reason", ""),
        ("credit", "withdraw", second, "--reason", "x" * 201),
        ("credit", "withdraw", second, "--reason", "ok\u202e"),
        ("credit", "withdraw", "no-such-application"),
    ):
        refused = _cli(home, t1, *args, "--json")
        assert refused.code == 2 and refused.stdout == "", (args, refused)
        assert len(refused.stderr.strip().splitlines()) == 1, (args, refused.stderr)
    status = _json(_cli(home, t1, "credit", "offer", second, "--json"))["status"]
    assert status == "offered"  # nothing recorded by the refusals
    assert _cli(home, t1, "ledger", "verify").code == 0
