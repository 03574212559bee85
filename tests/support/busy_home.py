"""A busy home: every write path whose tables the projections rebuild, exercised."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from paygod.accounting import AccountCode, AccountSpec
from paygod.accounting.model import TransferFlags, TransferRequest
from paygod.bootstrap import Kernel
from paygod.identity.model import PrincipalKind, Role
from tests.support.accounts import open_funded_payer
from tests.support.requests import decision_body

PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}
LOAN = {
    "product_id": "personal-term-loan",
    "applicant_ref": "urn:applicant:prime",
    "amount": 1_000_000,
    "currency": "USD",
    "payments": 12,
    "monthly_income": 900_000,
}


def make_busy(kernel: Kernel, *, rounds: int = 3, loans: bool = True) -> dict[str, Any]:
    """Decisions, accounts with metadata and owners, transfers, holds posted, voided and
    expired, partial reversals, payments and (optionally) a credit loan. Returns ids."""
    acc = kernel.accounting
    open_funded_payer(acc, amount=50_000_000, owner="agent-bot")
    acc.open_accounts(
        "default",
        [
            AccountSpec(ledger="USD", code=AccountCode.ASSET, id="cash", metadata={"desk": "a"}),
            AccountSpec(ledger="USD", code=AccountCode.REVENUE, id="fees"),
        ],
    )
    acc.update_metadata("default", "cash", {"branch": "north"})
    acc.open_accounts("other", [AccountSpec(ledger="EUR", code=AccountCode.ASSET, id="cash")])
    decisions: list[str] = []
    for i in range(rounds):
        body = decision_body(1000 + i)
        answer = kernel.decisions.decide(
            subject=f"urn:paygod:agent:bot-{i % 2}",
            context=body["context"],
            input=body["input"],
            idempotency_key=f"busy-{i}",
            requested_by="agent-bot" if i % 2 else None,
        )
        decisions.append(answer["decision_id"])
        acc.transfer(
            "default",
            TransferRequest(f"t{i}", "cash", "fees", 500 + i, metadata={"invoice": f"inv-{i}"}),
        )
        acc.transfer("default", TransferRequest(f"h{i}", "cash", "fees", 300, flags=_pending()))
        if i % 3 == 0:
            acc.post_pending("default", f"h{i}", amount=200)
        elif i % 3 == 1:
            acc.void_pending("default", f"h{i}")
        acc.reverse("default", f"t{i}", amount=100)
    acc.transfer(
        "default",
        TransferRequest("soon", "cash", "fees", 50, flags=_pending(), timeout_seconds=1),
    )
    acc.expire_pending(kernel.clock.now() + timedelta(seconds=5))
    acc.close_account("other", "cash")
    payments = []
    for i in range(rounds):
        payment, _ = kernel.payments.create(
            {
                "payer_account": "agent-1",
                "payee": PAYEE,
                "amount": 1_000 + i,
                "currency": "USD",
                "purpose": f"invoice {i}",
                "metadata": {"counterparty_verified": True},
            },
            tenant_id="default",
            requested_by="agent-bot",
            idempotency_key=f"pay-{i}",
        )
        payments.append(payment.payment_id)
    loan_id = None
    if loans:
        application, _ = kernel.lending.submit(
            LOAN, tenant_id="acme", applicant="alice", idempotency_key="app-1"
        )
        loan_id = application.application_id
        kernel.lending.accept(loan_id, tenant_id="acme", signer="alice")
        kernel.loans.disburse(loan_id, tenant_id="acme", operator="op")
        kernel.loans.repay(
            loan_id,
            {"amount": 20_000, "currency": "USD"},
            tenant_id="acme",
            owner=None,
            idempotency_key="repay-1",
        )
    cases = []
    for i in range(2):
        alert = {
            "alert_id": f"alert-{i}",
            "alert_type": "card_testing",
            "subject": "urn:card:1",
            "risk_score": 0.5 + i / 10,
            "raised_by": "risk-bot",
        }
        cases.append(kernel.cases.open_from_alert("default", alert).case_id)
    kernel.cases.assign(cases[0], assignee="officer", actor="lead", tenant_id="default")
    kernel.cases.comment(cases[0], text="looked at it", actor="officer", tenant_id="default")
    kernel.cases.close(
        cases[0], disposition="false_positive", note="fine", actor="officer", tenant_id="default"
    )
    kernel.cases.open_manual(
        "default", subject="urn:card:2", alert_type="manual", note="odd", actor="officer"
    )
    consent = kernel.identity.consent
    consent.record("default", "urn:person:1", "marketing", granted=True, actor="agent-bot")
    consent.record("default", "urn:person:1", "marketing", granted=False, actor="agent-bot")
    identity = _identity_changes(kernel)
    kernel.executor.drain()  # payments move on: sent, settled (more payment entries)
    return {
        "decisions": decisions,
        "payments": payments,
        "loan": loan_id,
        "cases": cases,
        "identity": identity,
    }


def _identity_changes(kernel: Kernel) -> dict[str, Any]:
    """A tenant, principals whose roles change, one disabled and enabled again, keys issued,
    used, rotated on a grace and revoked. Returns the live key's token and who is who."""
    identity = kernel.identity
    identity.create_tenant("acme", "Acme Corp")
    admin = identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    clerk = identity.create_principal(
        "acme", "bob", PrincipalKind.HUMAN, {Role.OPERATOR}, created_by=admin.principal_id
    )
    identity.set_roles(clerk.principal_id, {Role.OPERATOR, Role.AUDITOR}, actor=admin.principal_id)
    identity.set_disabled(clerk.principal_id, True, actor=admin.principal_id)
    identity.set_disabled(clerk.principal_id, False, actor=admin.principal_id)
    bot = identity.create_principal(
        "default", "bot", PrincipalKind.SERVICE, {Role.AGENT}, external_id="cert:CN=bot"
    )
    first = identity.issue_key(bot.principal_id, scopes=["decisions:create"])
    identity.authenticate_key(first.token)  # its last use: not sealed, not rebuilt
    second = identity.rotate_key(first.key.key_id, grace_seconds=3600, actor=admin.principal_id)
    third = identity.rotate_key(second.key.key_id, grace_seconds=600)
    identity.revoke_key(third.key.key_id, actor=admin.principal_id)  # ends the chain
    live = identity.issue_key(clerk.principal_id, actor=admin.principal_id)
    identity.authenticate_key(live.token)
    return {
        "token": live.token,
        "revoked_token": second.token,
        "admin": admin.principal_id,
        "clerk": clerk.principal_id,
    }


def _pending() -> TransferFlags:
    return TransferFlags(pending=True)
