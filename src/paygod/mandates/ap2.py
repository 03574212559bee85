"""AP2 v0.2 mandates in the protocol's own form: a delegate SD-JWT chain.

AP2 joins the hops of a delegation with `~~` (draft-gco-oauth-delegate-sd-jwt-00 §6, as
the AP2 SDK's `sdjwt/chain.py` does). Hop 0 is an SD-JWT signed by the root key (named by
`kid`: here, a key the grantor registered); its `delegate_payload[0]` is the open mandate
and binds the agent's key in `cnf.jwk`. Each later hop is a KB-SD-JWT (`typ` kb+sd-jwt,
or kb+sd-jwt+kb when it delegates further) signed by the previous hop's `cnf.jwk`, bound
to it by `sd_hash` (or `issuer_jwt_hash`), carrying `iat`, `aud` and `nonce`: the closed
mandate the agent presents for one checkout or payment.

A closed checkout mandate carries the merchant-signed `checkout_jwt` and `checkout_hash`,
the base64url SHA-256 of that JWT's compact form; a closed payment mandate names it as
`transaction_id`. Amounts follow AP2's Amount type: integers in minor units (amount.json);
a float such as 100.50 is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from paygod.mandates import sdjwt
from paygod.mandates.jose import VerificationFailed, sha256_b64url, verify_jws
from paygod.mandates.model import Constraints

OPEN_PAYMENT = "mandate.payment.open.1"
CLOSED_PAYMENT = "mandate.payment.1"
OPEN_CHECKOUT = "mandate.checkout.open.1"
CLOSED_CHECKOUT = "mandate.checkout.1"
TERMINAL = ("kb+sd-jwt", "kb-sd-jwt")
INTERMEDIATE = ("kb+sd-jwt+kb", "kb-sd-jwt+kb")
MAX_HOPS = 4
# Stated frequency -> the period a per-period budget is counted over.
FREQUENCY = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month"}

RootKeys = Callable[[str], Mapping[str, str] | None]


@dataclass(frozen=True)
class Hop:
    presentation: sdjwt.Presentation
    header: dict[str, Any]
    claims: dict[str, Any]
    mandate: dict[str, Any]  # delegate_payload[0], revealed


@dataclass(frozen=True)
class Chain:
    hops: tuple[Hop, ...]
    root_kid: str

    @property
    def open(self) -> dict[str, Any]:
        return self.hops[0].mandate

    @property
    def closed(self) -> dict[str, Any] | None:
        return self.hops[-1].mandate if len(self.hops) > 1 else None

    @property
    def holder(self) -> dict[str, str]:
        return sdjwt.holder_jwk(self.open)


def split(text: str) -> list[sdjwt.Presentation]:
    if not isinstance(text, str) or not text:
        raise VerificationFailed("malformed", "an AP2 credential is a compact string")
    raw = text.split("~~")
    if len(raw) > MAX_HOPS:
        raise VerificationFailed("malformed", f"more than {MAX_HOPS} delegation hops")
    # `~~` swallowed the closing `~` of every hop but the last.
    return [sdjwt.parse(part if i == len(raw) - 1 else part + "~") for i, part in enumerate(raw)]


def _delegate(claims: Mapping[str, Any], single: bool) -> dict[str, Any]:
    items = claims.get("delegate_payload")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise VerificationFailed("disclosure", "delegate_payload discloses no mandate")
    if single and len(items) != 1:
        raise VerificationFailed("disclosure", "a delegating hop discloses exactly one mandate")
    return dict(items[0])


def _times(mandate: Mapping[str, Any], now: int, skew: int) -> None:
    exp, iat, nbf = mandate.get("exp"), mandate.get("iat"), mandate.get("nbf")
    for name, value in (("exp", exp), ("iat", iat), ("nbf", nbf)):
        if value is not None and type(value) is not int:
            raise VerificationFailed("malformed", f"{name} is an integer NumericDate")
    # A mandate that can never be valid is malformed, whatever the time of asking.
    if isinstance(iat, int) and isinstance(exp, int) and exp <= iat:
        raise VerificationFailed("malformed", "the mandate expires before it is issued")
    if isinstance(exp, int) and now > exp + skew:
        raise VerificationFailed("expired", "the mandate has expired")
    if isinstance(nbf, int) and now + skew < nbf:
        raise VerificationFailed("not-yet-valid", "the mandate is not valid yet")


def verify_chain(
    text: str,
    root_keys: RootKeys,
    *,
    audience: str | None,
    nonce: str | None,
    now: int,
    skew: int = 60,
) -> Chain:
    """Every signature, disclosure, binding and time of the chain checked."""
    presentations = split(text)
    root = presentations[0]
    kid = root.header.get("kid")
    key = root_keys(kid) if isinstance(kid, str) else None
    if key is None:
        raise VerificationFailed("signer", "the root credential's kid names no registered key")
    claims = sdjwt.verify(root, key)
    _times(claims, now, skew)
    hops = [Hop(root, root.header, claims, _delegate(claims, len(presentations) > 1))]
    _times(hops[0].mandate, now, skew)
    for position, presentation in enumerate(presentations[1:], start=1):
        hops.append(
            _hop(
                presentation,
                hops[-1],
                position == len(presentations) - 1,
                now,
                skew,
                audience=audience,
                nonce=nonce,
            )
        )
    return Chain(tuple(hops), str(kid))


def _hop(
    presentation: sdjwt.Presentation,
    previous: Hop,
    last: bool,
    now: int,
    skew: int,
    *,
    audience: str | None,
    nonce: str | None,
) -> Hop:
    header = presentation.header
    typ = header.get("typ")
    if typ not in TERMINAL + INTERMEDIATE or (typ in TERMINAL) != last:
        raise VerificationFailed("binding", f"a delegation hop of typ {typ!r} here is refused")
    holder = sdjwt.holder_jwk(previous.mandate)
    _, payload = verify_jws(presentation.issuer_jwt, holder)  # wrong holder key: refused
    claims = sdjwt.reveal(payload, presentation.disclosures)
    if "issuer_jwt_hash" in claims and "sd_hash" not in claims:
        if claims["issuer_jwt_hash"] != sha256_b64url(previous.presentation.issuer_jwt):
            raise VerificationFailed("binding", "issuer_jwt_hash does not match the delegator")
        claims = {**claims, "sd_hash": sha256_b64url(previous.presentation.sd_jwt)}
    sdjwt.check_binding_claims(
        claims,
        previous.presentation,
        audience=audience if last else None,
        nonce=nonce if last else None,
        now=now,
        skew=skew,
    )
    mandate = _delegate(claims, not last)
    if last and "cnf" in mandate:
        raise VerificationFailed("binding", "a terminal hop must not delegate further (cnf)")
    _times(mandate, now, skew)
    return Hop(presentation, header, claims, mandate)


def checkout_binding(closed: Mapping[str, Any], merchant_keys: RootKeys) -> dict[str, Any]:
    """A closed checkout mandate: checkout_hash is the hash of checkout_jwt, and the merchant
    signed checkout_jwt. Returns the checkout's payload."""
    checkout_jwt, checkout_hash = closed.get("checkout_jwt"), closed.get("checkout_hash")
    if not isinstance(checkout_jwt, str) or not isinstance(checkout_hash, str):
        raise VerificationFailed("checkout", "a closed checkout mandate has checkout_jwt and hash")
    if sha256_b64url(checkout_jwt) != checkout_hash:
        raise VerificationFailed("checkout", "checkout_hash does not match checkout_jwt")
    header = checkout_jwt.split(".")[0]
    from paygod.mandates.jose import json_object

    kid = json_object(header, "the checkout header").get("kid")
    key = merchant_keys(kid) if isinstance(kid, str) else None
    if key is None:
        raise VerificationFailed("checkout", "the checkout's kid names no registered merchant key")
    _, payload = verify_jws(checkout_jwt, key)
    return payload


