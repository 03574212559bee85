"""RFC 9901 disclosures, digests and key binding, on the specification's own examples
(§4.2.1 object property, §4.2.2 array element, §4.2.3 hashing, §4.2.4 embedding) and on
presentations built with a key of the test's own."""

from __future__ import annotations

import time

import pytest

from paygod.mandates import sdjwt
from paygod.mandates.jose import VerificationFailed, b64url, jwk_of, sha256_b64url, sign_jws
from tests.support.mandates import disclosure, new_key

# RFC 9901 §4.2.1 and §4.2.3: the `family_name` disclosure and its digest.
FAMILY = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
FAMILY_DIGEST = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
# RFC 9901 §4.2.2 and §4.2.4.2: the second element of `nationalities`.
FR = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"
FR_DIGEST = "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"


def test_the_rfc_digests() -> None:
    assert sha256_b64url(FAMILY) == FAMILY_DIGEST
    assert sha256_b64url(FR) == FR_DIGEST


def test_the_rfc_object_property_is_revealed() -> None:
    payload = {"given_name": "Alice", "_sd": [FAMILY_DIGEST]}
    assert sdjwt.reveal(payload, (FAMILY,)) == {"given_name": "Alice", "family_name": "Möbius"}
    # Without the disclosure the claim stays hidden; the digest alone reveals nothing.
    assert sdjwt.reveal(payload, ()) == {"given_name": "Alice"}


def test_the_rfc_array_element_is_revealed_or_dropped() -> None:
    payload = {"nationalities": ["DE", {"...": FR_DIGEST}, "US"]}
    assert sdjwt.reveal(payload, (FR,)) == {"nationalities": ["DE", "FR", "US"]}
    assert sdjwt.reveal(payload, ()) == {"nationalities": ["DE", "US"]}


@pytest.mark.parametrize(
    ("payload", "disclosures", "reason"),
    [
        ({"_sd": [FAMILY_DIGEST, FAMILY_DIGEST]}, (FAMILY,), "referenced twice"),
        ({"_sd": [FAMILY_DIGEST]}, (FAMILY, FAMILY), "sent twice"),
        ({"given_name": "A"}, (FAMILY,), "not referenced"),
        ({"family_name": "X", "_sd": [FAMILY_DIGEST]}, (FAMILY,), "collides"),
        ({"_sd": [FR_DIGEST]}, (FR,), "claim name"),
        ({"a": [{"...": FAMILY_DIGEST}]}, (FAMILY,), "no name"),
        ({"_sd": "not-a-list"}, (), "array of digests"),
        ({"_sd_alg": "md5", "_sd": []}, (), "not supported"),
    ],
)
def test_bad_disclosures_are_refused(payload: dict, disclosures: tuple, reason: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(VerificationFailed, match=reason):
        sdjwt.reveal(payload, disclosures)


def test_a_disclosed_sd_claim_name_is_refused() -> None:
    encoded, digest = disclosure(["x"], name="_sd")
    with pytest.raises(VerificationFailed, match="collides"):
        sdjwt.reveal({"_sd": [digest]}, (encoded,))


def _presentation(
    issuer_key, holder_key, *, aud="verifier", nonce="n-1", iat=None, sd_hash=None, typ="kb+jwt"
):  # type: ignore[no-untyped-def]
    encoded, digest = disclosure("Möbius", name="family_name")
    issuer_jwt = sign_jws(
        {"_sd": [digest], "cnf": {"jwk": jwk_of(holder_key.public_key())}, "_sd_alg": "sha-256"},
        issuer_key,
        {"typ": "example+sd-jwt"},
    )
    sd = f"{issuer_jwt}~{encoded}~"
    kb = sign_jws(
        {
            "iat": iat or int(time.time()),
            "aud": aud,
            "nonce": nonce,
            "sd_hash": sd_hash or sha256_b64url(sd),
        },
        holder_key,
        {"typ": typ},
    )
    return sdjwt.parse(sd + kb)


def test_key_binding_verifies() -> None:
    issuer, holder = new_key("p256"), new_key()
    presentation = _presentation(issuer, holder)
    claims = sdjwt.verify(presentation, jwk_of(issuer.public_key()))
    assert claims["family_name"] == "Möbius"
    bound = sdjwt.verify_key_binding(
        presentation,
        sdjwt.holder_jwk(claims),
        audience="verifier",
        nonce="n-1",
        now=int(time.time()),
    )
    assert bound["aud"] == "verifier"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "someone-else"}, "another audience"),
        ({"nonce": "n-2"}, "nonce"),
        ({"sd_hash": b64url(b"x" * 32)}, "sd_hash"),
        ({"typ": "JWT"}, "kb\\+jwt"),
        ({"iat": int(time.time()) + 3600}, "future"),
        ({"iat": int(time.time()) - 3600}, "older"),
    ],
)
def test_broken_key_binding_is_refused(changes: dict, reason: str) -> None:  # type: ignore[type-arg]
    issuer, holder = new_key("p256"), new_key()
    presentation = _presentation(issuer, holder, **changes)
    claims = sdjwt.verify(presentation, jwk_of(issuer.public_key()))
    with pytest.raises(VerificationFailed, match=reason):
        sdjwt.verify_key_binding(
            presentation,
            sdjwt.holder_jwk(claims),
            audience="verifier",
            nonce="n-1",
            now=int(time.time()),
        )


def test_the_wrong_holder_key_is_refused() -> None:
    issuer, holder = new_key("p256"), new_key()
    presentation = _presentation(issuer, holder)
    with pytest.raises(VerificationFailed, match="signature"):
        sdjwt.verify_key_binding(
            presentation,
            jwk_of(new_key().public_key()),
            audience="verifier",
            nonce="n-1",
            now=int(time.time()),
        )


def test_a_missing_key_binding_is_refused() -> None:
    issuer, holder = new_key("p256"), new_key()
    presentation = _presentation(issuer, holder)
    bare = sdjwt.parse(presentation.sd_jwt)
    with pytest.raises(VerificationFailed, match="no key-binding"):
        sdjwt.verify_key_binding(
            bare,
            jwk_of(holder.public_key()),
            audience="verifier",
            nonce="n-1",
            now=int(time.time()),
        )


def test_a_disclosure_added_after_issuance_is_refused() -> None:
    issuer, holder = new_key("p256"), new_key()
    presentation = _presentation(issuer, holder)
    stray, _ = disclosure("X", name="given_name")
    tampered = sdjwt.Presentation(presentation.issuer_jwt, (*presentation.disclosures, stray), None)
    with pytest.raises(VerificationFailed, match="not referenced"):
        sdjwt.verify(tampered, jwk_of(issuer.public_key()))
