"""The payments part of `paygod demo`: agents paying vendors through several rails.

One payment denied by policy, one sent to review and approved by a second person, one
rail failing over to another, the panic switch freezing a batch and releasing it — then
a summary and a verified ledger. Runs in its own temporary home with simulated rails.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from paygod.cli.output import table

VENDOR_BANK = {
    "name": "Acme Supplies",
    "account_number": "000123456789",
    "routing_number": "021000021",
}
CARD_VENDOR = {"name": "Cloud GPUs Inc", "card_token": "tok_visa_4242"}
VERIFIED = {"counterparty_verified": True}


def _setup(kernel: Any) -> None:
    from paygod.accounting import AccountCode, AccountFlags, AccountSpec
    from paygod.accounting.model import TransferRequest

    kernel.accounting.open_accounts(
        "default",
        [
            AccountSpec(ledger="USD", code=AccountCode.EQUITY, id="treasury"),
            AccountSpec(
                ledger="USD",
                code=AccountCode.LIABILITY,
                id="procurement-bot",
                flags=AccountFlags(debits_must_not_exceed_credits=True),
                metadata={"kind": "agent wallet"},
            ),
        ],
    )
    kernel.accounting.transfer(
        "default",
        TransferRequest(
            id="demo-funding",
            debit_account_id="treasury",
            credit_account_id="procurement-bot",
            amount=5_000_000,
            ledger="USD",
        ),
    )


def run_payments_demo(console: Console, home: Path | None = None) -> bool:
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="paygod-payments-demo-") as tmp:
        root = home or Path(tmp)
        kernel = build_kernel(load_settings(home=root / "home", packs=root / "no-packs-here"))
        try:
            return _tour(console, kernel)
        finally:
            kernel.close()


def _tour(console: Console, kernel: Any) -> bool:
    _setup(kernel)
    payments, worker, rails = kernel.payments, kernel.executor, kernel.payments.connectors
    rows: list[tuple[str, str]] = []

    def pay(key: str, title: str, amount: int, payee: dict[str, str], **kw: Any) -> Any:
        body = {
            "payer_account": "procurement-bot",
            "payee": payee,
            "amount": amount,
            "currency": "USD",
            "purpose": title,
            "metadata": kw.pop("metadata", VERIFIED),
            **kw,
        }
        payment, _ = payments.create(
            body, tenant_id="default", requested_by="agent:procurement-bot", idempotency_key=key
        )
        rows.append((title, payment.payment_id))
        return payment

    console.print("\n[bold]Payments[/bold]: an agent wallet with 50,000.00 USD pays vendors")
    pay("demo-ach", "supplies by ACH (cheapest)", 25_000, VENDOR_BANK)
    pay("demo-card", "GPU hours by card", 4_999, CARD_VENDOR)
    pay(
        "demo-instant",
        "urgent refund, fastest rail",
        12_000,
        VENDOR_BANK,
        rail_preference="fastest",
    )
    pay(
        "demo-deny",
        "unverified counterparty",
        9_900,
        {**VENDOR_BANK, "name": "New Shop"},
        metadata={},
    )
    review = pay("demo-review", "12,000.00 wire", 1_200_000, VENDOR_BANK, rail_preference="wire")
    worker.drain()
    if review.decision and review.decision.get("verdict") == "review":
        payments.approve(review.payment_id, approver="human:treasurer", note="known supplier")
        console.print(
            "  12,000.00 wire flagged for review; approved by human:treasurer (maker-checker)"
        )
    rails["ach"].down = True  # the ACH connector starts failing
    pay("demo-failover", "supplies while ACH is down", 30_000, VENDOR_BANK)
    worker.drain()
    rails["ach"].down = False

    kernel.panic.turn_on("demo: suspicious burst from the agent", "human:ops")
    batch = [
        pay(f"demo-frozen-{i}", f"batch payment {i + 1} (panic on)", 1_000 + i, VENDOR_BANK)
        for i in range(3)
    ]
    frozen = worker.drain()
    calls_while_frozen = sum(rails["ach"].calls(p.payment_id) for p in batch)
    console.print(
        f"  panic ON: {len(batch)} payments decided and held, worker claimed {frozen.claimed}, "
        f"rail calls {calls_while_frozen}"
    )
    kernel.panic.turn_off("human:ops")
    worker.drain()
    console.print("  panic OFF: the queue drained")

    shown: list[tuple[str, ...]] = []
    colour = {"settled": "green", "denied": "red", "failed": "red"}
    statuses: dict[str, int] = {}
    for title, payment_id in rows:
        p = payments.get(payment_id)
        status = p.status.value
        statuses[status] = statuses.get(status, 0) + 1
        tried = " → ".join(p.attempted_rails) if len(p.attempted_rails) > 1 else (p.rail or "-")
        why = p.failure_reason or (p.decision or {}).get("reason", "")
        if p.approvals:
            why = f"approved by {p.approvals[-1]['by']}"
        shown.append(
            (title, f"[{colour.get(status, 'white')}]{status}[/]", tried, str(p.fee or "-"), why)
        )
    console.print(table(("payment", "status", "rail", "fee", "why"), shown))
    report = kernel.ledger.verify()
    ok = not report.findings and calls_while_frozen == 0
    dead = worker.store.counts()["dead"]
    console.print(
        ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        + f"; dead letters: {dead}. Ledger: {report.entries_checked} entries, verification "
        + ("[green]passed[/green]" if not report.findings else "[red]FAILED[/red]")
    )
    return ok