def _amount(doc: Any, pointer: str) -> int:
    # AP2 amounts are integers in minor units; 100.5 or 1e2 or True is an exponent trick.
    if type(doc) is not int or doc < 0:
        raise VerificationFailed("amount", "AP2 amounts are integers in minor units", pointer)
    return doc


def constraints_of(chain: Chain) -> tuple[str, str, Constraints]:
    """(kind, mode, constraints) of the chain's mandate, every known constraint mapped;
    an unknown constraint type is refused: a mandate is never read as wider than it is."""
    opened, closed = chain.open, chain.closed
    vct = opened.get("vct")
    if vct not in (OPEN_PAYMENT, OPEN_CHECKOUT, CLOSED_PAYMENT, CLOSED_CHECKOUT):
        raise VerificationFailed("malformed", f"unknown mandate type vct={vct!r}")
    kind = "payment" if "payment" in str(vct) else "checkout"
    fields = _open_fields(opened) if vct in (OPEN_PAYMENT, OPEN_CHECKOUT) else {}
    mode = "open"
    if closed is not None or vct in (CLOSED_PAYMENT, CLOSED_CHECKOUT):
        fields.update(_closed_fields(closed if closed is not None else opened, fields))
        mode = "closed"
    if "currency" not in fields or "budget" not in fields:
        raise VerificationFailed("amount", "the mandate states no amount limit and currency")
    return kind, mode, Constraints(**fields)


