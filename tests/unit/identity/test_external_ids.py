"""External ids (mTLS subjects, OIDC subjects) are unique per tenant, not first come first
served across tenants (issue 15, D15); a credential naming no tenant must resolve to one
principal or none."""

from __future__ import annotations

import pytest

from paygod.bootstrap import Kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.service import IdentityService
from paygod.kernel.errors import Conflict, Unauthorized
from tests.support.http import anonymous_client

DN = "cert:CN=agent-7,O=acme"


def test_another_tenant_cannot_squat_an_external_id(kernel: Kernel) -> None:
    identity = kernel.identity
    squatter = identity.create_principal("globex", "sq", PrincipalKind.SERVICE, {Role.ADMIN})
    owner = identity.create_principal("acme", "adm", PrincipalKind.SERVICE, {Role.ADMIN})
    http = anonymous_client(kernel)

    def create(admin_id: str, name: str) -> object:
        key = identity.issue_key(admin_id).token
        return http.post(
            "/v1/identity/principals",
            headers={"Authorization": f"Bearer {key}"},
            json={"name": name, "kind": "agent", "roles": ["agent"], "external_id": DN},
        )

    first = create(squatter.principal_id, "sq-agent")
    assert first.status_code == 201  # type: ignore[attr-defined]
    victim = create(owner.principal_id, "agent-7")
    assert victim.status_code == 201, victim.text  # type: ignore[attr-defined]
    assert victim.json()["tenant_id"] == "acme"  # type: ignore[attr-defined]
    # Inside one tenant it is still unique, and the answer names the right field.
    clash = create(owner.principal_id, "agent-8")
    assert clash.status_code == 409  # type: ignore[attr-defined]
    assert clash.json()["errors"][0]["pointer"] == "/external_id"  # type: ignore[attr-defined]
    assert "globex" not in clash.text  # type: ignore[attr-defined]


def test_an_identity_registered_in_two_tenants_is_refused_not_guessed(
    identity: IdentityService,
) -> None:
    identity.create_principal("globex", "sq", PrincipalKind.AGENT, {Role.AGENT}, external_id=DN)
    with pytest.raises(Unauthorized, match="no active"):
        identity.authenticate_certificate("CN=nobody")
    only = identity.authenticate_certificate("CN=agent-7,O=acme")
    assert only.principal.tenant_id == "globex" and only.method == "mtls"
    identity.create_principal("acme", "a7", PrincipalKind.AGENT, {Role.AGENT}, external_id=DN)
    with pytest.raises(Unauthorized, match="several tenants"):
        identity.authenticate_certificate("CN=agent-7,O=acme")
    # A credential that names its tenant (an OIDC tenant claim) picks that tenant's.
    assert identity.resolve_external_id(DN, "acme").tenant_id == "acme"
    assert identity.resolve_external_id(DN, "globex").tenant_id == "globex"
    with pytest.raises(Unauthorized):
        identity.resolve_external_id(DN, "initech")


def test_names_and_external_ids_clash_apart(identity: IdentityService) -> None:
    identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT}, external_id=DN)
    with pytest.raises(Conflict) as by_name:
        identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    assert by_name.value.errors[0].pointer == "/name"
    with pytest.raises(Conflict) as by_id:
        identity.create_principal("acme", "bot2", PrincipalKind.AGENT, {Role.AGENT}, external_id=DN)
    assert by_id.value.errors[0].pointer == "/external_id"
