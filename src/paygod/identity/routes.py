"""Which permission each /v1 route needs: one declarative table, keyed by route template.

A /v1 route missing from this table is open to platform admins only (deny by default), so a
route added without an entry is safe until someone decides who may call it.
`AUTHENTICATED` routes are open to any authenticated principal (about itself).
"""

from __future__ import annotations

from collections.abc import Mapping

AUTHENTICATED = "authenticated"

ROUTE_PERMISSIONS: Mapping[tuple[str, str], str] = {
    # identity
    ("GET", "/v1/identity/me"): AUTHENTICATED,
    ("POST", "/v1/identity/sessions"): AUTHENTICATED,
    ("POST", "/v1/identity/me/totp"): AUTHENTICATED,
    ("POST", "/v1/identity/me/totp/confirm"): AUTHENTICATED,
    ("GET", "/v1/identity/tenants"): "identity:read",
    ("POST", "/v1/identity/tenants"): "tenants:manage",
    ("GET", "/v1/identity/principals"): "identity:read",
    ("POST", "/v1/identity/principals"): "identity:manage",
    ("GET", "/v1/identity/principals/{principal_id}"): "identity:read",
    ("PUT", "/v1/identity/principals/{principal_id}/roles"): "identity:manage",
    ("POST", "/v1/identity/principals/{principal_id}/disable"): "identity:manage",
    ("POST", "/v1/identity/principals/{principal_id}/keys"): "identity:manage",
    ("GET", "/v1/identity/keys"): "identity:read",
    ("POST", "/v1/identity/keys/{key_id}/rotate"): "identity:manage",
    ("DELETE", "/v1/identity/keys/{key_id}"): "identity:manage",
    ("POST", "/v1/identity/consents"): "consent:write",
    ("GET", "/v1/identity/consents/{subject}"): "consent:read",
    ("DELETE", "/v1/identity/consents/{subject}/{purpose}"): "consent:write",
    ("GET", "/v1/identity/access-log"): "audit:read",
}


def permission_for(method: str, template: str) -> str | None:
    if method == "HEAD":
        method = "GET"
    return ROUTE_PERMISSIONS.get((method, template))