def _open_fields(opened: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    exp = opened.get("exp")
    if isinstance(exp, int):
        out["not_after"] = datetime.fromtimestamp(exp, UTC)
    constraints = opened.get("constraints", [])
    if not isinstance(constraints, list):
        raise VerificationFailed("malformed", "constraints is an array")
    for position, c in enumerate(constraints):
        if not isinstance(c, dict):
            raise VerificationFailed("malformed", "a constraint is an object")
        _apply(c, out, f"/constraints/{position}")
    return out


def _currency(out: dict[str, Any], c: Mapping[str, Any], pointer: str) -> None:
    currency = c.get("currency")
    from paygod.mandates.amounts import currency_problem

    if currency_problem(currency):
        raise VerificationFailed("amount", f"unknown currency {currency!r}", pointer)
    if out.setdefault("currency", currency) != currency:
        raise VerificationFailed("amount", "constraints in two currencies", pointer)


def _apply(c: Mapping[str, Any], out: dict[str, Any], pointer: str) -> None:
    kind = c.get("type")
    if kind == "payment.amount_range":
        _currency(out, c, pointer)
        out["max_per_payment"] = _amount(c.get("max"), pointer + "/max")
        out.setdefault("budget", out["max_per_payment"])
    elif kind == "payment.budget":
        _currency(out, c, pointer)
        out["budget"] = _amount(c.get("max"), pointer + "/max")
    elif kind in ("payment.allowed_payees", "checkout.allowed_merchants"):
        allowed = [m.get("id") for m in c.get("allowed", []) if isinstance(m, dict)]
        if not allowed or not all(isinstance(a, str) for a in allowed):
            raise VerificationFailed("malformed", "allowed merchants need revealed ids", pointer)
        out["merchants"] = tuple(allowed)
    elif kind == "payment.agent_recurrence":
        occurrences = c.get("max_occurrences")
        if type(occurrences) is not int or occurrences < 1:
            raise VerificationFailed("malformed", "max_occurrences is a positive integer", pointer)
        out["max_payments"] = occurrences
        if c.get("frequency") in FREQUENCY:
            from paygod.mandates.model import Period

            out["period"] = Period(FREQUENCY[str(c["frequency"])])
    elif kind == "payment.execution_date":
        from paygod.kernel.clock import parse_instant

        for name in ("not_before", "not_after"):
            if c.get(name) is not None:
                out[name] = parse_instant(str(c[name]))
    elif kind in (
        "payment.reference",
        "checkout.line_items",
        "payment.allowed_payment_instruments",
        "payment.allowed_pisps",
    ):
        pass  # bound by the chain itself (reference) or checked by the merchant's side
    else:
        raise VerificationFailed("malformed", f"unknown constraint type {kind!r}", pointer)


def _closed_fields(closed: Mapping[str, Any], opened: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"single_use": True}
    vct = closed.get("vct")
    if vct == CLOSED_PAYMENT:
        amount = closed.get("payment_amount")
        if not isinstance(amount, dict):
            raise VerificationFailed("amount", "a closed payment mandate states payment_amount")
        currency = dict(opened)  # the open mandate's currency, if it stated one, must match
        _currency(currency, amount, "/payment_amount")
        out["currency"] = currency["currency"]
        value = _amount(amount.get("amount"), "/payment_amount/amount")
        if value == 0:
            raise VerificationFailed("amount", "a payment of 0 is no payment")
        if opened.get("max_per_payment") is not None and value > opened["max_per_payment"]:
            raise VerificationFailed("amount", "the payment exceeds the open mandate's range")
        out["budget"] = out["max_per_payment"] = value
        payee = closed.get("payee")
        if isinstance(payee, dict) and isinstance(payee.get("id"), str):
            out["payee"] = payee["id"]
            merchants = opened.get("merchants")
            if merchants and payee["id"] not in merchants:
                raise VerificationFailed("merchant", "the payee is not an allowed merchant")
        tx = closed.get("transaction_id")
        if not isinstance(tx, str) or not tx:
            raise VerificationFailed("checkout", "a closed payment mandate names transaction_id")
        out["transaction_id"] = tx
    elif vct == CLOSED_CHECKOUT:
        out["checkout_hash"] = closed.get("checkout_hash")
    else:
        raise VerificationFailed("malformed", f"the closing hop is no closed mandate: {vct!r}")
    return out
