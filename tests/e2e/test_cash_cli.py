"""`paygod cash ...` as a branch runs its day."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def _ok(*args: str) -> dict[str, object]:
    out = run_cli(*args, "--json")
    assert out.code == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_a_day_at_the_till(paygod_home: Path) -> None:
    _ok("accounts", "create", "--id", "alice", "--ledger", "EUR", "--code", "liability",
        "--flag", "debits_must_not_exceed_credits")  # fmt: skip
    _ok("cash", "open-branch", "--branch", "north", "--ledger", "EUR")
    _ok("cash", "open-till", "--branch", "north", "--till", "t1", "--cash-limit", "1000")
    _ok("cash", "deposit", "--id", "d1", "--branch", "north", "--till", "t1",
        "--account", "alice", "--amount", "800")  # fmt: skip
    over = run_cli("cash", "deposit", "--id", "d2", "--branch", "north", "--till", "t1",
                   "--account", "alice", "--amount", "201")  # fmt: skip
    assert over.code != 0 and "over its cash limit 1000" in over.stderr
    _ok("cash", "withdraw", "--id", "w1", "--branch", "north", "--till", "t1",
        "--account", "alice", "--amount", "100")  # fmt: skip
    _ok("cash", "to-vault", "--id", "v1", "--branch", "north", "--till", "t1", "--amount", "500")
    counted = _ok("cash", "count", "--branch", "north", "--till", "t1", "--declared", "190")
    assert counted["result"] == "short" and counted["difference"] == -10
    branch = _ok("cash", "show", "--branch", "north")
    assert branch["vault"] == {"account_id": "cash.north.vault", "balance": 500}
    assert branch["over_short"]["balance"] == 10
    assert branch["tills"][0]["balance"] == 190  # type: ignore[index]
    assert run_cli("accounts", "audit").code == 0
