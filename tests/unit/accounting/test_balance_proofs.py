"""Balance proofs: a sealed period's statements in a Merkle sum tree, checked standalone."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paygod.accounting import AccountCode, AccountFlags, AccountSpec, TransferRequest
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.errors import InvalidInput, NotFound
from paygod.kernel.settings import load_settings
from paygod.ledger import balance_verifier
from paygod.ledger.balance_verifier import check_balance_proof


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    k = build_kernel(load_settings())
    try:
        yield k
    finally:
        k.close()


def _books(kernel: Kernel, tenant: str = "t") -> None:
    acc = kernel.accounting
    specs = [
        AccountSpec("EUR", AccountCode.ASSET, "bank"),
        AccountSpec("USD", AccountCode.ASSET, "usd-bank"),
        AccountSpec("USD", AccountCode.LIABILITY, "usd-wallet"),
    ] + [
        AccountSpec(
            "EUR", AccountCode.LIABILITY, f"w{i}", AccountFlags(debits_must_not_exceed_credits=True)
        )
        for i in range(6)
    ]
    acc.open_accounts(tenant, specs)
    for i in range(6):
        acc.transfer(tenant, TransferRequest(f"f{i}", "bank", f"w{i}", 100 * (i + 1), "EUR"))
    acc.transfer(tenant, TransferRequest("s", "w3", "w1", 50, "EUR"))
    acc.transfer(tenant, TransferRequest("u", "usd-bank", "usd-wallet", 7, "USD"))


def test_every_statement_proves_against_the_signed_head(kernel: Kernel) -> None:
    _books(kernel)
    proofs = kernel.balance_proofs
    sealed, created = proofs.close_period("t", "2026-q1")
    assert created and sealed.accounts == 9
    assert sealed.sums == {"EUR": ["2150", "2150"], "USD": ["7", "7"]}
    assert proofs.close_period("t", "2026-q1") == (sealed, False)  # idempotent by period
    pem = kernel.ledger.public_key_pem()
    for account in ["bank", "usd-wallet", *(f"w{i}" for i in range(6))]:
        doc = proofs.prove("t", account, "2026-q1")
        assert check_balance_proof(doc, pem) is None, account
    w1 = proofs.prove("t", "w1", "2026-q1")
    assert (w1["statement"]["debits"], w1["statement"]["credits"]) == ("0", "250")
    # Siblings are anonymous: no other account id appears anywhere in the proof.
    text = json.dumps(w1)
    assert all(f'"w{i}"' not in text for i in (0, 2, 3, 4, 5))


def _tamper(doc: dict[str, Any], where: str) -> dict[str, Any]:
    bad = copy.deepcopy(doc)
    if where == "leaf_sum":
        bad["statement"]["credits"] = str(int(bad["statement"]["credits"]) + 1)
    elif where == "salt":
        bad["statement"]["salt"] = "00" * 16
    elif where == "account":
        bad["statement"]["account_id"] = "w2"
    elif where == "sibling_sum":
        step = bad["path"][0]
        currency = next(iter(step["sums"]))
        step["sums"][currency][0] = str(int(step["sums"][currency][0]) + 5)
    elif where == "sibling_hash":
        bad["path"][-1]["hash"] = "ab" * 32
    elif where == "root_sums":
        bad["root"]["sums"]["EUR"] = ["2101", "2101"]
    elif where == "sealed_root":
        bad["period_entry"]["data"]["payload"]["root_hash"] = "cd" * 32
        bad["root"]["hash"] = "cd" * 32
    elif where == "head":
        bad["tree_head"]["timestamp"] = "2000-01-01T00:00:00.000000Z"
    return bad


@pytest.mark.parametrize(
    "where",
    [
        "leaf_sum",
        "salt",
        "account",
        "sibling_sum",
        "sibling_hash",
        "root_sums",
        "sealed_root",
        "head",
    ],
)
def test_a_tampered_proof_fails(kernel: Kernel, where: str) -> None:
    _books(kernel)
    kernel.balance_proofs.close_period("t", "p1")
    doc = kernel.balance_proofs.prove("t", "w1", "p1")
    pem = kernel.ledger.public_key_pem()
    assert check_balance_proof(doc, pem) is None
    assert check_balance_proof(_tamper(doc, where), pem) is not None


def test_an_unbalanced_period_is_refused_by_the_verifier() -> None:
    leaf = {
        "tenant_id": "t",
        "period": "p",
        "account_id": "a",
        "ledger": "EUR",
        "debits": "5",
        "credits": "0",
        "salt": "aa",
    }
    sums = balance_verifier.statement_sums(leaf)
    root = balance_verifier.statement_leaf(leaf)
    doc = {
        "format": balance_verifier.FORMAT,
        "statement": leaf,
        "path": [],
        "root": {"hash": root.hex(), "sums": balance_verifier.sums_json(sums)},
        "period_entry": {},
        "inclusion": {},
        "tree_head": {},
    }
    assert "does not balance in EUR" in (check_balance_proof(doc) or "")


def test_period_rules(kernel: Kernel) -> None:
    _books(kernel)
    with pytest.raises(InvalidInput):
        kernel.balance_proofs.close_period("t", "bad/period")
    with pytest.raises(NotFound):
        kernel.balance_proofs.prove("t", "w1", "never")
    kernel.balance_proofs.close_period("t", "p")
    with pytest.raises(NotFound):
        kernel.balance_proofs.prove("other-tenant", "w1", "p")


def test_the_standalone_verifier_runs_from_a_copy(kernel: Kernel, tmp_path: Path) -> None:
    _books(kernel)
    kernel.balance_proofs.close_period("t", "p")
    doc = kernel.balance_proofs.prove("t", "w4", "p")
    here = Path(balance_verifier.__file__).parent
    for name in ("verifier.py", "balance_verifier.py"):
        shutil.copy(here / name, tmp_path / name)
    (tmp_path / "proof.json").write_text(json.dumps(doc))
    (tmp_path / "key.pem").write_bytes(kernel.ledger.public_key_pem())
    ok = subprocess.run(
        [sys.executable, "-I", "balance_verifier.py", "proof.json", "key.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["valid"] is True
    (tmp_path / "bad.json").write_text(json.dumps(_tamper(doc, "leaf_sum")))
    bad = subprocess.run(
        [sys.executable, "-I", "balance_verifier.py", "bad.json", "key.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1


def test_the_monthly_schedule_closes_the_last_month_once(kernel: Kernel) -> None:
    from datetime import UTC, timedelta

    from paygod.kernel.clock import ManualClock

    _books(kernel)
    proofs = kernel.balance_proofs
    proofs.schedule = "month"
    assert proofs.close_due() == []  # every account was opened after last month ended
    now = kernel.clock.now() + timedelta(days=40)
    proofs.clock = ManualClock(now)
    closed = proofs.close_due(now)
    assert len(closed) == 1 and closed[0].startswith("t/")
    assert proofs.close_due(now) == []
    label = closed[0].split("/", 1)[1]
    assert proofs.get_period("t", label).until == now.astimezone(UTC).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )


def test_concurrent_closes_of_one_period_seal_it_once(kernel: Kernel) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _books(kernel)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: kernel.balance_proofs.close_period("t", "x"), range(4)))
    assert len({r[0].root_hash for r in results}) == 1
    assert sum(created for _, created in results) == 1
    sealed = [e for e in kernel.ledger.history("period:x", "t") if e.kind == "balance_period"]
    assert len(sealed) == 1
