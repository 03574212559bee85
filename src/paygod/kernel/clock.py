"""The clock port: wall time normally, a fixed instant when PAYGOD_CLOCK is set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """Always the same instant, so `paygod run` under PAYGOD_CLOCK is byte-for-byte reproducible."""

    def __init__(self, instant: datetime) -> None:
        self._instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._instant


class ManualClock:
    """A clock tests move by hand (expiry of holds, sliding windows)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._now = self._now + timedelta(seconds=seconds)


def isoformat(instant: datetime) -> str:
    """RFC 3339 UTC text with microseconds and a `Z`, the one timestamp form Paygod writes.

    `datetime.isoformat` rather than `strftime`: a third faster (every ledger entry, event
    and transfer writes a few of these), and it pads years below 1000 to four digits as
    RFC 3339 requires, where glibc's `%Y` does not."""
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    return instant.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant, in UTC; a naive value is taken as UTC.

    `ValueError` also for an instant whose UTC form is outside years 1-9999
    (0001-01-01T00:00:00+23:59): converted later, it raised OverflowError (a 500)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text} is outside years 1-9999 in UTC") from None
