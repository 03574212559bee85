"""In-process HTTP clients for API tests. Always build clients here: this is the one place
that gives test clients their credentials.

`api_client(kernel)` authenticates as a platform admin service account (every route, every
tenant, no TOTP step-up since it is not a human). To test as a narrower principal, pass
`headers=principal_headers(kernel, roles=["auditor"], tenant_id="acme")`.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.testclient import TestClient

from paygod.api.app import create_app
from paygod.bootstrap import Kernel

HARNESS_NAME = "test-harness"


def _identity(kernel: Kernel):  # type: ignore[no-untyped-def]
    return kernel.identity


def principal_headers(
    kernel: Kernel,
    *,
    roles: Iterable[str] = ("platform_admin",),
    tenant_id: str | None = None,
    kind: str = "service",
    name: str | None = None,
) -> dict[str, str]:
    """Authorization headers of a (new or existing) principal with these roles.

    The harness's credentials are scaffolding, not the behaviour under test: they are written
    to the identity store without a ledger entry (as a Paygod that did not seal identity yet
    wrote them), so a test's "nothing recorded" check counts only what its requests sealed.
    Tests of identity itself call `kernel.identity`, which seals every change."""
    from paygod.identity import keys
    from paygod.identity.model import ALL_TENANTS, ApiKey, Principal, PrincipalKind, Tenant
    from paygod.identity.service import parse_roles
    from paygod.kernel.record_ids import new_id

    identity = _identity(kernel)
    roles = tuple(roles)
    role_set = parse_roles(roles)
    if tenant_id is None:
        tenant_id = ALL_TENANTS if "platform_admin" in roles else kernel.settings.tenant
    name = name or f"{HARNESS_NAME}-{'-'.join(sorted(r.value for r in role_set)) or 'none'}"
    now = identity.clock.now()
    if tenant_id != ALL_TENANTS and identity.get_tenant(tenant_id) is None:
        identity.store.add_tenant(None, Tenant(tenant_id, tenant_id, now))
    existing = [p for p in identity.list_principals(tenant_id) if p.name == name]
    principal = existing[0] if existing else None
    if principal is None:
        principal = Principal(new_id(), tenant_id, PrincipalKind(kind), name, role_set, now)
        identity.store.add_principal(None, principal)
    token, prefix, secret_hash = keys.new_token()
    key = ApiKey(new_id(), prefix, principal.principal_id, tenant_id, (), now)
    identity.store.add_key(None, key, secret_hash)
    return {"Authorization": f"Bearer {token}"}


def api_client(kernel: Kernel, headers: dict[str, str] | None = None) -> TestClient:
    """A TestClient over the full app (middleware, problem+json) around `kernel`,
    authenticated as a platform admin unless `headers` bring other credentials."""
    client = TestClient(create_app(kernel), raise_server_exceptions=False)
    client.headers.update(principal_headers(kernel))
    client.headers.update(headers or {})
    return client


def anonymous_client(kernel: Kernel) -> TestClient:
    """No credentials at all: every /v1 route answers 401."""
    return TestClient(create_app(kernel), raise_server_exceptions=False)


def unthrottled_client(kernel: Kernel) -> TestClient:
    """An anonymous client for route walks: hundreds of requests from one client, so the
    rate and brute-force limits are lifted for this kernel."""
    from paygod.identity.settings import IdentitySettings

    _identity(kernel).settings = IdentitySettings(
        rate_principal_burst=100_000, rate_tenant_burst=100_000, auth_failures_per_minute=100_000
    )
    return anonymous_client(kernel)
