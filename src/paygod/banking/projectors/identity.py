"""Tenants, principals and API keys (`identity_tenants`, `identity_principals`,
`identity_api_keys`) from the `identity.tenant`, `identity.principal` and `identity.api-key`
entries the identity service seals with each row (`identity/entries.py`). Each entry holds
the object's whole state after the change, so the latest per object is its row.

Not rebuilt, on purpose:
- an API key's `last_used_at`: a hint for humans written on authentication (`touch_key`),
  not a change of the key; never sealed, it is empty after a rebuild or a restore until the
  key's next use;
- TOTP factors and session signing keys: secrets, which never enter the ledger (they
  belong to the key material a backup keeps apart); after a restore, principals enrol
  TOTP again and sessions are signed with a new key;
- enrolment tokens and the access log (operational records; the access reads worth
  keeping are sealed as `audit.access` entries).

An API key's row keeps the verifier sealed with its issue (`verifier`, the SHA-256 of its
secret), so a restored kernel authenticates the same keys.
"""

from __future__ import annotations

import json
from typing import Any

from paygod.banking.projectors.base import Key, Projector, Row, Table
from paygod.ledger import Entry

TENANTS = Table("identity_tenants", ("tenant_id", "name", "created_at"), ("tenant_id",))
PRINCIPALS = Table(
    "identity_principals",
    (
        "principal_id",
        "tenant_id",
        "kind",
        "name",
        "roles",
        "created_at",
        "disabled",
        "external_id",
        "created_by",
    ),
    ("principal_id",),
    frozenset({"roles"}),
)
API_KEYS = Table(
    "identity_api_keys",
    (
        "key_id",
        "prefix",
        "principal_id",
        "tenant_id",
        "secret_hash",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "rotated_from",
    ),
    ("key_id",),
    frozenset({"scopes"}),
)
_DIGEST_PREFIX = "sha256:"


class IdentityProjector(Projector):
    name = "identity"
    tables = (TENANTS, PRINCIPALS, API_KEYS)
    kinds = frozenset({"identity.tenant", "identity.principal", "identity.api-key"})

    def __init__(self, resolve: Any) -> None:
        super().__init__(resolve)
        self._rows: dict[str, dict[Key, Row]] = {t.name: {} for t in self.tables}
        self._verifiers: dict[str, str] = {}  # key id -> secret_hash, sealed once at issue

    def apply(self, entry: Entry) -> None:
        p = entry.payload
        if entry.kind == "identity.tenant":
            t = p["tenant"]
            self._put(TENANTS, (t["tenant_id"], t["name"], t["created_at"]))
        elif entry.kind == "identity.principal":
            q = p["principal"]
            self._put(
                PRINCIPALS,
                (
                    q["principal_id"],
                    q["tenant_id"],
                    q["kind"],
                    q["name"],
                    json.dumps(sorted(q["roles"])),  # as the store writes it
                    q["created_at"],
                    1 if q["disabled"] else 0,
                    q.get("external_id"),
                    q.get("created_by"),
                ),
            )
        else:
            k = p["key"]
            verifier = p.get("verifier")
            if isinstance(verifier, str) and verifier.startswith(_DIGEST_PREFIX):
                self._verifiers[k["key_id"]] = verifier[len(_DIGEST_PREFIX) :]
            self._put(
                API_KEYS,
                (
                    k["key_id"],
                    k["prefix"],
                    k["principal_id"],
                    k["tenant_id"],
                    # An empty verifier (never sealed) matches no presented secret.
                    self._verifiers.get(k["key_id"], ""),
                    json.dumps(list(k["scopes"])),
                    k["created_at"],
                    k.get("expires_at"),
                    k.get("revoked_at"),
                    k.get("rotated_from"),
                ),
            )

    def _put(self, table: Table, row: Row) -> None:
        key = table.key_of(row)
        self._rows[table.name][key] = row
        self.touch(table.name, key)

    def rows(self, table: str) -> dict[Key, Row]:
        return dict(self._rows[table])
