"""Bad mandates are refused with their reason, and nothing is recorded: forged or tampered
grants and AP2 credentials, wrong holder keys, swapped checkouts, currency exponent tricks,
bad windows, parties of the wrong kind, replays; and payments outside their mandate."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.kernel.errors import PaygodError
from paygod.kernel.settings import load_settings
from paygod.mandates.jose import b64url, sha256_b64url, sign_jws
from paygod.payments.model import PaymentStatus
from tests.support.accounts import open_funded_payer
from tests.support.mandates import (
    PAYEE,
    Party,
    chain,
    closed_payment_mandate,
    new_key,
    open_payment_mandate,
    party,
    signed_grant,
)

NOW = int(time.time())
GOOD = {"currency": "USD", "budget": "100.00", "max_per_payment": "40.00"}


class World:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.service = kernel.mandates.service
        self.human = party(kernel, "alice", PrincipalKind.HUMAN)
        self.other_human = party(kernel, "bob", PrincipalKind.HUMAN)
        self.agent = party(kernel, "bot", PrincipalKind.AGENT, key="p256")
        self.other_agent = party(kernel, "bot2", PrincipalKind.AGENT)
        self.service_principal = party(kernel, "svc", PrincipalKind.SERVICE, roles=(Role.OPERATOR,))
        self.merchant = party(kernel, "merchant", PrincipalKind.SERVICE, roles=(Role.OPERATOR,))
        self.stranger = Party(self.human.principal_id, "nobody-key", new_key())

    def grant(self, grant: str) -> Any:
        return self.service.grant("default", grant, actor=self.human.principal_id, any_grantor=True)

    def native(self, constraints: dict[str, Any] | None = None, **kw: Any) -> Any:
        grantee = kw.pop("grantee", self.agent.principal_id)
        grantor = kw.pop("grantor", self.human)
        return self.grant(signed_grant(grantor, grantee, constraints or GOOD, **kw))

    def ap2(self, credential: str, **kw: Any) -> Any:
        kw.setdefault("audience", "paygod")
        kw.setdefault("nonce", "n-0123456789")
        return self.service.import_ap2(
            "default", credential, grantee=kw.pop("grantee", None), actor="importer", **kw
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home: Path = tmp_path_factory.mktemp("mandates")
    kernel = build_kernel(load_settings(home=home))
    try:
        yield World(kernel)
    finally:
        kernel.close()


def _flip_signature(token: str) -> str:
    head, body, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[5] ^= 1
    return f"{head}.{body}.{b64url(bytes(raw))}"


def _resign_body(w: World, change: Callable[[dict[str, Any]], None]) -> str:
    """A grant whose payload was changed after the grantor signed it (signature kept)."""
    token = signed_grant(w.human, w.agent.principal_id, GOOD)
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    change(payload)
    return f"{head}.{b64url(json.dumps(payload).encode())}.{sig}"


def _hs256(w: World) -> str:
    """alg confusion: an HMAC token keyed with the grantor's public key bytes."""
    import jwt

    payload = {
        "tenant_id": "default",
        "grantor": w.human.principal_id,
        "grantee": w.agent.principal_id,
        "constraints": GOOD,
    }
    return jwt.encode(
        payload,
        "x" * 32,
        algorithm="HS256",
        headers={"typ": "paygod-mandate+jwt", "kid": w.human.key_id},
    )


