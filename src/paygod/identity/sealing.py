"""Identity secrets at rest: the session-signing key and TOTP secrets, sealed with AES-256-GCM
under a key-encryption key (KEK) that never enters the database.

Anyone who can read the database (a loose file mode, a replica, a backup, an analytics
user with SELECT) would otherwise hold the key that signs every session JWT and every TOTP
secret. The KEK comes from `PAYGOD_KEK` (base64 of 32 bytes: what every process of a
distributed deployment must share) or from `PAYGOD_HOME/keys/kek` (created 0600 in a 0700
folder on first use). Each sealed value is bound to its row (`context`, the AES-GCM
associated data), so a sealed value copied onto another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from paygod.kernel.errors import InvalidSettings
from paygod.kernel.files import create_once

SEALED_PREFIX = "pgsealed1:"
KEK_FILE = "keys/kek"
KEK_BYTES = 32
_NONCE_BYTES = 12


class SealedSecretUnreadable(InvalidSettings):
    """A sealed value that this KEK does not open: another KEK sealed it, or it was altered."""


class SecretBox:
    def __init__(self, kek: bytes) -> None:
        if len(kek) != KEK_BYTES:
            raise InvalidSettings(f"the key-encryption key must be {KEK_BYTES} bytes")
        self._aead = AESGCM(kek)

    @classmethod
    def ephemeral(cls) -> SecretBox:
        """A KEK that lives as long as this object: for stores that live as long (tests)."""
        return cls(secrets.token_bytes(KEK_BYTES))

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, context: str) -> str:
        if not is_sealed(stored):
            raise SealedSecretUnreadable(f"{context}: stored in plain text, expected sealed")
        try:
            raw = base64.b64decode(stored[len(SEALED_PREFIX) :], validate=True)
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise SealedSecretUnreadable(
                f"{context}: cannot be opened with this key-encryption key (was it sealed under"
                " another PAYGOD_KEK or PAYGOD_HOME/keys/kek?)"
            ) from None
        return plain.decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def kek_from_env(value: str) -> bytes:
    try:
        kek = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSettings("PAYGOD_KEK: expected base64 of 32 random bytes") from None
    if len(kek) != KEK_BYTES:
        raise InvalidSettings(f"PAYGOD_KEK: expected {KEK_BYTES} bytes, got {len(kek)}")
    return kek


def loose_mode(path: Path) -> bool:
    """Readable, writable or executable by anyone but its owner."""
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def kek_from_file(home: Path) -> bytes:
    """PAYGOD_HOME/keys/kek, created on first use; refused when others may read it (a KEK
    anyone can read protects nothing)."""
    path = home / KEK_FILE
    if not path.exists():
        create_once(path, base64.b64encode(secrets.token_bytes(KEK_BYTES)) + b"\n")
    if loose_mode(path):
        raise InvalidSettings(
            f"{path} is readable by other users (mode {stat.S_IMODE(path.stat().st_mode):o});"
            f" run: chmod 600 {path}"
        )
    try:
        return kek_from_env(path.read_text())
    except InvalidSettings:
        raise InvalidSettings(f"{path}: expected base64 of {KEK_BYTES} random bytes") from None


def load_box(home: Path, env_value: str | None) -> SecretBox:
    return SecretBox(kek_from_env(env_value) if env_value else kek_from_file(home))
