"""The ledger entries identity seals with each change of a tenant, a principal or an API key.

Each entry carries the object's whole state after the change (a projection takes the
latest per subject: `banking/projectors/identity.py`), what changed and who changed it,
so "who was granted which role, when, by whom" is answerable from the ledger alone.

Never a secret: an API key's token is shown once and never stored; its verifier (the
SHA-256 the store keeps) is sealed with the key's issue, see `key_entry`. TOTP factors and
session signing keys are secrets and are not sealed at all.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

from paygod.identity.model import ApiKey, Principal, Tenant
from paygod.kernel.clock import isoformat

TENANT = "identity.tenant"
PRINCIPAL = "identity.principal"
API_KEY = "identity.api-key"
KINDS = frozenset({TENANT, PRINCIPAL, API_KEY})


def _draft(**fields: Any) -> Any:
    # Looked up late, as consent does: identity is imported before the ledger is needed.
    return importlib.import_module("paygod.ledger").EntryDraft(**fields)


def _change(change: str, actor: str | None, at: datetime) -> dict[str, Any]:
    return {"change": change, "actor": actor, "at": isoformat(at)}


def _state_entry(
    kind: str, subject: str, tenant_id: str, state: dict[str, Any], at: datetime
) -> Any:
    """An identity object's whole state after a change (`state`: it under its member name,
    with `_change`'s fields), valid from the change."""
    return _draft(kind=kind, subject=subject, payload=state, tenant_id=tenant_id, valid_from=at)


def tenant_entry(tenant: Tenant, change: str, actor: str | None, at: datetime) -> Any:
    state = {"tenant": tenant.as_dict(), **_change(change, actor, at)}
    return _state_entry(TENANT, f"tenant:{tenant.tenant_id}", tenant.tenant_id, state, at)


def principal_entry(principal: Principal, change: str, actor: str | None, at: datetime) -> Any:
    state = {"principal": principal.as_dict(), **_change(change, actor, at)}
    subject = f"principal:{principal.principal_id}"
    return _state_entry(PRINCIPAL, subject, principal.tenant_id, state, at)


def key_state(key: ApiKey) -> dict[str, Any]:
    """The key as sealed: its last use is an operational hint written on authentication
    (`touch_key`), not a change of the key, and is never sealed."""
    state = key.as_dict()
    del state["last_used_at"]
    return state


def key_entry(
    key: ApiKey,
    change: str,
    actor: str | None,
    at: datetime,
    secret_hash: str | None = None,
) -> Any:
    """`secret_hash`, given on issue only (it never changes), is sealed as the key's
    `verifier`, so a restored kernel authenticates the same keys. It is the SHA-256 of a
    256-bit random secret (`keys.new_token`): nobody can invert it, and presenting it
    authenticates nothing (the kernel hashes what is presented). Sealed as a `sha256:`
    digest, the form the ledger's credential detector knows for a digest."""
    payload: dict[str, Any] = {"key": key_state(key), **_change(change, actor, at)}
    if secret_hash is not None:
        payload["verifier"] = f"sha256:{secret_hash}"
    return _state_entry(API_KEY, f"api-key:{key.key_id}", key.tenant_id, payload, at)