def _c(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def _past(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


NATIVE: list[tuple[str, Callable[[World], Any], str]] = [
    ("signed-by-other-than-grantor", lambda w: w.native(signer=w.other_human), "mandate-parties"),
    ("unregistered-key", lambda w: w.native(signer=w.stranger), "mandate-signer"),
    (
        "signature-flipped",
        lambda w: w.grant(_flip_signature(signed_grant(w.human, w.agent.principal_id, GOOD))),
        "mandate-signature",
    ),
    (
        "payload-changed-after-signing",
        lambda w: w.grant(_resign_body(w, lambda p: p["constraints"].update(budget="1000000.00"))),
        "mandate-signature",
    ),
    ("alg-confusion-hs256", lambda w: w.grant(_hs256(w)), "mandate-signature"),
    ("grantee-is-human", lambda w: w.native(grantee=w.other_human.principal_id), "mandate-parties"),
    (
        "grantee-is-service",
        lambda w: w.native(grantee=w.service_principal.principal_id),
        "mandate-parties",
    ),
    ("grantee-unknown", lambda w: w.native(grantee="nobody"), "mandate-parties"),
    ("grantor-is-agent", lambda w: w.native(grantor=w.other_agent), "mandate-parties"),
    ("other-tenant", lambda w: w.native(tenant="globex"), "mandate-parties"),
    ("budget-zero", lambda w: w.native(_c(budget="0")), "amount-invalid"),
    (
        "budget-zero-cents",
        lambda w: w.native(_c(budget="0.00", max_per_payment=None)),
        "amount-invalid",
    ),
    ("budget-float", lambda w: w.native(_c(budget=19.99)), "invalid-input"),
    ("budget-exponent-notation", lambda w: w.native(_c(budget="1e3")), "invalid-input"),
    ("budget-negative", lambda w: w.native(_c(budget="-5.00")), "invalid-input"),
    (
        "eur-three-decimals",
        lambda w: w.native(_c(currency="EUR", budget="19.999")),
        "amount-precision",
    ),
    (
        "jpy-with-decimals",
        lambda w: w.native({"currency": "JPY", "budget": "1.5"}),
        "amount-precision",
    ),
    (
        "kwd-four-decimals",
        lambda w: w.native({"currency": "KWD", "budget": "1.2345"}),
        "amount-precision",
    ),
    ("unknown-currency", lambda w: w.native(_c(currency="XYZ")), "invalid-input"),
    ("lowercase-currency", lambda w: w.native(_c(currency="usd")), "invalid-input"),
    (
        "expires-before-start",
        lambda w: w.native(_c(not_before=_past(5), not_after=_past(2))),
        "invalid-input",
    ),
    ("already-expired", lambda w: w.native(_c(not_after=_past(-1))), "mandate-expired"),
    ("per-payment-over-budget", lambda w: w.native(_c(max_per_payment="100.01")), "invalid-input"),
    ("period-without-amount", lambda w: w.native(_c(period="day")), "invalid-input"),
    ("unknown-constraint", lambda w: w.native(_c(overdraft=True)), "invalid-input"),
    ("not-a-jws", lambda w: w.grant("not.a-token"), "mandate-malformed"),
    (
        "wrong-typ",
        lambda w: w.grant(
            sign_jws({"a": 1}, w.human.private, {"typ": "JWT", "kid": w.human.key_id})
        ),
        "mandate-malformed",
    ),
]


def _ap2(
    w: World, opened: dict[str, Any] | None = None, closed: dict[str, Any] | None = None, **kw: Any
) -> str:
    return chain(
        w.human,
        kw.pop("hop_key", w.agent.private),
        opened or open_payment_mandate(w.agent.jwk),
        closed,
        **kw,
    )


def _extra_disclosure(w: World) -> str:
    stray = b64url(json.dumps(["salt", {"vct": "mandate.payment.open.1"}]).encode())
    return _ap2(w)[:-1] + "~" + stray + "~"


def _tampered_root_disclosure(w: World) -> str:
    token = _ap2(w)
    head, disclosure, _ = token.split("~")
    salt, item = json.loads(base64.urlsafe_b64decode(disclosure + "=" * (-len(disclosure) % 4)))
    item["constraints"][0]["max"] = 10_000_000
    return head + "~" + b64url(json.dumps([salt, item]).encode()) + "~"


def _checkout(w: World, *, swap: bool = False, merchant: Party | None = None) -> str:
    signer = merchant or w.merchant
    checkout_jwt = sign_jws(
        {"order_id": "o-1", "total": 19900, "currency": "USD"},
        signer.private,
        {"typ": "JWT", "kid": signer.key_id},
    )
    other = sign_jws(
        {"order_id": "o-2", "total": 99, "currency": "USD"},
        w.merchant.private,
        {"typ": "JWT", "kid": w.merchant.key_id},
    )
    opened = {
        "vct": "mandate.checkout.open.1",
        "cnf": {"jwk": w.agent.jwk},
        "exp": NOW + 3600,
        "constraints": [{"type": "payment.budget", "max": 19900, "currency": "USD"}],
    }
    closed = {
        "vct": "mandate.checkout.1",
        "checkout_hash": sha256_b64url(checkout_jwt),
        "checkout_jwt": other if swap else checkout_jwt,
    }
    return _ap2(w, opened, closed)


AP2: list[tuple[str, Callable[[World], Any], str]] = [
    (
        "root-kid-unregistered",
        lambda w: w.ap2(chain(w.stranger, None, open_payment_mandate(w.agent.jwk))),
        "mandate-signer",
    ),
    (
        "root-signed-by-agent",
        lambda w: w.ap2(chain(w.other_agent, None, open_payment_mandate(w.agent.jwk))),
        "mandate-parties",
    ),
    (
        "holder-key-unregistered",
        lambda w: w.ap2(_ap2(w, open_payment_mandate(Party("x", "x", new_key("p256")).jwk))),
        "mandate-parties",
    ),
    (
        "holder-is-a-human",
        lambda w: w.ap2(_ap2(w, open_payment_mandate(w.other_human.jwk))),
        "mandate-parties",
    ),
    (
        "wrong-holder-key-signs-hop",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(), hop_key=w.other_agent.private)),
        "mandate-signature",
    ),
    (
        "sd-hash-of-another-credential",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(), bind_to=sha256_b64url("other~"))),
        "mandate-binding",
    ),
    (
        "wrong-audience",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(), aud="merchant")),
        "mandate-binding",
    ),
    (
        "wrong-nonce",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(), nonce="n-other-nonce")),
        "mandate-binding",
    ),
    (
        "terminal-hop-typ-delegates",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(), typ="kb+sd-jwt+kb")),
        "mandate-binding",
    ),
    (
        "closed-amount-float",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(amount=199.0))),
        "mandate-amount",
    ),
    (
        "closed-amount-zero",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(amount=0))),
        "mandate-amount",
    ),
    (
        "closed-amount-bool",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(amount=True))),
        "mandate-amount",
    ),
    (
        "closed-currency-differs",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(currency="EUR"))),
        "mandate-amount",
    ),
    (
        "closed-over-open-range",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(amount=20001))),
        "mandate-amount",
    ),
    (
        "closed-payee-not-allowed",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(payee="merchant_9"))),
        "mandate-merchant",
    ),
    (
        "open-range-max-float",
        lambda w: w.ap2(_ap2(w, open_payment_mandate(w.agent.jwk, max_minor=100.50))),
        "mandate-amount",
    ),
    (
        "open-budget-string",
        lambda w: w.ap2(_ap2(w, open_payment_mandate(w.agent.jwk, budget="100.00"))),
        "mandate-amount",
    ),
    (
        "open-expired",
        lambda w: w.ap2(_ap2(w, open_payment_mandate(w.agent.jwk, exp=NOW - 3600, iat=NOW - 7200))),
        "mandate-expired",
    ),
    (
        "open-expiry-before-issue",
        lambda w: w.ap2(_ap2(w, open_payment_mandate(w.agent.jwk, exp=NOW + 10, iat=NOW + 20))),
        "mandate-malformed",
    ),
    (
        "hop-issued-in-future",
        lambda w: w.ap2(_ap2(w, closed=closed_payment_mandate(), iat=NOW + 3600)),
        "mandate-not-yet-valid",
    ),
    (
        "unknown-constraint-type",
        lambda w: w.ap2(
            _ap2(
                w,
                {
                    **open_payment_mandate(w.agent.jwk),
                    "constraints": [{"type": "payment.anything"}],
                },
            )
        ),
        "mandate-malformed",
    ),
    (
        "root-disclosure-tampered",
        lambda w: w.ap2(_tampered_root_disclosure(w)),
        "mandate-disclosure",
    ),
    ("unreferenced-disclosure", lambda w: w.ap2(_extra_disclosure(w)), "mandate-disclosure"),
    (
        "named-grantee-is-not-holder",
        lambda w: w.ap2(_ap2(w), grantee=w.other_agent.principal_id),
        "mandate-binding",
    ),
    ("swapped-checkout", lambda w: w.ap2(_checkout(w, swap=True)), "mandate-checkout"),
    (
        "checkout-by-unknown-merchant",
        lambda w: w.ap2(_checkout(w, merchant=Party("m", "m-unknown", new_key()))),
        "mandate-checkout",
    ),
    ("five-hops", lambda w: w.ap2("~~".join([_ap2(w)[:-1]] * 5)), "mandate-malformed"),
    ("not-an-sd-jwt", lambda w: w.ap2("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"), "mandate-malformed"),
]


