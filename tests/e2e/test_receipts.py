"""Every sealing write answers with a `receipt` the standalone verifier accepts.

`test_every_sealing_route_documents_its_receipt` walks the OpenAPI document: a /v1 write
route that seals must show `receipt` in its success schema. `test_each_sealing_route_*`
then calls every one of those routes for real and checks each receipt with
`paygod/ledger/verifier.py` alone (proof, signed head, and the entry it names).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from paygod import bootstrap
from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.kernel.clock import ManualClock
from paygod.kernel.settings import load_settings
from paygod.ledger import verifier
from paygod.payments.signing import SIGNATURE_HEADER, sign
from paygod.payments.wiring import webhook_secret
from tests.support.accounts import open_funded_payer
from tests.support.bundles import PACK, challenger_bundle, keypair, upload_body
from tests.support.http import api_client, principal_headers
from tests.support.stepup import SecondFactor
from tests.unit.payments.support import US_BANK

WRITES = {"post", "put", "patch", "delete"}
# /v1 writes that seal nothing, each with why: they may not claim a receipt.
NOT_SEALING = {
    ("post", "/v1/identity/sessions"): "issues a short-lived token",
    ("post", "/v1/identity/me/totp"): "starts an enrolment (a secret, not a ledger fact)",
    ("post", "/v1/identity/me/totp/confirm"): "confirms the enrolment",
    ("post", "/v1/packs/{name}/evaluate"): "a dry run",
    ("post", "/v1/payments/quote"): "a quote",
    ("post", "/v1/credit/apr"): "a calculator",
    ("post", "/v1/decisions/{decision_id}/replay"): "a dry run of today's packs",
    ("post", "/v1/risk/score"): "a dry run of the risk model",
    ("post", "/v1/credit/schedule"): "a calculator",
    ("post", "/v1/notifications/inbox/{message_id}/read"): "a read mark on the inbox row",
    ("post", "/v1/identity/principals/{principal_id}/totp-enrolment"): (
        "identity rows only (a one-time enrolment token)"
    ),
}
# A subject whose KYC check stays pending until refreshed or called back.
KYC_YAML = """
providers:
  simulated:
    type: simulated
    fixtures:
      "customer:r-refresh": {status: pending}
      "customer:r-callback": {status: pending}
"""


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    home = tmp_path_factory.mktemp("receipts")
    (home / "kyc.yaml").write_text(KYC_YAML)
    # Uploaded policy bundles must be signed by a trusted key (`_pack_calls`).
    _private, public = keypair(home, "release")
    # A manual clock, so the loan walk can let 120 days pass (see `_loan_calls`).
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    real = bootstrap.clock_from_settings
    bootstrap.clock_from_settings = lambda settings: clock  # type: ignore[assignment]
    try:
        with pytest.MonkeyPatch.context() as env:
            # One harness principal makes every call and reads every entry back, faster
            # than the default burst allows; rate limits have tests of their own.
            env.setenv("PAYGOD_RATE_PRINCIPAL_BURST", "2000")
            env.setenv("PAYGOD_RATE_TENANT_BURST", "4000")
            built = build_kernel(
                load_settings(
                    home=home, database_url=None, redis_url=None, packs_trusted_keys=public
                )
            )
    finally:
        bootstrap.clock_from_settings = real  # type: ignore[assignment]
    open_funded_payer(built.accounting, amount=50_000_000)
    yield built
    built.close()


@pytest.fixture(scope="module")
def http(kernel: Kernel) -> TestClient:
    return api_client(kernel)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _has_receipt(spec: dict[str, Any], op: dict[str, Any]) -> bool:
    for status in ("200", "201"):
        content = op.get("responses", {}).get(status, {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema and "receipt" in _resolve(spec, schema).get("properties", {}):
            return True
    return False


def _sealing_routes(http: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    spec = http.get("/openapi.json").json()
    found = {}
    for template, item in spec["paths"].items():
        if not template.startswith("/v1/"):
            continue
        for method, op in item.items():
            if method in WRITES and (method, template) not in NOT_SEALING:
                found[(method, template)] = op
    return found


def test_every_sealing_route_documents_its_receipt(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    routes = _sealing_routes(http)
    assert len(routes) >= 15
    missing = sorted(
        f"{m.upper()} {t}" for (m, t), op in routes.items() if not _has_receipt(spec, op)
    )
    assert not missing, f"sealing routes without `receipt` in their success schema: {missing}"
    receipt = spec["components"]["schemas"]["Receipt"]
    assert set(receipt["required"]) >= {
        "seq",
        "first_seq",
        "entry_id",
        "record_hash",
        "inclusion_proof",
        "tree_head",
    }


def verify_receipt(kernel: Kernel, http: TestClient, receipt: dict[str, Any]) -> None:
    """With the standalone verifier only: the proof holds, the head is signed by the
    ledger's key and names the proof's root and size, and the proof's leaf is the entry."""
    pem = kernel.ledger.public_key_pem()
    proof, head = receipt["inclusion_proof"], receipt["tree_head"]
    assert verifier.check_inclusion(proof) is None, receipt
    assert verifier.check_tree_head(head, pem) is None, receipt
    assert (proof["tree_size"], proof["root_hash"]) == (head["tree_size"], head["root_hash"])
    assert proof["leaf_index"] == receipt["seq"] >= receipt["first_seq"]
    entry = http.get(f"/v1/ledger/entries/{receipt['seq']}").json()
    line = entry["interchange"]
    assert line["record_hash"] == receipt["record_hash"] == entry["record_hash"]
    assert entry["entry_id"] == receipt["entry_id"]
    assert verifier.interchange_leaf_hash(line).hex() == proof["leaf_hash"]
    assert (
        verifier.record_hash(line["data"], line["previous_hash"], line["timestamp"])
        == receipt["record_hash"]
    )


