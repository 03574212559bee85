"""Per-subject data keys: AES-256-GCM (NIST SP 800-38D), each key wrapped by the KEK.

A record is sealed under its subject's key with the record id and subject as associated
data, so a ciphertext moved onto another row or subject does not open. The subject key is
wrapped with the kernel's key-encryption key (`identity/sealing.py`: `PAYGOD_KEK` or
`PAYGOD_HOME/keys/kek`, refused when others can read it), bound to tenant and subject.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from paygod.identity.sealing import SecretBox

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # SP 800-38D section 8.2: 96-bit random nonces


class RecordUnreadable(Exception):
    """The ciphertext does not open under this key (altered, or another subject's)."""


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _context(tenant_id: str, subject: str) -> str:
    return f"paygod-vault-key:{tenant_id}:{subject}"


def wrap(box: SecretBox, key: bytes, tenant_id: str, subject: str) -> str:
    return box.seal(base64.b64encode(key).decode("ascii"), _context(tenant_id, subject))


def unwrap(box: SecretBox, wrapped: str, tenant_id: str, subject: str) -> bytes:
    return base64.b64decode(box.open(wrapped, _context(tenant_id, subject)))


def _aad(record_id: str, subject: str) -> bytes:
    return f"{record_id}\x00{subject}".encode()


def seal(key: bytes, plaintext: bytes, record_id: str, subject: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(record_id, subject))


def open_sealed(key: bytes, sealed: bytes, record_id: str, subject: str) -> bytes:
    try:
        return AESGCM(key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(record_id, subject)
        )
    except InvalidTag:
        raise RecordUnreadable(f"vault record {record_id} does not open") from None