def _recorded(w: World) -> int:
    return int(w.kernel.ledger.size)


@pytest.mark.parametrize(
    ("name", "attempt", "code"), NATIVE + AP2, ids=[c[0] for c in NATIVE + AP2]
)
def test_a_bad_mandate_is_refused_and_nothing_recorded(
    world: World, name: str, attempt: Callable[[World], Any], code: str
) -> None:
    before = _recorded(world)
    with pytest.raises(PaygodError) as refused:
        attempt(world)
    assert refused.value.instance_code == code, (refused.value.detail, refused.value.errors)
    assert refused.value.errors or refused.value.detail
    assert _recorded(world) == before


def test_enough_adversarial_cases() -> None:
    assert len(NATIVE) + len(AP2) >= 40


def test_the_good_ones_are_accepted(world: World) -> None:
    native = world.native({"currency": "EUR", "budget": "19.99"})
    assert native.constraints.budget == 1999  # never int(19.99 * 100) == 1998
    assert world.native({"currency": "KWD", "budget": "1.234"}).constraints.budget == 1234
    assert world.native({"currency": "JPY", "budget": "1000"}).constraints.budget == 1000
    imported = world.ap2(_ap2(world, closed=closed_payment_mandate()))
    assert (imported.mode, imported.constraints.budget, imported.constraints.payee) == (
        "closed",
        19900,
        "merchant_1",
    )
    assert world.ap2(_checkout(world)).kind == "checkout"


