"""Walk every route of the OpenAPI document: no route forgotten by access control.

- without credentials: 401 on every /v1 operation (except the few public ones, which
  carry their own credential and must refuse an unsigned call);
- a principal whose roles lack the route's permission: 403 (unmapped routes: 403 for
  everyone but platform admins);
- another tenant's objects: 404, never their data (identity objects, created for real).

Every other route naming an object in its path is walked with a real object, across
tenants and across owners under scope `own`, in `test_object_isolation.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.permissions import grant
from paygod.identity.route_permissions import AUTHENTICATED, PUBLIC_ROUTES, permission_for
from paygod.kernel.settings import load_settings
from tests.support.http import principal_headers, unthrottled_client


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    home = tmp_path_factory.mktemp("route-walk")
    built = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    yield built
    built.close()


@pytest.fixture(scope="module")
def http(kernel: Kernel) -> TestClient:
    return unthrottled_client(kernel)


def _operations(http: TestClient) -> list[tuple[str, str, str]]:
    spec = http.get("/openapi.json").json()
    found = []
    for template, item in spec["paths"].items():
        if not template.startswith("/v1/"):
            continue
        for method, op in item.items():
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            found.append((method.upper(), template, _concrete(template, op)))
    assert len(found) >= 15, "the OpenAPI document lists the /v1 routes"
    return found


def _concrete(template: str, op: dict[str, Any]) -> str:
    path = template
    for param in op.get("parameters", []):
        if param.get("in") == "path":
            kind = param.get("schema", {}).get("type")
            path = path.replace("{" + param["name"] + "}", "0" if kind == "integer" else "x")
    return path


def _call(http: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    return http.request(method, path, headers=headers).status_code


def test_every_route_needs_credentials(http: TestClient) -> None:
    wrong: list[str] = []
    for method, template, path in _operations(http):
        status = _call(http, method, path, {})
        if (method, template) in PUBLIC_ROUTES:
            if status < 400:
                wrong.append(f"{method} {template}: public route accepted an unsigned call")
        elif status != 401:
            wrong.append(f"{method} {template}: {status} without credentials")
    assert not wrong, "\n".join(wrong)


def test_every_route_refuses_a_lower_role(kernel: Kernel, http: TestClient) -> None:
    headers = {
        role: principal_headers(kernel, roles=[role.value], tenant_id="acme", kind="service")
        for role in Role
        if role is not Role.PLATFORM_ADMIN
    }
    nobody = principal_headers(kernel, roles=[], tenant_id="acme", name="nobody")
    wrong: list[str] = []
    checked = 0
    for method, template, path in _operations(http):
        if (method, template) in PUBLIC_ROUTES:
            continue
        permission = permission_for(method, template)
        if permission == AUTHENTICATED:
            continue
        if _call(http, method, path, nobody) != 403:
            wrong.append(f"{method} {template}: a principal without roles was not refused")
        for role, role_headers in headers.items():
            allowed = permission is not None and grant({role}, permission) is not None
            if allowed:
                continue
            checked += 1
            status = _call(http, method, path, role_headers)
            if status != 403:
                wrong.append(f"{method} {template}: {role.value} got {status}, expected 403")
    assert checked > 50
    assert not wrong, "\n".join(wrong)


def test_another_tenants_objects_are_not_found(kernel: Kernel, http: TestClient) -> None:
    identity = kernel.identity
    victim = identity.create_principal("acme", "victim", PrincipalKind.AGENT, {Role.AGENT})
    key = identity.issue_key(victim.principal_id)
    identity.consent.record("acme", "urn:subject:1", "marketing", granted=True, actor="t")
    globex_admin = principal_headers(kernel, roles=["admin"], tenant_id="globex")
    globex_auditor = principal_headers(kernel, roles=["auditor"], tenant_id="globex")
    pid, kid = victim.principal_id, key.key.key_id
    for method, path, headers in [
        ("GET", f"/v1/identity/principals/{pid}", globex_auditor),
        ("PUT", f"/v1/identity/principals/{pid}/roles", globex_admin),
        ("POST", f"/v1/identity/principals/{pid}/disable", globex_admin),
        ("POST", f"/v1/identity/principals/{pid}/keys", globex_admin),
        ("POST", f"/v1/identity/keys/{kid}/rotate", globex_admin),
        ("DELETE", f"/v1/identity/keys/{kid}", globex_admin),
    ]:
        body = {"roles": ["admin"]} if method == "PUT" else {}
        response = http.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
    listed = http.get("/v1/identity/keys", headers=globex_auditor).json()["keys"]
    assert kid not in {k["key_id"] for k in listed}
    consents = http.get("/v1/identity/consents/urn:subject:1", headers=globex_auditor).json()
    assert consents["history"] == []
    assert identity.authenticate_key(key.token).principal.disabled is False
