"""The relay against the real NATS JetStream: publish, dedupe, tail, consume, two relays."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from examples.payment_consumer import SettledTotals, consume
from paygod.bootstrap import Kernel
from paygod.events.jetstream import JetStreamPublisher, family_streams, tail
from paygod.events.relay import Relay
from paygod.events.stores.cursor_sql import PostgresRelayCursorStore, SqliteRelayCursorStore
from paygod.kernel.clock import SystemClock
from paygod.kernel.database import PostgresDatabase
from paygod.kernel.events import EventEnvelope
from paygod.ledger.model import EntryDraft
from tests.contract.outbox_support import postgres_database

pytestmark = pytest.mark.xdist_group("nats")


def events_for(n: int, tenant: str = "acme") -> list[EntryDraft]:
    clock = SystemClock()
    drafts = []
    for i in range(n):
        kind, event_type = (
            ("payment", "payment.settled") if i % 2 else ("decision", "decision.finalized")
        )
        now = clock.now()
        drafts.append(
            EntryDraft(
                kind=kind,
                subject=f"urn:test:{i}",
                payload={"i": i},
                tenant_id=tenant,
                events=(
                    EventEnvelope(
                        event_type=event_type,
                        aggregate_id=f"agg-{i}",
                        aggregate_type=kind,
                        tenant_id=tenant,
                        payload={"amount": 100 + i, "currency": "EUR", "i": i},
                        occurred_at=now,
                        recorded_at=now,
                    ),
                ),
            )
        )
    return drafts


async def stream_counts(url: str, ns: str) -> dict[str, int]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    counts = {s: (await js.stream_info(s)).state.messages for s in await family_streams(js, ns)}
    await nc.close()
    return counts


async def drain(relay: Relay) -> tuple[int, int]:
    published = duplicates = 0
    while True:
        round_ = await relay.run_once()
        assert round_.error is None, round_.error
        published += round_.published
        duplicates += round_.duplicates
        if round_.read == 0:
            return published, duplicates


def test_relay_publishes_once_per_event_even_when_the_cursor_is_lost(
    standalone_kernel: Kernel, tmp_path: Path, nats_url: str, nats_namespace: str
) -> None:
    kernel, db = standalone_kernel, standalone_kernel.db
    kernel.ledger.append_many(events_for(20))
    store = SqliteRelayCursorStore(db)

    async def scenario() -> None:
        publisher = JetStreamPublisher(nats_url, namespace=nats_namespace)
        relay = Relay(store, publisher, kernel.clock, holder="r1", batch=8)
        assert await drain(relay) == (20, 0)
        prefix = nats_namespace.upper()
        assert await stream_counts(nats_url, nats_namespace) == {
            f"{prefix}_DECISION": 10,
            f"{prefix}_PAYMENT": 10,
        }
        # A relay that published and crashed before saving its cursor: all sent again,
        # JetStream stores none of them twice.
        db.connection().execute("UPDATE relay_cursors SET last_seq = -1, last_event_id = ''")
        restarted = Relay(store, publisher, kernel.clock, holder="r1", batch=8)
        assert await drain(restarted) == (20, 20)
        assert sum((await stream_counts(nats_url, nats_namespace)).values()) == 20
        await publisher.close()

    asyncio.run(scenario())


def test_tail_and_the_example_consumer_see_every_event_once(
    standalone_kernel: Kernel, tmp_path: Path, nats_url: str, nats_namespace: str
) -> None:
    kernel, db = standalone_kernel, standalone_kernel.db
    kernel.ledger.append_many(events_for(10, "acme") + events_for(4, "other.tenant"))

    async def scenario() -> None:
        publisher = JetStreamPublisher(nats_url, namespace=nats_namespace)
        await drain(Relay(SqliteRelayCursorStore(db), publisher, kernel.clock, holder="r1"))
        await publisher.close()
        seen = [
            subject
            async for subject, _, headers in tail(
                nats_url,
                tenant_id="other.tenant",
                event_type="payment",
                from_start=True,
                idle_timeout=1.0,
                namespace=nats_namespace,
            )
        ]
        assert seen == [f"{nats_namespace}.other~2Etenant.payment.settled"] * 2

        totals = SettledTotals(tmp_path / "totals.db")
        first = await consume(nats_url, totals, namespace=nats_namespace, idle_exit=1.0)
        assert (first.applied, first.skipped) == (7, 0)
        # A second consumer group replays the stream into the same state: nothing doubles.
        again = await consume(
            nats_url, totals, namespace=nats_namespace, durable="replay", idle_exit=1.0
        )
        assert (again.applied, again.skipped) == (0, 7)
        assert totals.totals() == {
            ("acme", "EUR"): (5, 101 + 103 + 105 + 107 + 109),
            ("other.tenant", "EUR"): (2, 101 + 103),
        }
        totals.close()

    asyncio.run(scenario())


def test_two_relays_on_postgres_publish_everything_exactly_once(
    postgres_url: str, nats_url: str, nats_namespace: str
) -> None:
    with postgres_database(postgres_url) as pg:
        from paygod.bootstrap import build_kernel
        from paygod.kernel.settings import load_settings

        kernel = build_kernel(load_settings(database_url=pg.url))
        try:
            kernel.ledger.append_many(events_for(60))

            async def scenario() -> tuple[int, int]:
                pubs = [JetStreamPublisher(nats_url, namespace=nats_namespace) for _ in range(2)]
                relays = [
                    Relay(PostgresRelayCursorStore(PostgresDatabase(pg.url)), p, kernel.clock,
                          holder=f"r{i}", batch=5, lease_seconds=2)
                    for i, p in enumerate(pubs)
                ]  # fmt: skip
                results = await asyncio.gather(*(drain(r) for r in relays))
                for p in pubs:
                    await p.close()
                return results[0][0] + results[1][0], results[0][1] + results[1][1]

            published, duplicates = asyncio.run(scenario())
            assert published - duplicates == 60
            assert sum(asyncio.run(stream_counts(nats_url, nats_namespace)).values()) == 60
        finally:
            kernel.close()


def test_a_stream_deleted_under_the_relay_is_recreated(
    standalone_kernel: Kernel, tmp_path: Path, nats_url: str, nats_namespace: str
) -> None:
    kernel, db = standalone_kernel, standalone_kernel.db
    kernel.ledger.append_many(events_for(2))

    async def scenario() -> None:
        publisher = JetStreamPublisher(nats_url, namespace=nats_namespace, ack_timeout=1.0)
        relay = Relay(SqliteRelayCursorStore(db), publisher, kernel.clock, holder="r1")
        assert await drain(relay) == (2, 0)
        nc = await nats.connect(nats_url)
        for stream in await family_streams(nc.jetstream(), nats_namespace):
            await nc.jetstream().delete_stream(stream)
        await nc.close()
        kernel.ledger.append_many(events_for(2))
        failed = await relay.run_once()
        assert failed.published == 0 and failed.error is not None
        assert await drain(relay) == (2, 0)
        await publisher.close()

    asyncio.run(scenario())
