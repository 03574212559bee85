"""The AP2 specification's own encoded examples verify (tests/fixtures/ap2/SOURCE.md),
and the same examples altered by one byte are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paygod.mandates import ap2, sdjwt
from paygod.mandates.jose import VerificationFailed, b64url, b64url_decode, sha256_b64url

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ap2"
NOW = 1777342380  # inside the examples' validity (iat 1777342357, exp 1777345957)


def token(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text().strip()


def hops(name: str) -> list[sdjwt.Presentation]:
    return ap2.split(token(name))


def verify_delegation(name: str, *, aud: str, nonce: str) -> ap2.Hop:
    """Everything of the chain but the root's signature (its key is not published)."""
    root, closed = hops(name)
    opened = sdjwt.reveal(sdjwt.json_object(root.issuer_jwt.split(".")[1], "p"), root.disclosures)
    first = ap2.Hop(root, root.header, opened, opened["delegate_payload"][0])
    return ap2._hop(closed, first, True, NOW, 60, audience=aud, nonce=nonce)


def test_the_payment_example_verifies() -> None:
    hop = verify_delegation(
        "payment_mandate_chain", aud="credential-provider", nonce="a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3"
    )
    assert hop.mandate["vct"] == ap2.CLOSED_PAYMENT
    assert hop.mandate["payment_amount"] == {"amount": 19900, "currency": "USD"}
    root, _ = hops("payment_mandate_chain")
    assert hop.claims["sd_hash"] == sha256_b64url(root.sd_jwt)


def test_the_checkout_example_verifies_and_binds_the_checkout() -> None:
    hop = verify_delegation(
        "checkout_mandate_chain", aud="merchant", nonce="b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4"
    )
    closed = hop.mandate
    assert closed["vct"] == ap2.CLOSED_CHECKOUT
    assert sha256_b64url(closed["checkout_jwt"]) == closed["checkout_hash"]
    # The payment example pays exactly this checkout, and references its open mandate.
    payment = verify_delegation(
        "payment_mandate_chain", aud="credential-provider", nonce="a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3"
    )
    assert payment.mandate["transaction_id"] == closed["checkout_hash"]
    open_checkout, _ = hops("checkout_mandate_chain")
    open_payment = sdjwt.reveal(
        sdjwt.json_object(hops("payment_mandate_chain")[0].issuer_jwt.split(".")[1], "p"),
        hops("payment_mandate_chain")[0].disclosures,
    )["delegate_payload"][0]
    reference = next(c for c in open_payment["constraints"] if c["type"] == "payment.reference")
    assert reference["conditional_transaction_id"] == sha256_b64url(open_checkout.sd_jwt)


def test_the_open_example_maps_to_constraints() -> None:
    root = hops("open_payment_mandate")[0]
    opened = sdjwt.reveal(sdjwt.json_object(root.issuer_jwt.split(".")[1], "p"), root.disclosures)
    chain = ap2.Chain((ap2.Hop(root, root.header, opened, opened["delegate_payload"][0]),), "k")
    kind, mode, c = ap2.constraints_of(chain)
    assert (kind, mode, c.currency, c.max_per_payment, c.merchants) == (
        "payment",
        "open",
        "USD",
        20000,
        ("merchant_1",),
    )


def _tamper_disclosure(text: str) -> str:
    """The closed hop's mandate disclosure with its amount raised by one cent."""
    first, second = text.split("~~")
    parts = second.split("~")
    decoded = json.loads(b64url_decode(parts[1]))
    decoded[1]["payment_amount"]["amount"] += 1
    parts[1] = b64url(json.dumps(decoded).encode())
    return first + "~~" + "~".join(parts)


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(_tamper_disclosure, id="amount-raised-in-disclosure"),
        pytest.param(
            lambda t: t.replace("~~", "~" + t.split("~")[1] + "~~", 1), id="disclosure-twice"
        ),
        pytest.param(
            lambda t: t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:], id="disclosure-byte"
        ),
        pytest.param(
            lambda t: t.split("~~")[0].rsplit("~", 1)[0] + "~~" + t.split("~~")[1],
            id="open-disclosure-dropped-sd-hash-breaks",
        ),
    ],
)
def test_the_example_altered_is_refused(alter) -> None:  # type: ignore[no-untyped-def]
    text = alter(token("payment_mandate_chain"))
    with pytest.raises(VerificationFailed):
        presentations = ap2.split(text)
        root, closed = presentations
        payload = sdjwt.json_object(root.issuer_jwt.split(".")[1], "p")
        opened = sdjwt.reveal(payload, root.disclosures)
        first = ap2.Hop(root, root.header, opened, opened["delegate_payload"][0])
        ap2._hop(
            closed,
            first,
            True,
            NOW,
            60,
            audience="credential-provider",
            nonce="a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3",
        )


def test_the_example_is_expired_today() -> None:
    """The examples' open mandates expired on 2026-04-28: a verifier with today's clock
    refuses them."""
    with pytest.raises(VerificationFailed, match="expired"):
        root = hops("open_payment_mandate")[0]
        opened = sdjwt.reveal(
            sdjwt.json_object(root.issuer_jwt.split(".")[1], "p"), root.disclosures
        )
        ap2._times(opened["delegate_payload"][0], 1777345957 + 3600, 60)
