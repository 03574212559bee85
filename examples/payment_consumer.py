"""An example consumer of Paygod's relayed events: settled-payment totals per tenant.

Run it beside `paygod relay`:

    PAYGOD_NATS_URL=nats://127.0.0.1:4222 python -m examples.payment_consumer --db totals.db

The relay delivers at least once: a relay that crashes after publishing and before saving
its cursor publishes the same events again (JetStream drops repeats by message id within
its duplicate window, not beyond), and JetStream itself redelivers a message whose ack was
lost. So the consumer is idempotent by event id: it records the event id in the same
SQLite transaction as the effect (the totals), and acknowledges the message only after that
transaction commits. A crash between commit and ack redelivers a message whose id is
already recorded: it is acknowledged and skipped.

The consumer is durable (`--durable`): it resumes where it stopped, and several copies with
the same durable name share the work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import orjson
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, entry_seq INTEGER)",
    "CREATE TABLE IF NOT EXISTS settled_totals ("
    " tenant_id TEXT, currency TEXT, payments INTEGER, amount INTEGER,"
    " PRIMARY KEY (tenant_id, currency))",
)


@dataclass
class Tally:
    applied: int = 0
    skipped: int = 0


class SettledTotals:
    """The consumer's own state: totals, and the event ids already applied to them."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            self.conn.execute(statement)

    def apply(self, event: dict[str, Any], entry_seq: int) -> bool:
        """Apply one `payment.settled` event once; False when it was applied before."""
        payload = event["payload"]
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            fresh = self.conn.execute(
                "INSERT INTO processed VALUES (?, ?) ON CONFLICT DO NOTHING",
                (event["event_id"], entry_seq),
            ).rowcount
            if fresh:
                self.conn.execute(
                    "INSERT INTO settled_totals VALUES (?, ?, 1, ?) "
                    "ON CONFLICT (tenant_id, currency) DO UPDATE SET "
                    "payments = payments + 1, amount = amount + excluded.amount",
                    (event["tenant_id"], payload["currency"], int(payload["amount"])),
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return bool(fresh)

    def totals(self) -> dict[tuple[str, str], tuple[int, int]]:
        rows = self.conn.execute("SELECT tenant_id, currency, payments, amount FROM settled_totals")
        return {(t, c): (n, a) for t, c, n, a in rows}

    def close(self) -> None:
        self.conn.close()


async def consume(
    url: str,
    totals: SettledTotals,
    *,
    namespace: str = "paygod",
    durable: str = "settled-totals",
    idle_exit: float | None = None,
    batch: int = 100,
) -> Tally:
    """Pull `payment.settled` events and apply them; stop after `idle_exit` seconds of silence."""
    tally = Tally()
    nc = await nats.connect(url, name=f"example-{durable}")
    try:
        js = nc.jetstream()
        stream = namespace.upper().replace("-", "_") + "_PAYMENT"
        subscription = await js.pull_subscribe(
            f"{namespace}.*.payment.settled",
            durable=durable,
            stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL),
        )
        quiet = 0.0
        while idle_exit is None or quiet < idle_exit:
            try:
                messages = await subscription.fetch(batch, timeout=1.0)
            except TimeoutError:
                # nats-py raises its own TimeoutError for an empty fetch, and a bare
                # asyncio.TimeoutError when its deadline runs out before the request is
                # sent (a loaded machine); both mean "nothing yet" (both are TimeoutError).
                quiet += 1.0
                continue
            quiet = 0.0
            for msg in messages:
                event = orjson.loads(msg.data)
                seq = int((msg.headers or {}).get("Paygod-Entry-Seq", "-1"))
                if totals.apply(event, seq):
                    tally.applied += 1
                else:
                    tally.skipped += 1
                await msg.ack()  # after the commit: a lost ack means a harmless redelivery
    finally:
        await nc.close()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nats", default=os.environ.get("PAYGOD_NATS_URL", "nats://127.0.0.1:4222")
    )
    parser.add_argument("--namespace", default=os.environ.get("PAYGOD_NATS_NAMESPACE", "paygod"))
    parser.add_argument("--db", type=Path, default=Path("settled-totals.db"))
    parser.add_argument("--durable", default="settled-totals")
    parser.add_argument("--idle-exit", type=float, default=None, help="stop after N quiet seconds")
    args = parser.parse_args()
    totals = SettledTotals(args.db)
    try:
        tally = asyncio.run(
            consume(
                args.nats,
                totals,
                namespace=args.namespace,
                durable=args.durable,
                idle_exit=args.idle_exit,
            )
        )
    except KeyboardInterrupt:
        return
    finally:
        for (tenant, currency), (n, amount) in sorted(totals.totals().items()):
            sys.stdout.write(f"{tenant} {currency}: {n} settled, {amount} minor units\n")
        totals.close()
    sys.stdout.write(f"applied {tally.applied}, skipped {tally.skipped} already applied\n")


if __name__ == "__main__":
    main()