PAYMENT = {
    "payer_account": "agent-1",
    "payee": US_BANK,
    "currency": "USD",
    "purpose": "invoice 42",
    "metadata": {"counterparty_verified": True},
}


def _calls(kernel: Kernel, http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """(method, template, response) of one real call of every sealing route."""
    yield from _identity_calls(http)
    yield from _notification_calls(http)
    yield from _document_calls(http)
    yield (
        "post",
        "/v1/decisions",
        http.post(
            "/v1/decisions",
            json={
                "subject": "urn:paygod:agent:r",
                "input": {
                    "payment": {
                        "amount_minor": 10,
                        "currency": "EUR",
                        "rail": "card",
                        "counterparty": {"ref": "urn:paygod:cp:x", "verified": True},
                    }
                },
            },
            headers={"Idempotency-Key": "r-decision"},
        ),
    )
    for body in (
        {"id": "rw", "ledger": "EUR", "code": "liability"},
        {"id": "rb", "ledger": "EUR", "code": "asset"},
        {"id": "rc", "ledger": "EUR", "code": "asset"},
    ):
        yield "post", "/v1/accounts", http.post("/v1/accounts", json=body)
    yield "post", "/v1/accounts/{account_id}/close", http.post("/v1/accounts/rc/close")
    one = {"id": "rt1", "debit_account_id": "rb", "credit_account_id": "rw", "amount": 500}
    yield "post", "/v1/transfers", http.post("/v1/transfers", json=one)
    linked = {
        "transfers": [
            {**one, "id": "rl1", "amount": 5, "flags": ["linked"]},
            {**one, "id": "rl2", "amount": 6},
        ]
    }
    batch = http.post("/v1/transfers", json=linked)
    assert batch.json()["receipt"]["seq"] - batch.json()["receipt"]["first_seq"] >= 1
    yield "post", "/v1/transfers", batch
    for hold, action in (("rh1", "post"), ("rh2", "void")):
        pending = {**one, "id": hold, "amount": 7, "flags": ["pending"]}
        assert http.post("/v1/transfers", json=pending).status_code == 201
        yield (
            "post",
            f"/v1/transfers/{{transfer_id}}/{action}",
            http.post(f"/v1/transfers/{hold}/{action}", json={}),
        )
    yield (
        "post",
        "/v1/transfers/{transfer_id}/reverse",
        http.post("/v1/transfers/rt1/reverse", json={}),
    )
    yield "post", "/v1/periods", http.post("/v1/periods", json={"period": "r-period"})
    yield from _cash_calls(http)
    statement = {"account_id": "rb", "statement_csv": "date,amount,reference\n2026-01-01,1,x\n"}
    yield "post", "/v1/reconciliations", http.post("/v1/reconciliations", json=statement)
    yield (
        "put",
        "/v1/credits/threshold",
        http.put("/v1/credits/threshold", json={"low_balance_threshold": 5}),
    )
    yield "post", "/v1/credits/purchase", http.post("/v1/credits/purchase", json={"amount": 50})
    yield "post", "/v1/credits/consume", http.post("/v1/credits/consume", json={"amount": 1})
    for action in ("commit", "cancel"):
        made = http.post("/v1/credits/reservations", json={"amount": 2, "ttl_seconds": 60})
        yield "post", "/v1/credits/reservations", made
        reservation = made.json()["reservation"]["id"]
        yield (
            "post",
            f"/v1/credits/reservations/{{reservation_id}}/{action}",
            http.post(f"/v1/credits/reservations/{reservation}/{action}"),
        )
    consent = {"subject": "urn:person:r", "purpose": "marketing", "tenant_id": "default"}
    yield "post", "/v1/identity/consents", http.post("/v1/identity/consents", json=consent)
    yield (
        "delete",
        "/v1/identity/consents/{subject}/{purpose}",
        http.delete("/v1/identity/consents/urn:person:r/marketing?tenant_id=default"),
    )
    for on in (True, False):
        yield (
            "post",
            "/v1/admin/panic",
            http.post("/v1/admin/panic", json={"on": on, "reason": "drill"}),
        )
    kernel.payments.connectors["ach"].settle_after = 3600  # type: ignore[attr-defined]
    created = http.post(
        "/v1/payments", json={**PAYMENT, "amount": 12_500}, headers={"Idempotency-Key": "r-p"}
    )
    yield "post", "/v1/payments", created
    kernel.executor.drain()
    payload = orjson.dumps({"idempotency_key": created.json()["payment_id"], "status": "settled"})
    now = int(kernel.clock.now().timestamp())
    signature = sign(webhook_secret(kernel.settings.home), payload, timestamp=now)
    anonymous = TestClient(http.app, raise_server_exceptions=False)
    yield (
        "post",
        "/v1/payments/webhooks/{rail}",
        anonymous.post(
            "/v1/payments/webhooks/ach", content=payload, headers={SIGNATURE_HEADER: signature}
        ),
    )
    maker = api_client(kernel, principal_headers(kernel, name="r-maker"))
    # Maker-checker needs a second person: a human the maker did not create (issue 15).
    officer = kernel.identity.create_principal(
        kernel.settings.tenant, "r-checker", PrincipalKind.HUMAN, {Role.COMPLIANCE_OFFICER}
    )
    checker = api_client(
        kernel,
        {"Authorization": f"Bearer {kernel.identity.issue_key(officer.principal_id).token}"},
    )
    # A human's approval is a step-up action: a fresh TOTP code each time.
    factor = SecondFactor(kernel, officer)
    for action in ("approve", "reject"):
        big = {**PAYMENT, "amount": 1_500_000, "rail_preference": "wire"}
        review = maker.post("/v1/payments", json=big, headers={"Idempotency-Key": f"r-{action}"})
        assert review.json()["decision"]["verdict"] == "review", review.text
        yield (
            "post",
            f"/v1/payments/{{payment_id}}/{action}",
            checker.post(
                f"/v1/payments/{review.json()['payment_id']}/{action}",
                json={"note": "checked"},
                headers=factor.header(),
            ),
        )
    yield from _case_calls(http, checker)
    yield from _dead_letter_calls(kernel, http)
    yield from _action_calls(http)
    application_id = yield from _credit_calls(http)
    yield from _compliance_calls(kernel, http)
    yield from _privacy_calls(http)
    yield from _aml_calls(http)
    yield from _line_calls(http)
    yield from _loan_calls(kernel, http, application_id)
    yield from _pack_calls(kernel, http)
    yield from _mandate_calls(kernel, http)


def _identity_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A tenant, a principal given other roles and disabled, and its keys issued, rotated
    and revoked: each change of an identity object is sealed (identity/entries.py)."""
    yield (
        "post",
        "/v1/identity/tenants",
        http.post("/v1/identity/tenants", json={"tenant_id": "r-t"}),
    )
    made = http.post(
        "/v1/identity/principals",
        json={"name": "r-identity", "kind": "agent", "roles": ["agent"], "tenant_id": "default"},
    )
    yield "post", "/v1/identity/principals", made
    principal = made.json()["principal_id"]
    yield (
        "put",
        "/v1/identity/principals/{principal_id}/roles",
        http.put(f"/v1/identity/principals/{principal}/roles", json={"roles": ["auditor"]}),
    )
    issued = http.post(f"/v1/identity/principals/{principal}/keys", json={})
    yield "post", "/v1/identity/principals/{principal_id}/keys", issued
    rotated = http.post(f"/v1/identity/keys/{issued.json()['key_id']}/rotate", json={})
    yield "post", "/v1/identity/keys/{key_id}/rotate", rotated
    yield (
        "delete",
        "/v1/identity/keys/{key_id}",
        http.delete(f"/v1/identity/keys/{rotated.json()['key_id']}"),
    )
    yield (
        "post",
        "/v1/identity/principals/{principal_id}/disable",
        http.post(f"/v1/identity/principals/{principal}/disable"),
    )


def _pack_calls(kernel: Kernel, http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A signed challenger uploaded, shadowed, through its gate (5 reviewed outcomes where
    it was right) to a 5 % canary, stepped to 10 % and rolled back."""
    home = kernel.settings.home
    bundle = challenger_bundle(home / "pack-calls", home / "release.key")
    uploaded = http.post("/v1/packs/bundles", json=upload_body(bundle))
    yield "post", "/v1/packs/bundles", uploaded
    yield (
        "post",
        "/v1/packs/{name}/promote",
        http.post(f"/v1/packs/{PACK}/promote", json={"to": "shadow"}),
    )
    card = {  # above the challenger's card limit (400000), within the champion's (500000)
        "subject": "urn:paygod:agent:r-shadow",
        "input": {
            "payment": {
                "amount_minor": 450_000,
                "currency": "EUR",
                "rail": "card",
                "counterparty": {"ref": "urn:paygod:cp:x", "verified": True},
            }
        },
        "packs": [PACK],
    }
    for n in range(5):
        decided = http.post("/v1/decisions", json=card, headers={"Idempotency-Key": f"r-sh-{n}"})
        assert decided.json()["shadow"][0]["decision"] == "deny", decided.text
        yield (
            "post",
            "/v1/packs/{name}/outcomes",
            http.post(
                f"/v1/packs/{PACK}/outcomes",
                json={"decision_id": decided.json()["decision_id"], "correct": "deny"},
            ),
        )
    canary = {"to": "canary", "percent": 5, "minimum_sample": 5}
    yield "post", "/v1/packs/{name}/promote", http.post(f"/v1/packs/{PACK}/promote", json=canary)
    yield (
        "post",
        "/v1/packs/{name}/canary",
        http.post(f"/v1/packs/{PACK}/canary", json={"percent": 10}),
    )
    yield (
        "post",
        "/v1/packs/{name}/rollback",
        http.post(f"/v1/packs/{PACK}/rollback", json={"reason": "drill"}),
    )


def _cash_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A branch and a till; cash in, cash out, to the vault; the end-of-day count."""
    branch = http.post("/v1/cash/branches", json={"branch": "rc", "ledger": "EUR"})
    yield "post", "/v1/cash/branches", branch
    till = http.post("/v1/cash/branches/rc/tills", json={"till": "t1", "cash_limit": 1000})
    yield "post", "/v1/cash/branches/{branch}/tills", till
    wallet = {"id": "rc-wallet", "ledger": "EUR", "code": "liability"}
    assert http.post("/v1/accounts", json=wallet).status_code == 201
    move = {"branch": "rc", "till": "t1", "account_id": "rc-wallet"}
    yield (
        "post",
        "/v1/cash/deposits",
        http.post("/v1/cash/deposits", json={**move, "id": "rc-d", "amount": 50}),
    )
    yield (
        "post",
        "/v1/cash/withdrawals",
        http.post("/v1/cash/withdrawals", json={**move, "id": "rc-w", "amount": 5}),
    )
    vault = {"id": "rc-v", "branch": "rc", "till": "t1", "amount": 10, "direction": "to_vault"}
    yield "post", "/v1/cash/vault-transfers", http.post("/v1/cash/vault-transfers", json=vault)
    yield (
        "post",
        "/v1/cash/branches/{branch}/tills/{till}/count",
        http.post("/v1/cash/branches/rc/tills/t1/count", json={"declared": 30}),
    )


def _mandate_calls(kernel: Kernel, http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A human's and an agent's keys registered, a native grant signed by the human and an
    AP2 credential imported, both revoked."""
    from tests.support.mandates import Party, chain, new_key, open_payment_mandate, signed_grant

    human = kernel.identity.create_principal(
        "default", "r-human", PrincipalKind.HUMAN, {Role.OPERATOR}
    )
    agent = kernel.identity.create_principal(
        "default", "r-agent", PrincipalKind.AGENT, {Role.AGENT}
    )
    parties = {}
    for principal, name in ((human, "r-human-key"), (agent, "r-agent-key")):
        party = Party(principal.principal_id, name, new_key())
        body = {"key_id": name, "jwk": party.jwk, "principal_id": principal.principal_id}
        yield "post", "/v1/mandates/keys", http.post("/v1/mandates/keys", json=body)
        parties[name] = party
    grant = signed_grant(
        parties["r-human-key"], agent.principal_id, {"currency": "EUR", "budget": "20.00"}
    )
    granted = http.post("/v1/mandates", json={"grant": grant})
    yield "post", "/v1/mandates", granted
    credential = chain(
        parties["r-human-key"],
        None,
        open_payment_mandate(parties["r-agent-key"].jwk, now=int(kernel.clock.now().timestamp())),
    )
    imported = http.post("/v1/mandates/import", json={"credential": credential})
    yield "post", "/v1/mandates/import", imported
    for made in (granted, imported):
        yield (
            "post",
            "/v1/mandates/{mandate_id}/revoke",
            http.post(f"/v1/mandates/{made.json()['mandate_id']}/revoke", json={"reason": "done"}),
        )


def _case_calls(http: TestClient, checker: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A case opened by hand, assigned and commented; closed by another principal (its
    opener may not close it)."""
    body = {"subject": "card:r-case", "alert_type": "card_testing", "note": "many small auths"}
    opened = http.post("/v1/cases", json=body)
    yield "post", "/v1/cases", opened
    case = f"/v1/cases/{opened.json()['case_id']}"
    yield (
        "post",
        "/v1/cases/{case_id}/assign",
        http.post(f"{case}/assign", json={"assignee": "officer"}),
    )
    yield (
        "post",
        "/v1/cases/{case_id}/comments",
        http.post(f"{case}/comments", json={"text": "looked at the burst"}),
    )
    yield (
        "post",
        "/v1/cases/{case_id}/close",
        checker.post(f"{case}/close", json={"disposition": "false_positive", "note": "ok"}),
    )


def _dead_letter_calls(kernel: Kernel, http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A payment's dispatch buried as if every attempt failed, retried, buried again and
    discarded (the worker is drained by hand here, so the message waits)."""
    created = http.post(
        "/v1/payments", json={**PAYMENT, "amount": 900}, headers={"Idempotency-Key": "r-dead"}
    )
    store = kernel.executor.store
    payment_id = created.json()["payment_id"]
    message = next(m for m in store.list("pending", limit=100_000) if m.aggregate_id == payment_id)
    for action in ("retry", "discard"):
        assert store.bury(message.event_id, None, error="rail down on every attempt")
        yield (
            "post",
            f"/v1/executor/dead/{{event_id}}/{action}",
            http.post(f"/v1/executor/dead/{message.event_id}/{action}"),
        )


def _action_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """The webhook allowlist, and the review of flagged decisions' actions."""
    for name in ("r-dest", "r-gone"):
        yield (
            "put",
            "/v1/actions/destinations/{name}",
            http.put(
                f"/v1/actions/destinations/{name}", json={"url": "https://hooks.example.com/r"}
            ),
        )
    yield (
        "delete",
        "/v1/actions/destinations/{name}",
        http.delete("/v1/actions/destinations/r-gone"),
    )
    for verb in ("approve", "reject"):
        flagged = http.post(
            "/v1/decisions",
            json={
                "subject": f"urn:customer:r-{verb}",
                "input": {
                    "payment": {
                        "amount_minor": 1_200_000,
                        "currency": "USD",
                        "rail": "wire",
                        "counterparty": {"ref": "urn:paygod:cp:1", "verified": True},
                    }
                },
                "packs": ["agent-payment-limits"],
                "action": {"type": "webhook", "destination": "r-dest"},
            },
            headers={"Idempotency-Key": f"r-action-{verb}"},
        )
        assert flagged.json()["decision"] == "flag", flagged.text
        yield "post", "/v1/decisions", flagged
        yield (
            "post",
            f"/v1/decisions/{{decision_id}}/action/{verb}",
            http.post(
                f"/v1/decisions/{flagged.json()['decision_id']}/action/{verb}",
                json={"note": "reviewed"},
            ),
        )


def _credit_calls(http: TestClient) -> Generator[tuple[str, str, Any], None, str]:
    application = {
        "product_id": "personal-term-loan",
        "applicant_ref": "urn:applicant:near-prime",
        "amount": 1_000_000,
        "currency": "USD",
        "payments": 36,
        "monthly_income": 700_000,
        "monthly_debt": 20_000,
    }
    made = http.post(
        "/v1/credit/applications", json=application, headers={"Idempotency-Key": "r-credit"}
    )
    assert made.status_code == 201 and made.json()["status"] == "offered", made.text
    yield "post", "/v1/credit/applications", made
    yield (
        "post",
        "/v1/credit/applications/{application_id}/accept",
        http.post(f"/v1/credit/applications/{made.json()['application_id']}/accept"),
    )
    other = http.post(
        "/v1/credit/applications", json=application, headers={"Idempotency-Key": "r-withdrawn"}
    )
    assert other.status_code == 201 and other.json()["status"] == "offered", other.text
    yield (
        "post",
        "/v1/credit/applications/{application_id}/withdraw",
        http.post(
            f"/v1/credit/applications/{other.json()['application_id']}/withdraw",
            json={"reason": "another lender"},
        ),
    )
    return str(made.json()["application_id"])


def _line_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A revolving line opened, drawn, repaid the same day (no interest) and closed."""
    application = {
        "product_id": "revolving-credit-line",
        "applicant_ref": "urn:applicant:prime",
        "amount": 200_000,
        "currency": "USD",
        "monthly_income": 700_000,
    }
    made = http.post(
        "/v1/credit/applications", json=application, headers={"Idempotency-Key": "r-line"}
    )
    assert made.status_code == 201 and made.json()["status"] == "offered", made.text
    line_id = made.json()["application_id"]
    accepted = http.post(f"/v1/credit/applications/{line_id}/accept")
    assert accepted.status_code < 300, accepted.text
    line = f"/v1/credit/lines/{line_id}"
    yield "post", "/v1/credit/lines/{line_id}/open", http.post(f"{line}/open")
    move = {"amount": 5_000, "currency": "USD"}
    yield (
        "post",
        "/v1/credit/lines/{line_id}/draws",
        http.post(f"{line}/draws", json=move, headers={"Idempotency-Key": "r-draw"}),
    )
    yield (
        "post",
        "/v1/credit/lines/{line_id}/repayments",
        http.post(f"{line}/repayments", json=move, headers={"Idempotency-Key": "r-line-repay"}),
    )
    yield "post", "/v1/credit/lines/{line_id}/close", http.post(f"{line}/close")


def _loan_calls(kernel: Kernel, http: TestClient, loan_id: str) -> Iterator[tuple[str, str, Any]]:
    """The accepted contract disbursed and partly repaid, then left unpaid for 200 days
    (the kernel's clock is a manual one): assessed into default and written off. Last, as
    it moves the clock."""
    loan = f"/v1/credit/loans/{loan_id}"
    yield "post", "/v1/credit/loans/{loan_id}/disburse", http.post(f"{loan}/disburse")
    yield (
        "post",
        "/v1/credit/loans/{loan_id}/repayments",
        http.post(
            f"{loan}/repayments",
            json={"amount": 1_000, "currency": "USD"},
            headers={"Idempotency-Key": "r-repay"},
        ),
    )
    assert isinstance(kernel.clock, ManualClock)
    kernel.clock.advance(200 * 86_400)
    yield "post", "/v1/credit/loans/{loan_id}/assess", http.post(f"{loan}/assess")
    yield (
        "post",
        "/v1/credit/loans/{loan_id}/write-off",
        http.post(f"{loan}/write-off", json={"reason": "90+ days past due"}),
    )


def _aml_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A structuring burst a scan raises, and the tenant's thresholds set to themselves."""
    for account in ("aml-src", "aml-1", "aml-2", "aml-3"):
        body = {
            "id": account,
            "ledger": "USD",
            "code": "asset" if account == "aml-src" else "liability",
        }
        assert http.post("/v1/accounts", json=body).status_code == 201
    for n in (1, 2, 3):
        one = {"id": f"aml-t{n}", "debit_account_id": "aml-src", "credit_account_id": f"aml-{n}",
               "amount": 950_000 + n, "ledger": "USD"}  # fmt: skip
        assert http.post("/v1/transfers", json=one).status_code in (200, 201)
    scanned = http.post("/v1/aml/scan", json={})
    assert [h["typology"] for h in scanned.json()["hits"]] == ["structuring"], scanned.json()
    yield "post", "/v1/aml/scan", scanned
    current = http.get("/v1/aml/thresholds").json()["thresholds"]
    yield "put", "/v1/aml/thresholds", http.put("/v1/aml/thresholds", json=current)


def _compliance_calls(kernel: Kernel, http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """Screening, the tenant's threshold, KYC checks, a refresh and a provider's callback."""
    screened = {"name": "Wladimir Putin", "subject": "customer:r-screened"}
    yield "post", "/v1/screening", http.post("/v1/screening", json=screened)
    threshold = http.get("/v1/screening/threshold").json()["threshold"]
    yield (
        "put",
        "/v1/screening/threshold",
        http.put("/v1/screening/threshold", json={"threshold": threshold}),
    )
    checks = {}
    for subject in ("customer:r-verified", "customer:r-refresh", "customer:r-callback"):
        body = {"subject": subject, "check": "document", "data": {"type": "passport"}}
        checks[subject] = http.post("/v1/kyc/checks", json=body)
        yield "post", "/v1/kyc/checks", checks[subject]
    assert checks["customer:r-refresh"].json()["status"] == "pending"
    yield (
        "post",
        "/v1/kyc/subjects/{subject}/refresh",
        http.post("/v1/kyc/subjects/customer:r-refresh/refresh"),
    )
    reference = checks["customer:r-callback"].json()["reference"]
    payload = orjson.dumps({"reference": reference, "status": "verified", "level": "full"})
    now = int(kernel.clock.now().timestamp())
    signature = sign(webhook_secret(kernel.settings.home), payload, timestamp=now)
    anonymous = TestClient(http.app, raise_server_exceptions=False)
    yield (
        "post",
        "/v1/kyc/webhooks/{provider}",
        anonymous.post(
            "/v1/kyc/webhooks/simulated", content=payload, headers={SIGNATURE_HEADER: signature}
        ),
    )
    yield from _contauth_calls(http)


def _contauth_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    from paygod.contauth.synthetic import generate

    session_id = http.post("/v1/identity/sessions").json()["session_id"]
    sample = generate(subjects=1, sessions=1, reps=1)[0].as_features()
    yield (
        "post",
        "/v1/identity/sessions/{session_id}/signals",
        http.post(f"/v1/identity/sessions/{session_id}/signals", json={"keystrokes": [sample]}),
    )
    body = {"step_up": 0.6, "terminate": 0.25}
    yield "put", "/v1/contauth/thresholds", http.put("/v1/contauth/thresholds", json=body)


def _privacy_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """A vault record, a legal hold placed and released, a retention policy and run, and
    the subject's erasure."""
    subject = "urn:paygod:person:r-privacy"
    record = {"subject": subject, "class": "payee", "data": {"name": "Zoë Müller"}}
    yield (
        "post",
        "/v1/compliance/vault/records",
        http.post("/v1/compliance/vault/records", json=record),
    )
    hold = {"subject": subject, "reason": "drill"}
    yield "post", "/v1/compliance/holds", http.post("/v1/compliance/holds", json=hold)
    yield (
        "delete",
        "/v1/compliance/holds/{subject}",
        http.delete(f"/v1/compliance/holds/{subject}"),
    )
    yield (
        "put",
        "/v1/compliance/retention/{data_class}",
        http.put("/v1/compliance/retention/exports", json={"max_age_days": 365}),
    )
    yield "post", "/v1/compliance/retention/run", http.post("/v1/compliance/retention/run")
    erasure = {"subject": subject}
    yield "post", "/v1/compliance/erasure", http.post("/v1/compliance/erasure", json=erasure)


def _notification_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    """An in-app subscription, a test notification to it, and the unsubscription."""
    body = {"channel": "inapp", "target": "officer-r", "event_types": ["case.*"]}
    made = http.post("/v1/notifications/subscriptions", json=body)
    yield "post", "/v1/notifications/subscriptions", made
    sub = made.json()["subscription_id"]
    yield (
        "post",
        "/v1/notifications/subscriptions/{subscription_id}/test",
        http.post(f"/v1/notifications/subscriptions/{sub}/test"),
    )
    yield (
        "delete",
        "/v1/notifications/subscriptions/{subscription_id}",
        http.delete(f"/v1/notifications/subscriptions/{sub}"),
    )


def _document_calls(http: TestClient) -> Iterator[tuple[str, str, Any]]:
    body = {
        "kind": "contract",
        "media_type": "application/pdf",
        "content_base64": "JVBERi0xLjcgcg==",
    }
    upload = http.post("/v1/documents", json=body)
    yield "post", "/v1/documents", upload


def test_each_sealing_route_returns_a_receipt_the_verifier_accepts(
    kernel: Kernel, http: TestClient
) -> None:
    seen: set[tuple[str, str]] = set()
    for method, template, response in _calls(kernel, http):
        assert response.status_code in (200, 201), (method, template, response.text)
        receipt = response.json().get("receipt")
        assert receipt is not None, (method, template, response.text)
        verify_receipt(kernel, http, receipt)
        seen.add((method, template))
    assert seen == set(_sealing_routes(http)), "every sealing route was called"


def test_a_replay_seals_nothing_and_says_so(kernel: Kernel, http: TestClient) -> None:
    body = {"id": "replayed", "ledger": "EUR", "code": "asset"}
    assert http.post("/v1/accounts", json=body).json()["receipt"] is not None
    again = http.post("/v1/accounts", json=body)
    assert again.status_code == 200 and again.json()["receipt"] is None


def test_the_decision_keeps_ledger_as_an_alias(http: TestClient, kernel: Kernel) -> None:
    made = http.post(
        "/v1/decisions",
        json={
            "subject": "urn:paygod:agent:alias",
            "input": {
                "payment": {
                    "amount_minor": 1,
                    "currency": "EUR",
                    "rail": "card",
                    "counterparty": {"ref": "urn:paygod:cp:x", "verified": True},
                }
            },
        },
        headers={"Idempotency-Key": "alias"},
    ).json()
    for key in ("seq", "entry_id", "record_hash", "inclusion_proof", "tree_head"):
        assert made["ledger"][key] == made["receipt"][key]
    verify_receipt(kernel, http, made["receipt"])
