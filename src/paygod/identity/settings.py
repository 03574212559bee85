"""Identity's own settings, read from `PAYGOD_*` like the kernel's (kept here so the kernel's
settings class stays small)."""

from __future__ import annotations

from pydantic import Field, ValidationError
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
    # Generous defaults: one service account may legitimately drive a whole integration;
    # tighten per deployment.
    rate_principal_per_second: float = Field(default=1000.0, gt=0)
    rate_principal_burst: int = Field(default=2000, ge=1)
    rate_tenant_per_second: float = Field(default=5000.0, gt=0)
    rate_tenant_burst: int = Field(default=10000, ge=1)
    # Failed authentications (bad keys, bad TOTP codes) allowed per client per minute.
    auth_failures_per_minute: int = Field(default=10, ge=1)
    dev_key: bool = Field(default=True, description="Print a dev key at first start")


def load_identity_settings(**overrides: object) -> IdentitySettings:
    try:
        return IdentitySettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        raise InvalidSettings(f"PAYGOD_{field.upper()}: {first['msg']}") from None
