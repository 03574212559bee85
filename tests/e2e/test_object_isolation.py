"""Every route that names an object in its path keeps that object inside its tenant and,
under scope `own`, with its owner.

The walk reads the OpenAPI document. For each /v1 operation with a path parameter it asks
the route's factory for a real object of tenant `acme` (created through the API or the
services, owned by agent A wherever agents may act), then checks:

- tenant `globex`'s admin (holding every tenant role, so never a 403) gets 404;
- where agents have the route's permission with scope `own`, agent B of `acme` gets 404;
- the object is intact, and its owner (agent A, else acme's admin) reaches it (2xx).

A parameterised route without a factory fails the walk, so no new route is forgotten.
Subject-keyed routes (a data subject's consents, a ledger subject) name a key in the
caller's own tenant rather than an object: another tenant may ask, and must see none of
acme's records. Packs are loaded by the kernel for every tenant (declared in `SHARED`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.permissions import Scope, grant
from paygod.identity.route_permissions import PUBLIC_ROUTES, permission_for
from paygod.kernel.settings import load_settings
from tests.support.http import principal_headers, unthrottled_client
from tests.support.stepup import SecondFactor

TENANT, OTHER = "acme", "globex"
# Every role a tenant principal can hold: the other tenant's admin is allowed every route
# a tenant can use, so its answer is about the object (404), never about its role (403).
TENANT_ROLES = ["admin", "operator", "auditor", "compliance_officer"]
US_BANK = {"name": "Acme Supplies", "account_number": "000123456789", "routing_number": "021000021"}
EVER = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}

# Parameterised routes whose object is deliberately not a tenant's: why, in a word.
SHARED: dict[tuple[str, str], str] = {
    ("POST", "/v1/packs/{name}/evaluate"): "policy packs are loaded by the kernel for all",
    ("GET", "/v1/packs/{name}/pipeline"): "the pipeline is the kernel's (tenants see no ids)",
    ("GET", "/v1/packs/{name}/diff"): "two versions of a shared pack",
    ("POST", "/v1/packs/{name}/promote"): "shared packs: moved by platform admins only (403)",
    ("POST", "/v1/packs/{name}/canary"): "shared packs: moved by platform admins only (403)",
    ("POST", "/v1/packs/{name}/rollback"): "shared packs: moved by platform admins only (403)",
    ("POST", "/v1/packs/{name}/outcomes"): "shared packs: moved by platform admins only (403)",
    ("GET", "/v1/risk/models/{version}"): "the model registry is the kernel's, for all tenants",
    ("GET", "/v1/compliance/reports/{kind}"): "a report kind (sox, pci, gdpr), computed "
    "over the caller's own tenant only",
    ("GET", "/v1/projections/{name}"): "projections are the kernel's tables (platform admins)",
}


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:10]}"


@dataclass
class Target:
    """One object of tenant acme, and how to call a route about it."""

    params: dict[str, str]
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    # Subject-keyed routes: other callers may get 2xx about their own tenant's namespace,
    # but never a response containing `leak` (text found only in acme's record).
    namespaced: bool = False
    leak: str | None = None
    # Still true after the others' attempts (a refused mutation changed nothing).
    intact: Callable[[], bool] | None = None
    # Who reaches the object when that is neither agent A nor acme's admin (a payment's
    # reviewer must be a human second person).
    caller: dict[str, str] | None = None


class World:
    def __init__(self, kernel: Kernel, http: TestClient) -> None:
        self.kernel, self.http = kernel, http
        identity = kernel.identity
        self.agent_a = identity.create_principal(
            TENANT, "agent-a", PrincipalKind.AGENT, {Role.AGENT}
        )
        self.admin_a = self._headers(TENANT, "admin-a")
        self.admin_b = self._headers(OTHER, "admin-b")
        self.checker_a = principal_headers(
            kernel, roles=["compliance_officer"], tenant_id=TENANT, kind="human", name="checker-a"
        )
        self.as_agent_a = self._key(self.agent_a.principal_id)
        agent_b = identity.create_principal(TENANT, "agent-b", PrincipalKind.AGENT, {Role.AGENT})
        self.as_agent_b = self._key(agent_b.principal_id)
        self.treasury = self.account(owner=None, code="equity")
        self.credits_bought = False

    def as_checker(self) -> dict[str, str]:
        """checker-a stepped up (a human's approval needs TOTP): enrolled afresh, so the
        code has never been used."""
        human = next(
            p for p in self.kernel.identity.list_principals(TENANT) if p.name == "checker-a"
        )
        return {**self.checker_a, **SecondFactor(self.kernel, human).header()}

    def _headers(self, tenant: str, name: str) -> dict[str, str]:
        return principal_headers(self.kernel, roles=TENANT_ROLES, tenant_id=tenant, name=name)

    def _key(self, principal_id: str) -> dict[str, str]:
        token = self.kernel.identity.issue_key(principal_id).token
        return {"Authorization": f"Bearer {token}"}

    def call(
        self,
        headers: dict[str, str],
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        key: str | None = None,
    ) -> Response:
        extra = {"Idempotency-Key": key} if key else {}
        return self.http.request(
            method, path, headers={**headers, **extra}, json=body, params=query or {}
        )

    def ok(self, response: Response) -> dict[str, Any]:
        assert response.status_code < 300, response.text
        found: dict[str, Any] = response.json()
        return found

    # -- objects of tenant acme -----------------------------------------------------------

    def account(self, owner: str | None = "agent", code: str = "liability") -> str:
        body: dict[str, Any] = {"id": _unique("acct"), "ledger": "USD", "code": code}
        if owner == "agent":
            body["owner"] = self.agent_a.principal_id
        return str(self.ok(self.call(self.admin_a, "POST", "/v1/accounts", body))["id"])

    def transfer(self, *, pending: bool = False) -> str:
        body = {
            "id": _unique("xfer"),
            "debit_account_id": self.treasury,
            "credit_account_id": self.account(),
            "amount": 100,
            "ledger": "USD",
            "flags": ["pending"] if pending else [],
        }
        return str(self.ok(self.call(self.admin_a, "POST", "/v1/transfers", body))["id"])

    def wallet(self) -> str:
        """A funded account of agent A's, to pay from."""
        wallet = self.account()
        body = {
            "id": _unique("fund"),
            "debit_account_id": self.treasury,
            "credit_account_id": wallet,
            "amount": 50_000_000,
            "ledger": "USD",
        }
        self.ok(self.call(self.admin_a, "POST", "/v1/transfers", body))
        return wallet

    def payment(self, amount: int = 12_500, **extra: Any) -> dict[str, Any]:
        body = {
            "payer_account": self.wallet(),
            "payee": US_BANK,
            "amount": amount,
            "currency": "USD",
            "purpose": "invoice 42",
            "metadata": {"counterparty_verified": True},
            **extra,
        }
        response = self.call(self.as_agent_a, "POST", "/v1/payments", body, key=_unique("pay"))
        return self.ok(response)

    def review_payment(self) -> str:
        """A payment waiting for a checker (a large wire), requested by agent A."""
        made = self.payment(1_500_000, rail_preference="wire")
        assert made["decision"]["verdict"] == "review", made
        return str(made["payment_id"])

    def ledger_entry(self) -> Any:
        payment_id = self.payment()["payment_id"]
        entries = self.kernel.ledger.history(f"payment:{payment_id}")
        assert entries and entries[0].tenant_id == TENANT
        return entries[0]

    def reservation(self) -> str:
        if not self.credits_bought:
            self.ok(self.call(self.admin_a, "POST", "/v1/credits/purchase", {"amount": 1000}))
            self.credits_bought = True
        body = {"amount": 1, "ttl_seconds": 600}
        made = self.ok(self.call(self.as_agent_a, "POST", "/v1/credits/reservations", body))
        return str(made["reservation"]["id"])

    def principal(self) -> str:
        made = self.kernel.identity.create_principal(
            TENANT, _unique("bot"), PrincipalKind.AGENT, {Role.AGENT}
        )
        return made.principal_id

    def key(self) -> str:
        return self.kernel.identity.issue_key(self.principal()).key.key_id

    def consent(self) -> tuple[str, str, str]:
        subject, purpose = f"urn:subject:{uuid4().hex}", "marketing"
        record = self.kernel.identity.consent.record(
            TENANT, subject, purpose, granted=True, actor=self.agent_a.principal_id
        )
        return subject, purpose, record.consent_id

    def destination(self, name: str | None = None) -> tuple[str, str]:
        """An allowlisted webhook destination of acme's: (name, url)."""
        name = name or _unique("dest")
        url = f"https://hooks.example.com/{uuid4().hex}"
        self.ok(self.call(self.admin_a, "PUT", f"/v1/actions/destinations/{name}", {"url": url}))
        return name, url

    def action_decision(self, *, flagged: bool = False) -> str:
        """A decision of agent A's carrying a webhook action (flagged: awaiting approval)."""
        name, _ = self.destination()
        payment = {
            "amount_minor": 1_200_000 if flagged else 1000,
            "currency": "USD",
            "rail": "wire" if flagged else "ach",
            "counterparty": {"ref": "urn:paygod:cp:1", "verified": True},
        }
        body = {
            "subject": f"urn:customer:{uuid4().hex}",
            "input": {"payment": payment},
            "packs": ["agent-payment-limits"],
            "action": {"type": "webhook", "destination": name},
        }
        made = self.ok(self.call(self.as_agent_a, "POST", "/v1/decisions", body, key=_unique("d")))
        assert made["decision"] == ("flag" if flagged else "allow"), made
        return str(made["decision_id"])

    def case(self, *, assigned: bool = False) -> str:
        """A case of acme's, raised by an alert of agent A's (so acme's admin may close it)."""
        alert = {
            "alert_id": _unique("alert"),
            "alert_type": "card_testing",
            "subject": _unique("card"),
            "risk_score": 0.9,
            "raised_by": self.agent_a.principal_id,
        }
        case = self.kernel.cases.open_from_alert(TENANT, alert)
        if assigned:
            self.kernel.cases.assign(
                case.case_id, assignee="officer", actor="lead", tenant_id=TENANT
            )
        return case.case_id

    def case_status(self, case_id: str) -> str:
        return self.kernel.cases.get(case_id, TENANT).status.value

    def reconciliation(self) -> str:
        body = {"account_id": self.account(), "statement_csv": "date,amount,reference\n"
                "2026-01-05,1.00,INV-1\n"}  # fmt: skip
        return str(self.ok(self.call(self.admin_a, "POST", "/v1/reconciliations", body))["id"])

    def credit_application(self) -> str:
        """An offer made to agent A (the prime fixture applicant)."""
        body = {
            "product_id": "personal-term-loan",
            "applicant_ref": "urn:applicant:prime",
            "amount": 500_000,
            "currency": "USD",
            "payments": 24,
            "monthly_income": 800_000,
        }
        made = self.ok(self.call(self.as_agent_a, "POST", "/v1/credit/applications", body))
        assert made["status"] == "offered", made
        return str(made["application_id"])

    def application_status(self, application_id: str) -> str:
        return self.kernel.lending.get(application_id).status.value

    def accepted_application(self) -> str:
        application_id = self.credit_application()
        path = f"/v1/credit/applications/{application_id}/accept"
        self.ok(self.call(self.as_agent_a, "POST", path))
        return application_id

    def credit_loan(self, days_ago: int = 0) -> str:
        """A loan to agent A, disbursed `days_ago` (its instalments fall due since then)."""
        from datetime import timedelta

        from paygod.kernel.clock import FixedClock

        services = (self.kernel.lending, self.kernel.loans)
        clocks = [s.clock for s in services]
        past = FixedClock(self.kernel.clock.now() - timedelta(days=days_ago))
        try:
            for service in services:
                service.clock = past
            loan_id = self.accepted_application()
            path = f"/v1/credit/loans/{loan_id}/disburse"
            self.ok(self.call(self.admin_a, "POST", path))
        finally:
            for service, clock in zip(services, clocks, strict=True):
                service.clock = clock
        return loan_id

    def credit_line_application(self) -> str:
        """A revolving line offered to agent A and accepted (not yet opened)."""
        body = {
            "product_id": "revolving-credit-line",
            "applicant_ref": "urn:applicant:prime",
            "amount": 200_000,
            "currency": "USD",
            "monthly_income": 800_000,
        }
        made = self.ok(self.call(self.as_agent_a, "POST", "/v1/credit/applications", body))
        assert made["status"] == "offered", made
        line_id = str(made["application_id"])
        self.ok(self.call(self.as_agent_a, "POST", f"/v1/credit/applications/{line_id}/accept"))
        return line_id

    def credit_line(self, drawn: int = 0) -> str:
        """An open line of agent A's, `drawn` on it."""
        line_id = self.credit_line_application()
        self.ok(self.call(self.admin_a, "POST", f"/v1/credit/lines/{line_id}/open"))
        if drawn:
            body = {"amount": drawn, "currency": "USD"}
            path = f"/v1/credit/lines/{line_id}/draws"
            self.ok(self.call(self.as_agent_a, "POST", path, body, key=f"draw-{line_id}"))
        return line_id

    def line_version(self, line_id: str) -> int:
        return self.kernel.credit_lines.get(line_id).version

    def loan_version(self, loan_id: str) -> int:
        return self.kernel.loans.get(loan_id).version


def _credit_accept(w: World) -> Target:
    application_id = w.credit_application()
    return Target(
        {"application_id": application_id},
        intact=lambda: w.application_status(application_id) == "offered",
    )


def _credit_withdraw(w: World) -> Target:
    application_id = w.credit_application()
    return Target(
        {"application_id": application_id},
        body={"reason": "changed my mind"},
        intact=lambda: w.application_status(application_id) == "offered",
    )


def _loan_disburse(w: World) -> Target:
    application_id = w.accepted_application()
    return Target(
        {"loan_id": application_id}, intact=lambda: w.kernel.loans.find(application_id) is None
    )


def _loan_repay(w: World) -> Target:
    loan_id = w.credit_loan()
    return Target(
        {"loan_id": loan_id},
        body={"amount": 100, "currency": "USD"},
        intact=lambda: w.loan_version(loan_id) == 1,
    )


def _loan_write_off(w: World) -> Target:
    loan_id = w.credit_loan(days_ago=200)
    return Target(
        {"loan_id": loan_id},
        body={"reason": "uncollectable"},
        intact=lambda: w.kernel.loans.get(loan_id).status.value == "active",
    )


def _line_open(w: World) -> Target:
    line_id = w.credit_line_application()
    return Target({"line_id": line_id}, intact=lambda: w.kernel.credit_lines.find(line_id) is None)


def _line_draw(w: World) -> Target:
    line_id = w.credit_line()
    return Target(
        {"line_id": line_id},
        body={"amount": 100, "currency": "USD"},
        intact=lambda: w.line_version(line_id) == 1,
    )


def _line_repay(w: World) -> Target:
    line_id = w.credit_line(drawn=1_000)
    return Target(
        {"line_id": line_id},
        body={"amount": 100, "currency": "USD"},
        intact=lambda: w.line_version(line_id) == 2,
    )


def _line_close(w: World) -> Target:
    line_id = w.credit_line()
    return Target(
        {"line_id": line_id},
        intact=lambda: w.kernel.credit_lines.get(line_id).status.value == "open",
    )


def _consent_get(w: World) -> Target:
    subject, _, consent_id = w.consent()
    return Target({"subject": subject}, namespaced=True, leak=consent_id)


def _consent_revoke(w: World) -> Target:
    subject, purpose, _ = w.consent()
    check = w.kernel.identity.consent.check
    return Target(
        {"subject": subject, "purpose": purpose},
        namespaced=True,
        intact=lambda: check(TENANT, subject, purpose),
    )


def _destination_get(w: World) -> Target:
    name, url = w.destination()
    return Target({"name": name}, namespaced=True, leak=url)


def _destination_put(w: World) -> Target:
    name, url = w.destination()
    store = w.kernel.actions.destinations
    return Target(
        {"name": name},
        body={"url": "https://elsewhere.example.com/x"},
        namespaced=True,
        intact=lambda: getattr(store.get(TENANT, name), "url", None) == url,
    )


def _destination_delete(w: World) -> Target:
    name, _ = w.destination()
    store = w.kernel.actions.destinations
    return Target(
        {"name": name}, namespaced=True, intact=lambda: store.get(TENANT, name) is not None
    )


def _ledger_subject(w: World) -> Target:
    entry = w.ledger_entry()
    return Target({"subject": entry.subject}, namespaced=True, leak=entry.record_hash)


def _statement(w: World) -> Target:
    return Target({"account_id": w.account()}, query=EVER)


def _closed_period(w: World) -> str:
    period = _unique("period")
    w.ok(w.call(w.admin_a, "POST", "/v1/periods", {"period": period}))
    return period


def _statement_proof(w: World) -> Target:
    account = w.account()
    return Target({"account_id": account}, query={"period": _closed_period(w)})


def _cash_branch(w: World) -> str:
    branch = _unique("br")
    w.ok(w.call(w.admin_a, "POST", "/v1/cash/branches", {"branch": branch, "ledger": "USD"}))
    return branch


def _cash_till(w: World) -> Target:
    branch = _cash_branch(w)
    body = {"till": "t1", "cash_limit": 100}
    w.ok(w.call(w.admin_a, "POST", f"/v1/cash/branches/{branch}/tills", body))
    return Target({"branch": branch, "till": "t1"}, body={"declared": 0})


def _decision(w: World) -> Target:
    # The decision behind agent A's payment was requested by agent A.
    return Target({"decision_id": w.payment()["decision"]["decision_id"]})


def _screening(w: World) -> Target:
    body = {"name": "Wladimir Putin", "subject": _unique("customer")}
    made = w.ok(w.call(w.admin_a, "POST", "/v1/screening", body))
    return Target({"screening_id": made["screening_id"]})


def _aml_alert(w: World) -> Target:
    """A structuring alert of acme's: three transfers just under the reporting threshold."""
    source = w.account(owner=None, code="asset")
    for n in range(3):
        body = {"id": _unique("xfer"), "debit_account_id": source,
                "credit_account_id": w.account(owner=None), "amount": 950_001 + n,
                "ledger": "USD"}  # fmt: skip
        w.ok(w.call(w.admin_a, "POST", "/v1/transfers", body))
    w.kernel.aml.catch_up()
    (alert,) = [a for a in w.kernel.aml.alerts(TENANT, "structuring") if a.subject == source]
    return Target({"alert_id": alert.alert_id})


def _kyc_subject(w: World) -> Target:
    subject = _unique("customer")
    body = {"subject": subject, "check": "identity", "data": {"name": "Zoë Müller"}}
    made = w.ok(w.call(w.admin_a, "POST", "/v1/kyc/checks", body))
    return Target({"subject": subject}, namespaced=True, leak=made["reference"])


def _kyc_refresh(w: World) -> Target:
    subject = _unique("customer")
    body = {"subject": subject, "check": "document", "data": {"type": "passport"}}
    w.ok(w.call(w.admin_a, "POST", "/v1/kyc/checks", body))
    return Target({"subject": subject})


def _subscription(w: World) -> str:
    body = {"channel": "inapp", "target": "officer-iso", "event_types": ["case.*"]}
    made = w.ok(w.call(w.admin_a, "POST", "/v1/notifications/subscriptions", body))
    return str(made["subscription_id"])


def _inbox_message(w: World) -> Target:
    """An in-app message to agent A (its own inbox): agent B and globex see none."""
    service = w.kernel.notifications
    subscription, _ = service.subscribe(
        TENANT, channel="inapp", target=w.agent_a.principal_id, event_types=["x.y"], actor="t"
    )
    delivery = service.test(TENANT, subscription.subscription_id, actor="t")
    w.kernel.executor.drain()
    read = lambda: bool(service.inbox(TENANT, w.agent_a.principal_id, unread=False))  # noqa: E731
    return Target({"message_id": delivery.delivery_id}, intact=read)


def _document(w: World) -> str:
    body = {"kind": "contract", "media_type": "text/plain", "content_base64": "aGVsbG8="}
    return str(w.ok(w.call(w.admin_a, "POST", "/v1/documents", body))["document_id"])


def _case_assign(w: World) -> Target:
    case_id = w.case()
    return Target(
        {"case_id": case_id},
        body={"assignee": "intruder"},
        intact=lambda: w.case_status(case_id) == "open",
    )


def _case_comment(w: World) -> Target:
    case_id = w.case()
    return Target(
        {"case_id": case_id},
        body={"text": "noted"},
        intact=lambda: not w.kernel.cases.get(case_id, TENANT).comments,
    )


def _case_close(w: World) -> Target:
    case_id = w.case(assigned=True)
    return Target(
        {"case_id": case_id},
        body={"disposition": "false_positive", "note": "ok"},
        intact=lambda: w.case_status(case_id) == "assigned",
    )


def _session_of(w: World, headers: dict[str, str]) -> str:
    return str(w.ok(w.call(headers, "POST", "/v1/identity/sessions"))["session_id"])


def _signals(w: World) -> Target:
    """A session of acme's admin: only its owner may send its signals."""
    from paygod.contauth.synthetic import generate

    session_id = _session_of(w, w.admin_a)
    sample = generate(subjects=1, sessions=1, reps=1)[0].as_features()

    def intact() -> bool:
        return w.kernel.contauth.trust(None, session_id)["events"] == 0

    return Target({"session_id": session_id}, body={"keystrokes": [sample]}, intact=intact)


def _dead_letter(w: World) -> Target:
    """A dead letter of tenant acme: agent A's payment dispatch, buried after 'failing'."""
    payment_id = w.payment()["payment_id"]
    store = w.kernel.executor.store
    message = next(m for m in store.list("pending", limit=100_000) if m.aggregate_id == payment_id)
    assert store.bury(message.event_id, None, error="rail down on every attempt")

    def intact() -> bool:
        found = store.get(message.event_id)
        return found is not None and found.status == "dead"

    return Target({"event_id": message.event_id}, intact=intact)


def _vault_record(w: World, subject: str | None = None) -> str:
    body = {
        "subject": subject or f"urn:paygod:person:{_unique('p')}",
        "class": "kyc",
        "data": {"document": "passport"},
    }
    made = w.ok(w.call(w.admin_a, "POST", "/v1/compliance/vault/records", body))
    return str(made["record"])


def _subject_export(w: World) -> Target:
    subject = f"urn:paygod:person:{_unique('p')}"
    _vault_record(w, subject)
    return Target({"subject": subject})


def _hold_release(w: World) -> Target:
    subject = f"urn:paygod:person:{_unique('p')}"
    w.ok(w.call(w.admin_a, "POST", "/v1/compliance/holds", {"subject": subject, "reason": "x"}))

    def held() -> bool:
        holds = w.ok(w.call(w.admin_a, "GET", "/v1/compliance/holds"))["holds"]
        return subject in [h["subject"] for h in holds]

    return Target({"subject": subject}, intact=held)


def _retention_policy(w: World) -> Target:
    w.ok(w.call(w.admin_a, "PUT", "/v1/compliance/retention/vault", {"max_age_days": 400}))

    def kept() -> bool:
        found = w.ok(w.call(w.admin_a, "GET", "/v1/compliance/retention"))["policies"]
        return [p["max_age_days"] for p in found if p["data_class"] == "vault"] == [400]

    # Each tenant sets its own policy: another tenant's PUT is about its own namespace.
    return Target({"data_class": "vault"}, body={"max_age_days": 400}, namespaced=True, intact=kept)


def _mandate(w: World) -> str:
    """A mandate of tenant acme, granted by a human of acme to agent A."""
    from tests.support.mandates import Party, new_key, signed_grant

    human = w.kernel.identity.create_principal(
        TENANT, _unique("human"), PrincipalKind.HUMAN, {Role.OPERATOR}
    )
    party = Party(human.principal_id, _unique("key"), new_key())
    service = w.kernel.mandates.service
    service.register_key(
        TENANT, principal_id=human.principal_id, key_id=party.key_id, jwk=party.jwk, actor="t"
    )
    grant = signed_grant(
        party, w.agent_a.principal_id, {"currency": "EUR", "budget": "50.00"}, tenant=TENANT
    )
    return service.grant(TENANT, grant, actor=human.principal_id, any_grantor=True).mandate_id


def _mandate_revoke(w: World) -> Target:
    mandate_id = _mandate(w)
    return Target(
        {"mandate_id": mandate_id},
        body={"reason": "intruder"},
        intact=lambda: w.kernel.mandates.service.get(mandate_id, TENANT).status.value == "active",
    )


FACTORIES: dict[tuple[str, str], Callable[[World], Target]] = {
    # privacy
    ("GET", "/v1/compliance/vault/records/{record_id}"): lambda w: Target(
        {"record_id": _vault_record(w)}
    ),
    ("GET", "/v1/compliance/subjects/{subject}/export"): _subject_export,
    ("DELETE", "/v1/compliance/holds/{subject}"): _hold_release,
    ("PUT", "/v1/compliance/retention/{data_class}"): _retention_policy,
    # mandates
    ("GET", "/v1/mandates/{mandate_id}"): lambda w: Target({"mandate_id": _mandate(w)}),
    ("POST", "/v1/mandates/{mandate_id}/revoke"): _mandate_revoke,
    # compliance
    ("GET", "/v1/screening/{screening_id}"): _screening,
    ("GET", "/v1/kyc/subjects/{subject}"): _kyc_subject,
    ("POST", "/v1/kyc/subjects/{subject}/refresh"): _kyc_refresh,
    # identity
    ("GET", "/v1/identity/principals/{principal_id}"): lambda w: Target(
        {"principal_id": w.principal()}
    ),
    ("PUT", "/v1/identity/principals/{principal_id}/roles"): lambda w: Target(
        {"principal_id": w.principal()}, body={"roles": ["auditor"]}
    ),
    ("POST", "/v1/identity/principals/{principal_id}/disable"): lambda w: Target(
        {"principal_id": w.principal()}
    ),
    ("POST", "/v1/identity/principals/{principal_id}/keys"): lambda w: Target(
        {"principal_id": w.principal()}, body={}
    ),
    ("POST", "/v1/identity/principals/{principal_id}/totp-enrolment"): lambda w: Target(
        {"principal_id": w.principal()}
    ),
    ("POST", "/v1/identity/keys/{key_id}/rotate"): lambda w: Target({"key_id": w.key()}),
    ("DELETE", "/v1/identity/keys/{key_id}"): lambda w: Target({"key_id": w.key()}),
    ("GET", "/v1/identity/consents/{subject}"): _consent_get,
    ("DELETE", "/v1/identity/consents/{subject}/{purpose}"): _consent_revoke,
    # decisions
    ("GET", "/v1/decisions/{decision_id}"): _decision,
    ("POST", "/v1/decisions/{decision_id}/replay"): _decision,
    ("POST", "/v1/executor/dead/{event_id}/retry"): _dead_letter,
    ("POST", "/v1/executor/dead/{event_id}/discard"): _dead_letter,
    # actions
    ("GET", "/v1/decisions/{decision_id}/action"): lambda w: Target(
        {"decision_id": w.action_decision()}
    ),
    ("POST", "/v1/decisions/{decision_id}/action/approve"): lambda w: Target(
        {"decision_id": w.action_decision(flagged=True)}, body={"note": "ok"}
    ),
    ("POST", "/v1/decisions/{decision_id}/action/reject"): lambda w: Target(
        {"decision_id": w.action_decision(flagged=True)}, body={"note": "no"}
    ),
    ("GET", "/v1/actions/destinations/{name}"): _destination_get,
    ("PUT", "/v1/actions/destinations/{name}"): _destination_put,
    ("DELETE", "/v1/actions/destinations/{name}"): _destination_delete,
    # accounting
    ("GET", "/v1/accounts/{account_id}"): lambda w: Target({"account_id": w.account()}),
    ("POST", "/v1/accounts/{account_id}/close"): lambda w: Target({"account_id": w.account()}),
    ("GET", "/v1/accounts/{account_id}/balance"): lambda w: Target({"account_id": w.account()}),
    ("GET", "/v1/accounts/{account_id}/statement"): _statement,
    ("GET", "/v1/accounts/{account_id}/statement-proof"): _statement_proof,
    ("GET", "/v1/periods/{period}"): lambda w: Target({"period": _closed_period(w)}),
    ("GET", "/v1/cash/branches/{branch}"): lambda w: Target({"branch": _cash_branch(w)}),
    ("POST", "/v1/cash/branches/{branch}/tills"): lambda w: Target(
        {"branch": _cash_branch(w)}, body={"till": "t9", "cash_limit": 5}
    ),
    ("POST", "/v1/cash/branches/{branch}/tills/{till}/count"): _cash_till,
    ("GET", "/v1/transfers/{transfer_id}"): lambda w: Target({"transfer_id": w.transfer()}),
    ("POST", "/v1/transfers/{transfer_id}/post"): lambda w: Target(
        {"transfer_id": w.transfer(pending=True)}
    ),
    ("POST", "/v1/transfers/{transfer_id}/void"): lambda w: Target(
        {"transfer_id": w.transfer(pending=True)}
    ),
    ("POST", "/v1/transfers/{transfer_id}/reverse"): lambda w: Target(
        {"transfer_id": w.transfer()}
    ),
    ("GET", "/v1/reconciliations/{reconciliation_id}"): lambda w: Target(
        {"reconciliation_id": w.reconciliation()}
    ),
    ("POST", "/v1/credits/reservations/{reservation_id}/commit"): lambda w: Target(
        {"reservation_id": w.reservation()}
    ),
    ("POST", "/v1/credits/reservations/{reservation_id}/cancel"): lambda w: Target(
        {"reservation_id": w.reservation()}
    ),
    # payments
    ("GET", "/v1/credit/applications/{application_id}"): lambda w: Target(
        {"application_id": w.credit_application()}
    ),
    ("POST", "/v1/credit/applications/{application_id}/accept"): _credit_accept,
    ("POST", "/v1/credit/applications/{application_id}/withdraw"): _credit_withdraw,
    ("GET", "/v1/credit/loans/{loan_id}"): lambda w: Target({"loan_id": w.credit_loan()}),
    ("POST", "/v1/credit/loans/{loan_id}/disburse"): _loan_disburse,
    ("POST", "/v1/credit/loans/{loan_id}/repayments"): _loan_repay,
    ("POST", "/v1/credit/loans/{loan_id}/assess"): lambda w: Target({"loan_id": w.credit_loan()}),
    ("POST", "/v1/credit/loans/{loan_id}/write-off"): _loan_write_off,
    ("GET", "/v1/credit/lines/{line_id}"): lambda w: Target({"line_id": w.credit_line()}),
    ("POST", "/v1/credit/lines/{line_id}/open"): _line_open,
    ("POST", "/v1/credit/lines/{line_id}/draws"): _line_draw,
    ("POST", "/v1/credit/lines/{line_id}/repayments"): _line_repay,
    ("POST", "/v1/credit/lines/{line_id}/close"): _line_close,
    ("GET", "/v1/payments/{payment_id}"): lambda w: Target(
        {"payment_id": w.payment()["payment_id"]}
    ),
    ("POST", "/v1/payments/{payment_id}/approve"): lambda w: Target(
        {"payment_id": w.review_payment()}, body={"note": "checked"}, caller=w.as_checker()
    ),
    ("POST", "/v1/payments/{payment_id}/reject"): lambda w: Target(
        {"payment_id": w.review_payment()}, body={"note": "no"}, caller=w.as_checker()
    ),
    # aml
    ("GET", "/v1/aml/alerts/{alert_id}"): _aml_alert,
    # notifications and documents
    ("DELETE", "/v1/notifications/subscriptions/{subscription_id}"): lambda w: Target(
        {"subscription_id": _subscription(w)}
    ),
    ("POST", "/v1/notifications/subscriptions/{subscription_id}/test"): lambda w: Target(
        {"subscription_id": _subscription(w)}
    ),
    ("POST", "/v1/notifications/inbox/{message_id}/read"): _inbox_message,
    ("GET", "/v1/documents/{document_id}"): lambda w: Target({"document_id": _document(w)}),
    ("GET", "/v1/documents/{document_id}/content"): lambda w: Target({"document_id": _document(w)}),
    # cases
    ("GET", "/v1/cases/{case_id}"): lambda w: Target({"case_id": w.case()}),
    ("POST", "/v1/cases/{case_id}/assign"): _case_assign,
    ("POST", "/v1/cases/{case_id}/comments"): _case_comment,
    ("POST", "/v1/cases/{case_id}/close"): _case_close,
    # continuous authentication
    ("POST", "/v1/identity/sessions/{session_id}/signals"): _signals,
    ("GET", "/v1/identity/sessions/{session_id}/trust"): lambda w: Target(
        {"session_id": _session_of(w, w.as_agent_a)}
    ),
    ("GET", "/v1/contauth/models/{principal_id}"): lambda w: Target(
        {"principal_id": w.agent_a.principal_id}
    ),
    # ledger
    ("GET", "/v1/ledger/entries/{seq}"): lambda w: Target({"seq": str(w.ledger_entry().seq)}),
    ("GET", "/v1/ledger/proofs/inclusion/{seq}"): lambda w: Target(
        {"seq": str(w.ledger_entry().seq)}
    ),
    ("GET", "/v1/ledger/subjects/{subject}"): _ledger_subject,
}


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    home = tmp_path_factory.mktemp("object-isolation")
    built = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    yield built
    built.close()


@pytest.fixture(scope="module")
def world(kernel: Kernel) -> World:
    return World(kernel, unthrottled_client(kernel))


def _parameterised(http: TestClient) -> list[tuple[str, str]]:
    spec = http.get("/openapi.json").json()
    found = []
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if not template.startswith("/v1/") or method.upper() not in {
                "GET", "POST", "PUT", "PATCH", "DELETE"
            }:  # fmt: skip
                continue
            if any(p.get("in") == "path" for p in op.get("parameters", [])):
                found.append((method.upper(), template))
    return found


def test_every_parameterised_route_has_an_object_factory(world: World) -> None:
    routes = {r for r in _parameterised(world.http) if r not in PUBLIC_ROUTES}
    missing = sorted(routes - FACTORIES.keys() - SHARED.keys())
    assert not missing, f"routes naming an object without a factory here: {missing}"
    stale = sorted((FACTORIES.keys() | SHARED.keys()) - routes)
    assert not stale, f"factories for routes that no longer exist: {stale}"
    assert len(routes) >= 25


def _path(template: str, params: dict[str, str]) -> str:
    return template.format(**{k: quote(v, safe=":") for k, v in params.items()})


def test_objects_are_invisible_across_tenants_and_owners(world: World) -> None:
    wrong: list[str] = []
    agent_routes = 0
    for method, template in sorted(FACTORIES):
        target = FACTORIES[(method, template)](world)
        path = _path(template, target.params)
        permission = permission_for(method, template)
        assert permission is not None, f"{method} {template} is not in ROUTE_PERMISSIONS"
        agents_own = grant({Role.AGENT}, permission) is Scope.OWN
        others = [("globex admin", world.admin_b)]
        if agents_own:
            others.append(("agent B", world.as_agent_b))
            agent_routes += 1
        for who, headers in others:
            r = world.call(headers, method, path, target.body, target.query, _unique("k"))
            if target.namespaced:
                if r.status_code not in (200, 201, 404):
                    wrong.append(f"{method} {template}: {who} got {r.status_code}")
                if target.leak and target.leak in r.text:
                    wrong.append(f"{method} {template}: {who} saw acme's record")
            elif r.status_code != 404:
                wrong.append(f"{method} {template}: {who} got {r.status_code}, expected 404")
        if target.intact is not None and not target.intact():
            wrong.append(f"{method} {template}: another tenant's call changed acme's object")
        owner = target.caller or (world.as_agent_a if agents_own else world.admin_a)
        r = world.call(owner, method, path, target.body, target.query, _unique("k"))
        if r.status_code >= 300:
            wrong.append(f"{method} {template}: its owner got {r.status_code}: {r.text[:200]}")
        elif target.leak and target.leak not in r.text:
            wrong.append(f"{method} {template}: the owner's answer lacks its own record")
    assert agent_routes >= 8, "agents' own objects were walked"
    assert not wrong, "\n".join(wrong)


def test_shared_objects_are_the_same_for_every_tenant(world: World) -> None:
    body = {
        "input": {
            "payment": {
                "amount_minor": 1000,
                "currency": "EUR",
                "rail": "sepa",
                "counterparty": {"ref": "urn:paygod:cp:1", "verified": True},
            }
        }
    }
    path = "/v1/packs/agent-payment-limits/evaluate"
    assert {k for k in SHARED if "pipeline" not in k[1] and "diff" not in k[1]} >= {
        ("POST", "/v1/packs/{name}/evaluate"),
        ("GET", "/v1/risk/models/{version}"),
        ("GET", "/v1/compliance/reports/{kind}"),
        ("GET", "/v1/projections/{name}"),
    }
    for method, template in SHARED:
        if method == "POST" and not template.endswith("/evaluate") and "/packs/" in template:
            moved = world.call(world.admin_b, method, template.replace("{name}", "x"), {})
            assert moved.status_code == 403, (template, moved.text)
    answers = [world.call(h, "POST", path, body).json() for h in (world.admin_a, world.admin_b)]
    assert answers[0] == answers[1] and answers[0]["sealed"] is False


def test_scope_own_lists_only_the_agents_objects(world: World) -> None:
    """List queries are filtered by owner in the store: agent B's pages hold none of A's."""
    mine = world.account()
    transfer = world.transfer()
    listed_b = world.ok(
        world.call(world.as_agent_b, "GET", "/v1/accounts", query={"limit": "1000"})
    )
    assert listed_b["accounts"] == []
    transfers_b = world.ok(world.call(world.as_agent_b, "GET", "/v1/transfers"))
    assert transfers_b["transfers"] == []
    csv_b = world.call(world.as_agent_b, "GET", "/v1/transfers", query={"format": "csv"})
    assert csv_b.status_code == 200 and transfer not in csv_b.text
    listed_a = world.ok(
        world.call(world.as_agent_a, "GET", "/v1/accounts", query={"limit": "1000"})
    )
    ids = {a["id"] for a in listed_a["accounts"]}
    assert mine in ids and world.treasury not in ids
    assert all(a["owner"] == world.agent_a.principal_id for a in listed_a["accounts"])
    transfers_a = world.ok(
        world.call(world.as_agent_a, "GET", "/v1/transfers", query={"limit": "1000"})
    )
    assert transfer in {t["id"] for t in transfers_a["transfers"]}
    everything = world.ok(world.call(world.admin_a, "GET", "/v1/accounts", query={"limit": "1000"}))
    assert world.treasury in {a["id"] for a in everything["accounts"]}  # scope `all`


def test_an_agent_cannot_act_in_another_principals_name(world: World) -> None:
    size = world.kernel.ledger.size
    theirs = world.account(owner=None)
    body = {
        "payer_account": theirs,
        "payee": US_BANK,
        "amount": 100,
        "currency": "USD",
        "purpose": "not mine",
        "metadata": {"counterparty_verified": True},
    }
    paid = world.call(world.as_agent_b, "POST", "/v1/payments", body, key=_unique("p"))
    assert paid.status_code == 422, paid.text
    assert paid.json()["errors"][0]["pointer"] == "/payer_account"
    on_behalf = {"amount": 1, "metadata": {"requested_by": world.agent_a.principal_id}}
    reserved = world.call(world.as_agent_b, "POST", "/v1/credits/reservations", on_behalf)
    assert reserved.status_code == 422, reserved.text
    assert reserved.json()["errors"][0]["pointer"] == "/metadata/requested_by"
    assert world.kernel.ledger.size == size + 1  # only the admin's account opening
    stranger = {"id": _unique("acct"), "ledger": "USD", "code": "liability", "owner": "nobody"}
    refused = world.call(world.admin_a, "POST", "/v1/accounts", stranger)
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/owner"


def test_an_agents_own_decision_and_its_idempotency_key(world: World) -> None:
    body = {
        "subject": "urn:paygod:agent:a",
        "input": {
            "payment": {
                "amount_minor": 1000,
                "currency": "EUR",
                "rail": "sepa",
                "counterparty": {"ref": "urn:paygod:cp:1", "verified": True},
            }
        },
    }
    key = _unique("decide")
    made = world.ok(world.call(world.as_agent_a, "POST", "/v1/decisions", body, key=key))
    path = f"/v1/decisions/{made['decision_id']}"
    assert world.call(world.as_agent_a, "GET", path).status_code == 200
    assert world.call(world.as_agent_b, "GET", path).status_code == 404
    assert world.call(world.admin_a, "GET", path).status_code == 200  # scope `all`
    replay = world.call(world.as_agent_b, "POST", "/v1/decisions", body, key=key)
    assert replay.status_code == 409 and made["decision_id"] not in replay.text
    again = world.call(world.as_agent_a, "POST", "/v1/decisions", body, key=key)
    assert again.status_code == 200 and again.json()["decision_id"] == made["decision_id"]