def test_a_replayed_credential_grants_nothing(world: World) -> None:
    grant = signed_grant(world.human, world.agent.principal_id, GOOD)
    world.grant(grant)
    credential = _ap2(world)
    world.ap2(credential)
    for again in (lambda: world.grant(grant), lambda: world.ap2(credential)):
        before = _recorded(world)
        with pytest.raises(PaygodError) as refused:
            again()
        assert refused.value.instance_code == "mandate-replayed"
        assert _recorded(world) == before


# -- payments under a mandate ---------------------------------------------------------


def _pay(
    w: World, mandate_id: str, key: str, *, amount: int = 1000, by: Party | None = None, **meta: Any
) -> Any:
    payment, _ = w.kernel.payments.create(
        {
            "payer_account": "payer-m",
            "payee": PAYEE,
            "amount": amount,
            "currency": meta.pop("currency", "USD"),
            "purpose": f"order {key}",
            "metadata": {"counterparty_verified": True, "mandate_id": mandate_id, **meta},
        },
        tenant_id="default",
        requested_by=(by or w.agent).principal_id,
        idempotency_key=key,
    )
    return payment


@pytest.fixture(scope="module")
def funded(world: World) -> World:
    open_funded_payer(world.kernel.accounting, "payer-m", amount=100_000_000)
    return world


PAYMENT_REFUSALS: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("other-agent", GOOD, {"by": "other"}, "mandate-grantee"),
    ("currency", GOOD, {"currency": "EUR"}, "mandate-currency"),
    ("per-payment", GOOD, {"amount": 4001}, "mandate-amount"),
    ("merchant", _c(merchants=["m-ok"]), {"merchant_id": "m-bad"}, "mandate-merchant"),
    ("category", _c(categories=["books"]), {"merchant_category": "gambling"}, "mandate-category"),
    ("not-yet-valid", _c(not_before=_past(2)), {}, "mandate-not-yet-valid"),
    (
        "over-budget",
        _c(budget="10.00", max_per_payment=None),
        {"amount": 1001},
        "mandate-allowance",
    ),
]


