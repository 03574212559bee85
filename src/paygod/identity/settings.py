"""Identity's own settings, read from `PAYGOD_*` like the kernel's (kept here so the kernel's
settings class stays small)."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from paygod.kernel.errors import InvalidSettings


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYGOD_", extra="ignore", frozen=True)

    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks_cache_seconds: float = Field(default=300.0, ge=0)
    session_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    # Clock skew tolerated on exp/nbf/iat; bounded so a stolen expired token stays dead.
    token_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Below what one API process serves (docs/identity.md, "Rate limits": bench
    # identity_http), so one principal or tenant cannot take a whole process: a burst
    # from one principal sees 429 + Retry-After while others are still served. Raise them
    # per deployment (several processes with Redis-shared buckets serve more).
    rate_principal_per_second: float = Field(default=50.0, gt=0)
    rate_principal_burst: int = Field(default=100, ge=1)
    rate_tenant_per_second: float = Field(default=150.0, gt=0)
    rate_tenant_burst: int = Field(default=300, ge=1)
    # Failed authentications (bad keys, bad TOTP codes) allowed per client per minute.
    auth_failures_per_minute: int = Field(default=10, ge=1)
    # Bad TOTP codes one principal may send (from any address) before its step-up is locked;
    # the budget refills over totp_lock_seconds, so at most this many guesses per period.
    totp_failures_before_lock: int = Field(default=5, ge=1, le=100)
    totp_lock_seconds: int = Field(default=900, ge=30, le=86_400)
    totp_enrolment_ttl_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    # Client addresses whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated
    # IPs or CIDRs, or "*"). Empty: forwarded headers are ignored and the socket's peer is
    # the client, so nobody can pick the address the brute-force budget is counted against.
    trusted_proxies: str = ""
    # The OIDC claim naming the tenant of the token's subject: external ids are unique per
    # tenant, and a token naming no tenant must resolve to exactly one principal.
    oidc_tenant_claim: str = Field(default="paygod_tenant", min_length=1)
    # The key-encryption key (base64 of 32 bytes) sealing the session-signing key and TOTP
    # secrets; default: PAYGOD_HOME/keys/kek. Every process of a deployment needs the same.
    kek: SecretStr | None = None
    # Dev mode: a platform-admin key minted at the first start and printed (make run).
    # Never in production: /readyz reports it as a warning.
    dev_mode: bool = False
    dev_key: bool = Field(default=True, description="In dev mode, print a dev key at first start")


def load_identity_settings(**overrides: object) -> IdentitySettings:
    try:
        return IdentitySettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        raise InvalidSettings(f"PAYGOD_{field.upper()}: {first['msg']}") from None
