"""Ed25519 keys and signed tree heads (the signed part is the RFC 8785 form of the head)."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from paygod.kernel.errors import InvalidSettings
from paygod.kernel.files import create_once
from paygod.ledger.model import SignedTreeHead
from paygod.ledger.verifier import key_id_of, tree_head_bytes

KEY_FILE = Path("keys") / "ledger-ed25519.pem"


class TreeHeadSigner:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id_of(self.public_raw)

    @classmethod
    def generate(cls) -> TreeHeadSigner:
        return cls(Ed25519PrivateKey.generate())

    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def sign(self, tree_size: int, root_hash: str, timestamp: str) -> SignedTreeHead:
        unsigned = {
            "tree_size": tree_size,
            "root_hash": root_hash,
            "timestamp": timestamp,
            "key_id": self.key_id,
        }
        signature = self._key.sign(tree_head_bytes(unsigned))
        return SignedTreeHead(
            tree_size=tree_size,
            root_hash=root_hash,
            timestamp=timestamp,
            key_id=self.key_id,
            signature=base64.b64encode(signature).decode("ascii"),
        )


def load_signer(path: Path) -> TreeHeadSigner:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidSettings(f"cannot load the ledger signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidSettings(f"the ledger signing key {path} is not an Ed25519 key")
    return TreeHeadSigner(key)


def load_or_create_signer(home: Path, configured: Path | None = None) -> TreeHeadSigner:
    """The configured key, else PAYGOD_HOME/keys/ledger-ed25519.pem, created (0600) if absent."""
    if configured is not None:
        return load_signer(configured)
    path = home / KEY_FILE
    if path.exists():
        return load_signer(path)
    key = Ed25519PrivateKey.generate()
    # If another process created the key meanwhile, theirs wins: both load the same one.
    create_once(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return load_signer(path)
