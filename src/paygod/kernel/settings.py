"""One typed settings object, read from `PAYGOD_*` environment variables.

Every value is validated when the process starts, so a bad setting is one clear
line (and exit 2) instead of a failure deep inside a request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paygod.kernel.errors import InvalidSettings


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class RateLimitFailMode(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYGOD_", extra="ignore", frozen=True)

    home: Path = Field(default=Path("./paygod-data"), description="Data directory")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///PATH or postgresql://...; default: SQLite under PAYGOD_HOME",
    )
    redis_url: str | None = None
    nats_url: str | None = None
    nats_namespace: str = Field(
        default="paygod",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="First subject token and stream prefix of the relayed events",
    )
    clock: datetime | None = Field(
        default=None, description="Fixed ISO 8601 instant for reproducible runs"
    )
    log_level: LogLevel = LogLevel.INFO
    log_json: bool = True
    packs: Path = Field(default=Path("./packs"), description="Directory of paygod/v1 packs")
    packs_trusted_keys: Path | None = Field(
        default=None,
        description="Ed25519 public keys (a PEM file or a directory of *.pem): when set, "
        "PAYGOD_PACKS must be a bundle signed by one of them",
    )
    packs_source: str | None = Field(
        default=None,
        description="Where the active packs come from instead of PAYGOD_PACKS: "
        "'git:<repository path>[#<ref>]' or 'database' (bundles released over HTTP)",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    signing_key: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) for signed tree heads"
    )
    tree_head_every_entries: int = Field(default=1000, ge=1)
    tree_head_every_seconds: float = Field(default=10.0, gt=0)
    rate_limit_fail_mode: RateLimitFailMode = RateLimitFailMode.OPEN
    tenant: str = Field(default="default", min_length=1, max_length=64)
    hold_sweep_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="How often expired holds are released"
    )
    balance_period: Literal["off", "day", "month"] = Field(
        default="off",
        description="Which periods close on their own with sealed balance statements "
        "(PAYGOD_BALANCE_PERIOD); `paygod accounts close-period` closes one by hand",
    )
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (spans go to <url>/v1/traces); "
        "tracing is off when unset",
    )
    embedded_worker: bool | None = Field(
        default=None,
        description="Run the outbox worker inside each API process "
        "(default: yes standalone, no distributed; `paygod cluster` turns it off)",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parsed = urlparse(value)
        if parsed.scheme == "sqlite":
            if not parsed.path or parsed.path == "/":
                raise ValueError(
                    "sqlite URL needs a file path, e.g. sqlite:///paygod-data/paygod.db"
                )
            return value
        if parsed.scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
            if not parsed.hostname and "host=" not in parsed.query:
                raise ValueError(
                    "postgresql URL needs a host, e.g. postgresql://127.0.0.1:5432/test"
                )
            return value
        raise ValueError(
            f"unsupported scheme {parsed.scheme or '(none)'!r}; "
            "use sqlite:///PATH or postgresql://HOST[:PORT]/DB"
        )

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and urlparse(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("expected redis://HOST:PORT[/DB]")
        return value or None

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, value: str | None) -> str | None:
        if value and urlparse(value).scheme not in {"nats", "tls"}:
            raise ValueError("expected nats://HOST:PORT")
        return value or None

    @field_validator("otel_endpoint")
    @classmethod
    def _otel_endpoint(cls, value: str | None) -> str | None:
        if value and (
            urlparse(value).scheme not in {"http", "https"} or not urlparse(value).netloc
        ):
            raise ValueError("expected http(s)://HOST:PORT of an OTLP/HTTP collector")
        return value or None

    @field_validator("clock")
    @classmethod
    def _clock_is_aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            # A naive instant is ambiguous across machines; reproducible runs need UTC.
            value = value.replace(tzinfo=UTC)
        return value

    @property
    def sqlite_path(self) -> Path:
        """Where the SQLite system of record lives in standalone mode."""
        if self.database_url and self.database_url.startswith("sqlite"):
            return Path(urlparse(self.database_url).path.removeprefix("/") or "paygod.db")
        return self.home / "paygod.db"

    @property
    def distributed(self) -> bool:
        return bool(self.database_url and not self.database_url.startswith("sqlite"))

    @property
    def runs_embedded_worker(self) -> bool:
        return self.embedded_worker if self.embedded_worker is not None else not self.distributed


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one precise `InvalidSettings` line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidSettings(f"PAYGOD_{field.upper()}: {message}") from None
