"""Webhook signatures: HMAC-SHA256 over `"<timestamp>." + body`, sent as `t=<unix>,v1=<hex>`.

The timestamp is inside the MAC, so an attacker cannot refresh an old message; the
tolerance window bounds how old a message may be; and the replay guard remembers every
signature seen inside that window, so the same message cannot be delivered twice. A
message older than the window is refused as stale, which is why the guard may forget it.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

SIGNATURE_HEADER = "Paygod-Signature"
DEFAULT_TOLERANCE = 300
# `t=<10 digits>` and a few `v1=<64 hex>` (a partner rotating secrets sends two or three)
# fit many times over; a longer header is refused before it is parsed.
MAX_HEADER_LENGTH = 512


WebhookReason = Literal["malformed", "oversized", "bad_signature", "stale", "replayed"]


class WebhookRejected(Exception):
    """Why a signed webhook is refused: `reason` is one word (`WebhookReason`)."""

    def __init__(self, reason: WebhookReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, *, timestamp: int | None = None) -> str:
    """The header value for `body`: `t=<unix seconds>,v1=<hex>`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={signature(secret, ts, body)}"


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple[str, ...]


def parse_header(header: str | None) -> ParsedSignature:
    if not header:
        raise WebhookRejected("malformed", f"missing {SIGNATURE_HEADER} header")
    if len(header) > MAX_HEADER_LENGTH:
        raise WebhookRejected(
            "oversized", f"{SIGNATURE_HEADER} is longer than {MAX_HEADER_LENGTH} characters"
        )
    timestamp: int | None = None
    sigs: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookRejected("malformed", f"bad {SIGNATURE_HEADER} element {part!r}")
        if key == "t":
            if not value.isdigit():
                raise WebhookRejected("malformed", "timestamp t= is not an integer")
            timestamp = int(value)
        elif key == "v1":
            sigs.append(value)
    if timestamp is None or not sigs:
        raise WebhookRejected("malformed", "header needs t= and at least one v1=")
    return ParsedSignature(timestamp, tuple(sigs))


class WebhookRefusals:
    """Refused deliveries counted by (rail, reason): exported as the Prometheus counter
    `paygod_webhook_refused_total`. Counted, never sealed: the route is unauthenticated, so
    anything it records is attacker-shaped, and a ledger entry per refusal let anyone grow
    the permanent ledger at will. Rails are the configured ones (or `unknown`), so the
    labels stay few whatever the path says."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def add(self, rail: str, reason: str) -> None:
        with self._lock:
            self._counts[(rail, reason)] = self._counts.get((rail, reason), 0) + 1

    def counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)


class SeenSignatures(Protocol):
    def first_time(self, key: str, timestamp: int, now: int, tolerance: int) -> bool: ...


class ReplayGuard:
    """Signatures seen within the tolerance window (memory; one per verifying process)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def first_time(self, key: str, timestamp: int, now: int, tolerance: int) -> bool:
        with self._lock:
            if len(self._seen) > 10_000:
                horizon = now - tolerance
                self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
            if key in self._seen:
                return False
            self._seen[key] = timestamp
            return True


class RedisReplayGuard:
    """Signatures seen, shared by every API process (distributed mode): SET NX with a TTL
    of twice the tolerance window. If Redis is down, the process falls back to its own
    memory guard rather than accepting every replay."""

    def __init__(self, client: Any, *, prefix: str = "paygod:webhook-seen:") -> None:
        self.client = client
        self.prefix = prefix
        self.local = ReplayGuard()

    def first_time(self, key: str, timestamp: int, now: int, tolerance: int) -> bool:
        import redis

        try:
            return bool(self.client.set(self.prefix + key, timestamp, nx=True, ex=2 * tolerance))
        except redis.RedisError:
            return self.local.first_time(key, timestamp, now, tolerance)


def verify(
    secret: bytes,
    header: str | None,
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
    guard: SeenSignatures | None = None,
) -> ParsedSignature:
    """Raise `WebhookRejected` unless `body` carries a fresh, valid, first-seen signature."""
    parsed = parse_header(header)
    expected = signature(secret, parsed.timestamp, body)
    match = next((s for s in parsed.signatures if hmac.compare_digest(s, expected)), None)
    if match is None:
        raise WebhookRejected("bad_signature", "signature does not match the body")
    if abs(now - parsed.timestamp) > tolerance:
        raise WebhookRejected(
            "stale", f"timestamp {parsed.timestamp} is outside the {tolerance} s tolerance window"
        )
    if guard is not None and not guard.first_time(match, parsed.timestamp, now, tolerance):
        raise WebhookRejected("replayed", "this signed message was already delivered")
    return parsed
