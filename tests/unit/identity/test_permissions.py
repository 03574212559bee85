from __future__ import annotations

import pytest

from paygod.identity.model import Principal, PrincipalKind, Role
from paygod.identity.permissions import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    Scope,
    grant,
    require_own,
    require_same_tenant,
    scope_allows,
)
from paygod.identity.route_permissions import AUTHENTICATED, ROUTE_PERMISSIONS
from paygod.kernel.clock import SystemClock
from paygod.kernel.errors import NotFound

# compliance:report reads the ledger (reports are computed, nothing is recorded), but
# is held only by auditors and compliance officers, not by every reader; documents:download
# is a read too (each download is sealed as an access record, docs/documents.md).
READS_NOT_NAMED_READ = {"compliance:report", "documents:download"}
WRITES = [
    p for p in PERMISSIONS if not p.endswith((":read", ":verify")) and p not in READS_NOT_NAMED_READ
]


def _principal(tenant: str, *roles: Role) -> Principal:
    return Principal("p1", tenant, PrincipalKind.HUMAN, "x", frozenset(roles), SystemClock().now())


def test_matrix_names_only_known_permissions() -> None:
    for role, granted in ROLE_PERMISSIONS.items():
        assert set(granted) <= set(PERMISSIONS), role
    for permission in ROUTE_PERMISSIONS.values():
        assert permission == AUTHENTICATED or permission in PERMISSIONS


@pytest.mark.parametrize("permission", WRITES)
def test_auditor_writes_nothing(permission: str) -> None:
    assert grant({Role.AUDITOR}, permission) is None


def test_compliance_reports_are_for_auditors_and_compliance_officers() -> None:
    allowed = {r for r in Role if grant({r}, "compliance:report") is Scope.ALL}
    assert allowed == {Role.AUDITOR, Role.COMPLIANCE_OFFICER, Role.PLATFORM_ADMIN}


def test_agent_acts_for_itself_only() -> None:
    assert grant({Role.AGENT}, "payments:create") is Scope.OWN
    assert grant({Role.AGENT}, "identity:manage") is None
    assert grant({Role.AGENT, Role.AUDITOR}, "payments:read") is Scope.ALL  # widest wins


def test_platform_admin_has_everything() -> None:
    assert all(grant({Role.PLATFORM_ADMIN}, p) is Scope.ALL for p in PERMISSIONS)
    assert grant({Role.ADMIN}, "tenants:manage") is None


def test_key_scopes_narrow() -> None:
    assert scope_allows((), "ledger:read")
    assert scope_allows(("ledger:*",), "ledger:read")
    assert not scope_allows(("ledger:read",), "payments:create")
    assert scope_allows(("*",), "payments:create")


def test_other_tenant_is_not_found_and_platform_sees_all() -> None:
    require_same_tenant(_principal("acme", Role.ADMIN), "acme")
    require_same_tenant(_principal("*", Role.PLATFORM_ADMIN), "globex")
    with pytest.raises(NotFound):
        require_same_tenant(_principal("acme", Role.AUDITOR), "globex")
    with pytest.raises(NotFound):
        require_own(_principal("acme", Role.AGENT), Scope.OWN, "someone-else")
    require_own(_principal("acme", Role.AGENT), Scope.ALL, "someone-else")
