"""Every change of a tenant, a principal or an API key is a ledger entry sealed with its
row: the whole state after the change, what changed and who changed it; never a secret."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from paygod.assurance.model import Basis, Period
from paygod.assurance.reports import sox
from paygod.bootstrap import Kernel
from paygod.identity import entries, keys
from paygod.identity.model import Principal, PrincipalKind, Role
from paygod.kernel.errors import Conflict


def _kinds_and_changes(kernel: Kernel, subject: str) -> list[tuple[str, str]]:
    return [(e.kind, e.payload["change"]) for e in kernel.ledger.history(subject)]


def test_principal_changes_are_sealed_with_their_state_and_actor(kernel: Kernel) -> None:
    identity = kernel.identity
    admin = identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    bob = identity.create_principal(
        "acme", "bob", PrincipalKind.HUMAN, {Role.OPERATOR}, created_by=admin.principal_id
    )
    identity.set_roles(bob.principal_id, {Role.AUDITOR}, actor=admin.principal_id)
    identity.set_disabled(bob.principal_id, True, actor=admin.principal_id)
    enabled = identity.set_disabled(bob.principal_id, False)
    history = kernel.ledger.history(f"principal:{bob.principal_id}")
    assert [(e.kind, e.payload["change"]) for e in history] == [
        ("identity.principal", "created"),
        ("identity.principal", "roles"),
        ("identity.principal", "disabled"),
        ("identity.principal", "enabled"),
    ]
    assert [e.payload["actor"] for e in history] == [admin.principal_id] * 3 + [None]
    assert [e.payload["principal"]["roles"] for e in history] == [
        ["operator"],
        ["auditor"],
        ["auditor"],
        ["auditor"],
    ]
    assert [e.payload["principal"]["disabled"] for e in history] == [False, False, True, False]
    assert history[-1].payload["principal"] == enabled.as_dict()
    assert {e.tenant_id for e in history} == {"acme"}
    # The tenant the first principal brought into being is sealed too.
    assert _kinds_and_changes(kernel, "tenant:acme") == [("identity.tenant", "created")]


def test_key_changes_are_sealed_without_the_secret(kernel: Kernel) -> None:
    identity = kernel.identity
    bot = identity.create_principal("acme", "bot", PrincipalKind.SERVICE, {Role.AGENT})
    first = identity.issue_key(bot.principal_id, scopes=["decisions:create"], actor="p-admin")
    second = identity.rotate_key(first.key.key_id, grace_seconds=60)
    identity.revoke_key(second.key.key_id, actor="p-admin")  # ends first's grace too
    assert _kinds_and_changes(kernel, f"api-key:{first.key.key_id}") == [
        ("identity.api-key", "issued"),
        ("identity.api-key", "rotated"),
        ("identity.api-key", "revoked"),
    ]
    assert _kinds_and_changes(kernel, f"api-key:{second.key.key_id}") == [
        ("identity.api-key", "issued"),
        ("identity.api-key", "revoked"),
    ]
    issued, rotated, revoked = kernel.ledger.history(f"api-key:{first.key.key_id}")
    stored = identity.store.key_by_prefix(first.key.prefix)
    assert stored is not None
    assert issued.payload["verifier"] == f"sha256:{stored[1]}"
    assert "verifier" not in rotated.payload  # the verifier never changes: sealed once
    now = kernel.clock.now()
    assert rotated.payload["key"]["revoked_at"] is not None
    assert (
        revoked.payload["key"]["revoked_at"]
        == identity.key(first.key.key_id).as_dict()["revoked_at"]
    )
    assert identity.key(first.key.key_id).revoked_at <= now  # type: ignore[operator]
    # No token, no secret part of one, anywhere in the ledger.
    everything = json.dumps([e.payload for e in kernel.ledger.iter_entries()])
    for token in (first.token, second.token):
        parts = keys.split_token(token)
        assert parts is not None and token not in everything and parts[1] not in everything


def test_a_refused_entry_leaves_no_row(kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger refuses to seal the entry (here: a payload RFC 8785 cannot encode): the
    principal's row, written first in the same transaction, goes with it."""
    kernel.identity.create_tenant("acme")
    size = kernel.ledger.size
    sealable = entries.principal_entry

    def unsealable(principal: Principal, change: str, actor: str | None, at: Any) -> Any:
        draft = sealable(principal, change, actor, at)
        return replace(draft, payload={**draft.payload, "weight": float("nan")})

    monkeypatch.setattr(entries, "principal_entry", unsealable)
    with pytest.raises(Exception) as refused:
        kernel.identity.create_principal("acme", "alice", PrincipalKind.AGENT, {Role.AGENT})
    assert not isinstance(refused.value, Conflict)
    assert kernel.identity.list_principals("acme") == []
    assert kernel.ledger.size == size


def test_a_refused_row_leaves_no_entry(kernel: Kernel) -> None:
    kernel.identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    size = kernel.ledger.size
    with pytest.raises(Conflict, match="already exists"):
        kernel.identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    with pytest.raises(Conflict):
        kernel.identity.create_tenant("acme")
    assert kernel.ledger.size == size


def test_rows_written_before_sealing_are_adopted_once(kernel: Kernel) -> None:
    identity = kernel.identity
    old = Principal(
        "p-old", "acme", PrincipalKind.HUMAN, "carol", frozenset({Role.ADMIN}), kernel.clock.now()
    )
    identity.store.add_principal(None, old)  # as an older Paygod wrote it: no entry
    assert identity.seal_unsealed() == 1
    (adopted,) = kernel.ledger.history("principal:p-old")
    assert adopted.payload["change"] == "adopted" and adopted.payload["principal"] == old.as_dict()
    assert identity.seal_unsealed() == 0


def test_the_sox_report_lists_role_grants_from_the_ledger(kernel: Kernel) -> None:
    identity = kernel.identity
    admin = identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    bob = identity.create_principal("acme", "bob", PrincipalKind.HUMAN, {Role.OPERATOR})
    identity.set_roles(bob.principal_id, {Role.COMPLIANCE_OFFICER}, actor=admin.principal_id)
    identity.issue_key(bob.principal_id, actor=admin.principal_id)
    start = kernel.clock.now() - timedelta(days=1)
    basis = Basis("acme", Period(start, start + timedelta(days=2)), kernel.ledger.tree_head())
    report = sox(basis, list(kernel.ledger.iter_entries()))
    (grants,) = [s for s in report["sections"] if s["title"] == "Role grants and access changes"]
    rows = {(r[2], r[3]): r for r in grants["rows"]}
    role_change = rows[(f"principal:{bob.principal_id}", "roles")]
    assert role_change[4] == ["compliance_officer"] and role_change[5] == admin.principal_id
    assert (f"principal:{admin.principal_id}", "created") in rows
    assert any(change == "issued" for _, change in rows)
    assert report["summary"]["role_and_access_changes"] == len(grants["rows"])
