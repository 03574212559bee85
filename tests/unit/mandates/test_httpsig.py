"""RFC 9421: the RFC's own test vectors verify (Appendix B.2.4 ecdsa-p256-sha256 and B.2.6
ed25519, with the keys of B.1.3 and B.1.4), and Paygod's policy refuses what it must."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from paygod.mandates import httpsig
from paygod.mandates.httpsig import HttpMessage, content_digest, sign_message, verify_message
from paygod.mandates.jose import VerificationFailed
from paygod.mandates.stores.memory import MemoryNonceStore
from tests.support.mandates import new_key

# RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.1.3 (test-key-ecc-p256), public halves.
ED25519 = load_pem_public_key(
    b"-----BEGIN PUBLIC KEY-----\n"
    b"MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n"
    b"-----END PUBLIC KEY-----\n"
)
P256 = load_pem_public_key(
    b"-----BEGIN PUBLIC KEY-----\n"
    b"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf\n"
    b"w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==\n"
    b"-----END PUBLIC KEY-----\n"
)
# Appendix B.2: the test request and test response.
REQUEST_HEADERS = [
    ("Host", "example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("Content-Type", "application/json"),
    (
        "Content-Digest",
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrI"
        "iYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    ),
    ("Content-Length", "18"),
]
B26 = [
    (
        "Signature-Input",
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
    ),
    (
        "Signature",
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu"
        "4A0w6vuQv5lIp5WPpBKRCw==:",
    ),
]
B24 = [
    ("Content-Type", "application/json"),
    (
        "Content-Digest",
        "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX6"
        "9wWdXymyU0rjJuahq4l5aGgfLQ==:",
    ),
    ("Content-Length", "23"),
    (
        "Signature-Input",
        'sig-b24=("@status" "content-type" "content-digest" "content-length");'
        'created=1618884473;keyid="test-key-ecc-p256"',
    ),
    (
        "Signature",
        "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAU"
        "y5eCdlYUEkLIj+32oiasw==:",
    ),
]
TEST_REQUEST = HttpMessage(
    "POST",
    "https://example.com/foo?param=Value&Pet=dog",
    REQUEST_HEADERS + B26,
    b'{"hello": "world"}',
)
TEST_RESPONSE = HttpMessage("GET", "https://example.com/", B24, b'{"message": "good dog"}', 200)


def test_b26_ed25519_request_verifies() -> None:
    verified = verify_message(TEST_REQUEST, lambda kid: ED25519, policy=False)
    assert (verified.label, verified.keyid) == ("sig-b26", "test-key-ed25519")
    httpsig.check_content_digest(TEST_REQUEST)


def test_b26_signature_base_is_the_rfcs() -> None:
    import http_sfv

    parsed = http_sfv.Dictionary()
    parsed.parse(B26[0][1].encode())
    base = httpsig.signature_base(TEST_REQUEST, parsed["sig-b26"])
    assert base.decode().splitlines() == [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
    ]


def test_b24_ecdsa_p256_response_verifies() -> None:
    verify_message(TEST_RESPONSE, lambda kid: P256, policy=False)
    httpsig.check_content_digest(TEST_RESPONSE)


def _altered(message: HttpMessage, **changes: Any) -> HttpMessage:
    from dataclasses import replace

    return replace(message, **changes)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(_altered(TEST_REQUEST, method="PUT"), id="method"),
        pytest.param(_altered(TEST_REQUEST, target_uri="https://example.com/bar"), id="path"),
        pytest.param(_altered(TEST_REQUEST, target_uri="https://evil.example/foo"), id="authority"),
        pytest.param(
            _altered(
                TEST_REQUEST,
                headers=[
                    (k, "application/xml" if k == "Content-Type" else v)
                    for k, v in TEST_REQUEST.headers
                ],
            ),
            id="covered-header",
        ),
    ],
)
def test_an_altered_request_does_not_verify(message: HttpMessage) -> None:
    with pytest.raises(VerificationFailed):
        verify_message(message, lambda kid: ED25519, policy=False)


def test_the_wrong_key_does_not_verify() -> None:
    with pytest.raises(VerificationFailed):
        verify_message(TEST_REQUEST, lambda kid: new_key().public_key(), policy=False)


def test_a_body_not_matching_its_digest_is_refused() -> None:
    with pytest.raises(VerificationFailed, match="Content-Digest"):
        httpsig.check_content_digest(_altered(TEST_REQUEST, body=b'{"hello": "w0rld"}'))


NOW = 1_800_000_000


def signed(
    private: Any,
    *,
    body: bytes = b'{"amount": 1}',
    created: int = NOW,
    expires: int | None = NOW + 60,
    nonce: str | None = "nonce-0001",
    components: tuple[str, ...] = ("@method", "@authority", "@path", "content-digest"),
    digest: str | None = None,
) -> HttpMessage:
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Digest", digest or content_digest(body)),
    ]
    message = HttpMessage("POST", "https://paygod.example/v1/payments", headers, body)
    params: dict[str, Any] = {"created": created, "keyid": "agent-key"}
    if expires is not None:
        params["expires"] = expires
    if nonce is not None:
        params["nonce"] = nonce
    extra = sign_message(message, private, components=components, params=params)
    return _altered(message, headers=[*headers, *extra])


@pytest.mark.parametrize("kind", ["ed25519", "p256"])
def test_a_fresh_signed_request_verifies_once(kind: str) -> None:
    private = new_key(kind)
    message = signed(private)
    store = MemoryNonceStore()
    verified = verify_message(message, lambda kid: private.public_key(), now=NOW + 1)
    httpsig.replay_check(verified, store, "t:agent", NOW + 1, 300)
    again = verify_message(message, lambda kid: private.public_key(), now=NOW + 2)
    with pytest.raises(VerificationFailed, match="already received"):
        httpsig.replay_check(again, store, "t:agent", NOW + 2, 300)


POLICY: list[tuple[str, Callable[[Any], HttpMessage], int]] = [
    ("expired", lambda k: signed(k), NOW + 400),
    ("created-in-future", lambda k: signed(k, created=NOW + 120, expires=NOW + 150), NOW),
    ("no-expires", lambda k: signed(k, expires=None), NOW),
    ("window-too-long", lambda k: signed(k, expires=NOW + 3600), NOW),
    ("no-nonce", lambda k: signed(k, nonce=None), NOW),
    ("nonce-too-short", lambda k: signed(k, nonce="abc"), NOW),
    (
        "method-not-covered",
        lambda k: signed(k, components=("@authority", "@path", "content-digest")),
        NOW,
    ),
    (
        "path-not-covered",
        lambda k: signed(k, components=("@method", "@authority", "content-digest")),
        NOW,
    ),
    ("body-not-covered", lambda k: signed(k, components=("@method", "@authority", "@path")), NOW),
    ("digest-of-another-body", lambda k: signed(k, digest=content_digest(b"{}")), NOW),
]


@pytest.mark.parametrize(("name", "make", "now"), POLICY, ids=[p[0] for p in POLICY])
def test_the_policy_refuses(name: str, make: Callable[[Any], HttpMessage], now: int) -> None:
    private = new_key()
    with pytest.raises(VerificationFailed):
        verify_message(make(private), lambda kid: private.public_key(), now=now)


def test_an_unknown_keyid_is_refused() -> None:
    with pytest.raises(VerificationFailed, match="not a registered key"):
        verify_message(signed(new_key()), lambda kid: None, now=NOW)
