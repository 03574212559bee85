"""The risk and compliance part of `paygod demo` (docs/aml.md walks through it).

A card-testing burst of decisions and a structuring pattern of transfers raise alerts;
a payment to a transliterated alias of a sample SDN entry is stopped for review; a payment
to a payee in a FATF-listed country raises an AML alert. Every alert opens a case through
the outbox; a compliance officer assigns, comments and closes each one, and the checker
rejects the sanctioned payment. Then the ledger verifies. Runs in its own temporary home.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from paygod.cli.output import table

TENANT = "default"
OFFICER = "human:officer-1"
BANK = {"account_number": "000123456789", "routing_number": "021000021"}
# How the officer closes each kind of case in the tour.
DISPOSITIONS = {
    "card_testing": ("confirmed_fraud", "probes at 8 merchants within minutes; card blocked"),
    "aml.structuring": ("sar_filed", "three transfers just under the reporting threshold"),
    "aml.high_risk_jurisdiction": ("false_positive", "known tea supplier, documents on file"),
}
SANCTIONS = ("sar_filed", "payee matches an SDN alias; payment rejected")


def _setup(kernel: Any) -> None:
    from paygod.accounting import AccountCode, AccountFlags, AccountSpec
    from paygod.accounting.model import TransferRequest

    specs = [AccountSpec(ledger="USD", code=AccountCode.EQUITY, id="treasury")]
    specs += [
        AccountSpec(
            ledger="USD",
            code=AccountCode.LIABILITY,
            id=name,
            flags=AccountFlags(debits_must_not_exceed_credits=True),
        )
        for name in ("customer-7", "agent-1")
    ]
    specs += [
        AccountSpec(ledger="USD", code=AccountCode.LIABILITY, id=f"beneficiary-{n}")
        for n in (1, 2, 3)
    ]
    kernel.accounting.open_accounts(TENANT, specs)
    for account, amount in (("customer-7", 5_000_000), ("agent-1", 2_000_000)):
        kernel.accounting.transfer(
            TENANT,
            TransferRequest(
                id=f"fund-{account}",
                debit_account_id="treasury",
                credit_account_id=account,
                amount=amount,
                ledger="USD",
            ),
        )


def _card_testing(kernel: Any) -> list[str]:
    verdicts = []
    for k in range(8):  # probes of 0.99 at eight merchants within minutes
        payment = {
            "amount_minor": 99,
            "currency": "USD",
            "rail": "card",
            "counterparty": {"ref": f"urn:merchant:m{k}", "verified": True},
        }
        made = kernel.decisions.decide(
            subject="card:4242",
            context={},
            input={"payment": payment},
            idempotency_key=f"demo-probe-{k}",
            tenant_id=TENANT,
            requested_by="agent:shop-bot",
        )
        verdicts.append(made["decision"])
    return verdicts


def _structuring(kernel: Any) -> None:
    from paygod.accounting.model import TransferRequest

    for n in (1, 2, 3):  # 9,850.00, 9,849.99, 9,849.98 within the hour
        kernel.accounting.transfer(
            TENANT,
            TransferRequest(
                id=f"demo-split-{n}",
                debit_account_id="customer-7",
                credit_account_id=f"beneficiary-{n}",
                amount=985_001 - n,
                ledger="USD",
            ),
        )


def _pay(kernel: Any, key: str, payee: dict[str, str]) -> Any:
    payment, _ = kernel.payments.create(
        {
            "payer_account": "agent-1",
            "payee": {**payee, **BANK},
            "amount": 120_000,
            "currency": "USD",
            "purpose": "invoice",
            "metadata": {"counterparty_verified": True},
        },
        tenant_id=TENANT,
        requested_by="agent:procurement-bot",
        idempotency_key=key,
    )
    return payment


def _work_cases(kernel: Any, sanctioned_payment: str) -> list[tuple[str, str, str]]:
    closed = []
    for case in kernel.cases.list(TENANT):
        disposition, note = DISPOSITIONS.get(case.alert_type, SANCTIONS)
        kernel.cases.assign(
            case.case_id, assignee=OFFICER, actor="human:compliance-lead", tenant_id=TENANT
        )
        kernel.cases.comment(case.case_id, text=note, actor=OFFICER, tenant_id=TENANT)
        done = kernel.cases.close(
            case.case_id, disposition=disposition, note=note, actor=OFFICER, tenant_id=TENANT
        )
        closed.append((done.alert_type, done.subject, disposition))
    kernel.payments.reject(sanctioned_payment, approver=OFFICER, note=SANCTIONS[1])
    return closed


def tour(kernel: Any) -> dict[str, Any]:
    """Run the scenario on `kernel`; what happened, for the printout and the tests."""
    _setup(kernel)
    verdicts = _card_testing(kernel)
    _structuring(kernel)
    sanctioned = _pay(kernel, "demo-sdn", {"name": "Usama bin Ladin", "country": "SA"})
    grey = _pay(kernel, "demo-grey", {"name": "Nairobi Tea Traders", "country": "KE"})
    raised = kernel.aml.catch_up()
    kernel.executor.drain()
    opened = [(c.alert_type, c.subject, len(c.alerts)) for c in kernel.cases.list(TENANT)]
    closed = _work_cases(kernel, sanctioned.payment_id)
    report = kernel.ledger.verify()
    return {
        "verdicts": verdicts,
        "aml_alerts": [(a.typology, a.subject, len(a.payload["transactions"])) for a in raised],
        "sanctioned": kernel.payments.get(sanctioned.payment_id),
        "sanctioned_decision": dict(sanctioned.decision or {}),
        "grey": kernel.payments.get(grey.payment_id),
        "opened": opened,
        "closed": closed,
        "verified": report.ok,
        "entries": report.entries_checked,
    }


def run_risk_demo(console: Console, home: Path | None = None) -> bool:
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="paygod-risk-demo-") as tmp:
        root = home or Path(tmp)
        kernel = build_kernel(load_settings(home=root / "home", packs=root / "no-packs-here"))
        try:
            return _print(console, tour(kernel))
        finally:
            kernel.close()


def _print(console: Console, out: dict[str, Any]) -> bool:
    console.print("\n[bold]Risk and compliance[/bold]: alerts that become cases")
    console.print(f"  card-testing burst, 8 probes of 0.99: {' '.join(out['verdicts'])}")
    for typology, subject, n in out["aml_alerts"]:
        console.print(f"  AML {typology} on {subject}, resting on {n} transactions")
    decision = out["sanctioned_decision"]
    console.print(f"  payee 'Usama bin Ladin': {decision.get('verdict')}: {decision.get('reason')}")
    console.print(table(("case", "subject", "closed as"), out["closed"]))
    console.print(
        f"  sanctioned payment {out['sanctioned'].status.value} by {OFFICER}. Ledger: "
        f"{out['entries']} entries, verification "
        + ("[green]passed[/green]" if out["verified"] else "[red]FAILED[/red]")
    )
    return bool(out["verified"]) and out["sanctioned"].status.value == "rejected"