@pytest.mark.parametrize(
    ("name", "constraints", "call", "code"), PAYMENT_REFUSALS, ids=[c[0] for c in PAYMENT_REFUSALS]
)
def test_a_payment_outside_its_mandate_fails_and_holds_nothing(
    funded: World, name: str, constraints: dict[str, Any], call: dict[str, Any], code: str
) -> None:
    w = funded
    mandate = w.native(constraints)
    call = dict(call)
    by = w.other_agent if call.pop("by", None) == "other" else w.agent
    payment = _pay(w, mandate.mandate_id, f"refuse-{name}", by=by, **call)
    assert payment.status is PaymentStatus.FAILED
    assert w.service.remaining(mandate)["remaining_minor"] == mandate.constraints.budget
    history = w.kernel.payments.history(payment.payment_id)
    assert history[-1]["evidence"].get("hold_refused") in (code, "exceeds_credits"), history[-1]


def test_single_use_is_used_once(funded: World) -> None:
    mandate = funded.native(_c(single_use=True))
    assert _pay(funded, mandate.mandate_id, "single-1").status is PaymentStatus.HELD
    second = _pay(funded, mandate.mandate_id, "single-2")
    assert second.status is PaymentStatus.FAILED
    assert funded.service.remaining(mandate)["payments_left"] == 0


def test_revocation_is_immediate_and_ledgered(funded: World) -> None:
    mandate = funded.native(GOOD)
    held = _pay(funded, mandate.mandate_id, "revoke-1")
    assert held.status is PaymentStatus.HELD
    funded.service.revoke(
        mandate.mandate_id,
        tenant_id="default",
        actor=funded.human.principal_id,
        any_mandate=False,
        reason="lost phone",
    )
    assert [e.kind for e in funded.kernel.ledger.history(f"mandate:{mandate.mandate_id}")] == [
        "mandate.granted",
        "mandate.revoked",
    ]
    after = _pay(funded, mandate.mandate_id, "revoke-2")
    assert after.status is PaymentStatus.FAILED
    # The payment held before the revocation is stopped before any rail is called.
    funded.kernel.payments.dispatch(held.payment_id)
    stopped = funded.kernel.payments.get(held.payment_id)
    assert stopped.status is PaymentStatus.FAILED and "revoked" in (stopped.failure_reason or "")
    assert stopped.rail_reference is None
    # ...and its holds are released: the payer's money and the allowance come back.
    assert funded.service.remaining(mandate)["remaining_minor"] == 10_000
    with pytest.raises(PaygodError) as twice:
        funded.service.revoke(
            mandate.mandate_id, tenant_id="default", actor="x", any_mandate=True, reason=None
        )
    assert twice.value.instance_code == "mandate-revoked"


def test_the_decision_measures_the_mandate(funded: World) -> None:
    mandate = funded.native(_c(merchants=["m-ok"]))
    payment = _pay(funded, mandate.mandate_id, "measured", merchant_id="m-ok")
    decision_id = payment.decision["decision_id"]
    entry = next(
        e
        for e in funded.kernel.ledger.history("account:payer-m")
        if e.kind == "decision" and e.payload["decision_id"] == decision_id
    )
    measured = {m["name"]: m["value"] for m in entry.payload["measurements"]}
    assert measured["mandate.id"] == mandate.mandate_id
    assert measured["mandate.digest"] == mandate.digest
    assert measured["mandate.valid"] is True
    assert measured["mandate.merchant_allowed"] is True
    assert measured["mandate.remaining"] == 10_000  # measured before this payment's hold


def test_a_period_budget_and_a_payment_count_hold(funded: World) -> None:
    mandate = funded.native(_c(period="day", per_period="20.00", max_payments=3))
    assert _pay(funded, mandate.mandate_id, "period-1", amount=1500).status is PaymentStatus.HELD
    over = _pay(funded, mandate.mandate_id, "period-2", amount=1000)
    assert over.status is PaymentStatus.FAILED  # 25.00 today > 20.00 a day
    left = funded.service.remaining(mandate)
    assert left["period_remaining_minor"] == 500 and left["remaining_minor"] == 500
    assert left["payments_left"] == 2
    assert _pay(funded, mandate.mandate_id, "period-3", amount=500).status is PaymentStatus.HELD
    assert funded.service.remaining(mandate)["payments_left"] == 1
