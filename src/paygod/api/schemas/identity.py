"""Success bodies of the identity routes (`api/routers/identity.py`). Secrets (an API key,
a TOTP secret, an enrolment token) appear once, in the body that issues them."""

from __future__ import annotations

from paygod.api.receipts import Receipt
from paygod.api.schemas import Body
from paygod.identity.model import AccessRecord


class Principal(Body):
    principal_id: str
    tenant_id: str
    kind: str
    name: str
    roles: list[str]
    created_at: str
    disabled: bool
    external_id: str | None
    created_by: str | None


class Me(Principal):
    authenticated_by: str
    totp_enrolled: bool


class Principals(Body):
    principals: list[Principal]


class Session(Body):
    """A short-lived session JWT (RFC 6750 bearer), capped by the credential presented."""

    access_token: str
    token_type: str
    expires_in: int
    expires_at: str
    scopes: list[str]
    session_id: str


class TotpEnrolment(Body):
    """The secret and its otpauth URI: shown once."""

    secret: str
    otpauth_uri: str


class TotpConfirmed(Body):
    enrolled: bool


class Tenant(Body):
    tenant_id: str
    name: str
    created_at: str


class Tenants(Body):
    tenants: list[Tenant]


class ApiKey(Body):
    """An API key, never its secret."""

    key_id: str
    prefix: str
    principal_id: str
    tenant_id: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    rotated_from: str | None


class IssuedKey(ApiKey):
    """A new key with its secret: shown once."""

    api_key: str


class ApiKeys(Body):
    keys: list[ApiKey]


class EnrolmentToken(Body):
    principal_id: str
    enrolment_token: str
    expires_at: str


class Consent(Body):
    consent_id: str
    tenant_id: str
    subject: str
    purpose: str
    status: str
    recorded_at: str
    recorded_by: str
    evidence: str | None


class Consents(Body):
    """The current consent per purpose, and every record in order."""

    subject: str
    purposes: dict[str, Consent]
    history: list[Consent]


class AccessLog(Body):
    records: list[AccessRecord]


# What a sealing route answers: the object after the change, with the receipt of its
# `identity.*` ledger entries (null on nothing sealed now).


class SealedTenant(Tenant):
    receipt: Receipt | None


class SealedPrincipal(Principal):
    receipt: Receipt | None


class SealedApiKey(ApiKey):
    receipt: Receipt | None


class SealedIssuedKey(IssuedKey):
    receipt: Receipt | None
