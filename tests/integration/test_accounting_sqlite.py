"""Accounting on SQLite with the real ledger (group commit, savepoints): many threads,
holds and transfers on the same few accounts; nothing negative, lost or doubled."""

from __future__ import annotations

import random
import threading
from pathlib import Path

from paygod.accounting import (
    AccountCode,
    AccountFlags,
    AccountSpec,
    TransferFlags,
    TransferRequest,
)
from paygod.bootstrap import build_kernel
from paygod.kernel.errors import Rejected
from paygod.kernel.settings import load_settings


def test_threads_with_holds_on_hot_accounts(tmp_path: Path) -> None:
    kernel = build_kernel(load_settings(home=tmp_path / "home"))
    accounting = kernel.accounting
    try:
        accounting.open_accounts(
            "t",
            [
                AccountSpec(
                    "EUR",
                    AccountCode.LIABILITY,
                    id=f"w{i}",
                    flags=AccountFlags(debits_must_not_exceed_credits=True),
                )
                for i in range(3)
            ]
            + [AccountSpec("EUR", AccountCode.ASSET, id="bank")],
        )
        for i in range(3):
            accounting.transfer("t", TransferRequest(f"fund{i}", "bank", f"w{i}", 300))
        created: list[str] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            rng = random.Random(n)
            for i in range(25):
                wallet = f"w{rng.randrange(3)}"
                tid = f"{n}-{i}"
                pending = rng.random() < 0.4
                req = TransferRequest(
                    tid, wallet, "bank", rng.randint(1, 40), flags=TransferFlags(pending=pending)
                )
                try:
                    result = accounting.transfer("t", req)
                    again = accounting.transfer("t", req)  # a retry never posts twice
                    assert result.created and not again.created
                    with lock:
                        created.append(tid)
                    if pending and rng.random() < 0.5:
                        accounting.post_pending("t", tid, amount=1)
                    elif pending:
                        accounting.void_pending("t", tid)
                except Rejected as exc:
                    assert exc.instance_code == "exceeds_credits"

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ids = {t.id for t in accounting.list_transfers("t", limit=1000)}
        assert set(created) <= ids
        for i in range(3):
            w = accounting.get_account("t", f"w{i}")
            assert w.debits_posted + w.debits_pending <= w.credits_posted
        assert accounting.trial_balance("t")["balanced"]
        assert accounting.rebuild_check("t").ok
        assert kernel.ledger.verify().ok
    finally:
        kernel.close()


def test_low_balance_alert_lands_in_the_outbox(tmp_path: Path) -> None:
    kernel = build_kernel(load_settings(home=tmp_path / "home"))
    try:
        credits = kernel.credits
        credits.purchase("acme", 100, key="p")
        credits.set_threshold("acme", 30)
        credits.consume("acme", 80, key="c")
        conn = kernel.db.connect()  # type: ignore[union-attr]
        rows = conn.execute(
            "SELECT event_type, tenant_id, envelope FROM outbox WHERE event_type = ?",
            ("credits.low_balance",),
        ).fetchall()
        conn.close()
        assert (
            len(rows) == 1
            and rows[0][1] == "acme"
            and '"available":20' in rows[0][2].replace(" ", "")
        )
    finally:
        kernel.close()
