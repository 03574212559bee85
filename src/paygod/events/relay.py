"""The outbox relay: ledger order in, JetStream out, at least once, one active relay at a time.

Each round: take or renew the lease on the named cursor; read the events after the cursor
in (entry_seq, event_id) order — the ledger's order, which commits make visible in order,
because every batch holds the chain head row until it commits; publish them; move the
cursor past the acknowledged prefix. A crash between publish and cursor update republishes
that prefix; JetStream drops the repeats by message id (= event id) and consumers dedupe by
event id beyond the broker's window. Another relay started beside this one stands by until
the lease lapses (crash) or is released (clean stop).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from paygod.events.model import PublishReport, RelayEvent
from paygod.events.ports import EventPublisher, RelayCursorStore
from paygod.events.subjects import check_event_type
from paygod.executor.worker import default_worker_id
from paygod.kernel.clock import Clock
from paygod.kernel.logging import get_logger

log = get_logger("paygod.relay")


@dataclass(slots=True)
class RelayRound:
    leader: bool = False
    read: int = 0
    published: int = 0
    duplicates: int = 0
    skipped: int = 0
    error: str | None = None
    lost_lease: bool = False


class Relay:
    def __init__(
        self,
        cursors: RelayCursorStore,
        publisher: EventPublisher,
        clock: Clock,
        *,
        name: str = "default",
        holder: str | None = None,
        batch: int = 256,
        lease_seconds: float = 10.0,
        idle_seconds: float = 0.1,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.cursors = cursors
        self.publisher = publisher
        self.clock = clock
        self.name = name
        self.holder = holder or default_worker_id()
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self.published_total = 0
        # While the lease is safely ours, the cursor is known here (only the holder moves
        # it), so an idle relay polls with one read, not a lease write every round.
        self._position: tuple[int, str] | None = None
        self._renew_at: datetime | None = None

    def _lease(self) -> tuple[int, str] | None:
        """Our cursor position while we hold the lease (renewed at half-time), else None."""
        now = self.clock.now()
        if self._position is not None and self._renew_at is not None and now < self._renew_at:
            return self._position
        self._position = None
        cursor = self.cursors.acquire(
            self.name, self.holder, now=now, lease_seconds=self.lease_seconds
        )
        if cursor is None:
            return None
        self._hold(cursor.position, now)
        return cursor.position

    def _hold(self, position: tuple[int, str], now: datetime) -> None:
        self._position = position
        self._renew_at = now + timedelta(seconds=self.lease_seconds / 2)

    async def run_once(self) -> RelayRound:
        """One round; never raises for a broker or store failure (it is in the report)."""
        round_ = RelayRound()
        try:
            position = self._lease()
            if position is None:
                return round_
            round_.leader = True
            events = self.cursors.pending(position, limit=self.batch)
        except Exception as exc:  # the store is down for a moment: report, retry
            self._position = None
            round_.error = f"{type(exc).__name__}: {exc}"
            return round_
        round_.read = len(events)
        if not events:
            return round_
        publishable, skipped = _split_invalid(events)
        round_.skipped = len(skipped)
        report = await self.publisher.publish(publishable) if publishable else PublishReport()
        round_.published = report.acked
        round_.duplicates = report.duplicates
        round_.error = report.error
        done = _acknowledged_prefix(events, publishable, report.acked)
        if done:
            now = self.clock.now()
            try:
                moved = self.cursors.advance(
                    self.name,
                    self.holder,
                    done[-1].position,
                    len(done),
                    now=now,
                    lease_seconds=self.lease_seconds,
                )
            except Exception as exc:  # published but not recorded: republished later
                self._position = None
                round_.error = f"{type(exc).__name__}: {exc}"
                return round_
            if not moved:
                self._position = None
                round_.lost_lease = True
                log.warning("relay_lost_lease", relay=self.name, holder=self.holder)
            else:
                self._hold(done[-1].position, now)  # advance renewed the lease too
                self.published_total += round_.published
        return round_

    async def run(self, stop: asyncio.Event, *, standby_seconds: float = 1.0) -> None:
        """Rounds until `stop` is set; on stop the lease is released for a standby to take."""
        failures = 0
        was_leader = False
        while not stop.is_set():
            round_ = await self.run_once()
            if round_.leader != was_leader:
                log.info(
                    "relay_leader" if round_.leader else "relay_standby",
                    relay=self.name,
                    holder=self.holder,
                )
                was_leader = round_.leader
            if round_.error:
                failures += 1
                delay = min(5.0, 0.1 * 2**failures)
                log.warning(
                    "relay_round_failed", relay=self.name, error=round_.error, retry_s=delay
                )
            else:
                failures = 0
                if not round_.leader:
                    delay = standby_seconds
                elif round_.read < self.batch:
                    delay = self.idle_seconds  # caught up: poll
                else:
                    delay = 0.0  # a backlog: keep going
            if delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        self._position = None
        try:
            self.cursors.release(self.name, self.holder)
        except Exception as exc:  # the lease lapses by itself
            log.warning("relay_release_failed", relay=self.name, error=str(exc))


def _split_invalid(events: list[RelayEvent]) -> tuple[list[RelayEvent], list[RelayEvent]]:
    """Events whose type cannot form a subject are skipped (logged), not allowed to stall
    every later event; the ledger still holds them, so nothing is lost from the record."""
    good: list[RelayEvent] = []
    bad: list[RelayEvent] = []
    for event in events:
        try:
            check_event_type(event.event_type)
        except ValueError as exc:
            log.error("relay_event_skipped", event_id=event.event_id, error=str(exc))
            bad.append(event)
        else:
            good.append(event)
    return good, bad


def _acknowledged_prefix(
    events: list[RelayEvent], publishable: list[RelayEvent], acked: int
) -> list[RelayEvent]:
    """The longest prefix of `events` whose publishable members were all acknowledged."""
    if acked == len(publishable):
        return events
    first_unacked = publishable[acked].position
    return [e for e in events if e.position < first_unacked]
