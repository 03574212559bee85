"""`paygod relay`, `paygod events tail` and `paygod events status`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import Annotated, Any
from urllib.parse import urlparse

import orjson
import typer

from paygod.cli.common import JsonFlag, emit, open_kernel
from paygod.cli.output import console
from paygod.kernel.errors import InvalidInput, Unavailable

app = typer.Typer(
    name="events",
    help="Events relayed to NATS JetStream: tail them, see how far the relay is.",
    no_args_is_help=True,
)
RelayName = Annotated[str, typer.Option("--name", help="The relay cursor's name.")]


def _cursor_store(kernel: Any) -> Any:
    from paygod.events.wiring import cursor_store_for

    return cursor_store_for(kernel.db, kernel.ledger.outbox)


def _nats_url(configured: str | None, url: str | None) -> str:
    chosen = url or configured
    if not chosen:
        raise InvalidInput("no NATS server: set PAYGOD_NATS_URL or pass --nats nats://HOST:PORT")
    if urlparse(chosen).scheme not in {"nats", "tls"}:
        raise InvalidInput(f"--nats {chosen!r}: expected nats://HOST:PORT")
    return str(chosen)


NatsOption = Annotated[
    str | None, typer.Option("--nats", help="nats://HOST:PORT (default PAYGOD_NATS_URL).")
]


def relay(
    once: Annotated[
        bool, typer.Option("--once", help="Publish what is pending, then exit.")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Events per round.")] = 256,
    lease: Annotated[
        float, typer.Option(min=1.0, help="Seconds the lease lasts without renewal.")
    ] = 10.0,
    name: RelayName = "default",
    nats_url: NatsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Publish the outbox to NATS JetStream in ledger order (at least once, deduped by id)."""
    from paygod.events.jetstream import JetStreamPublisher
    from paygod.events.relay import Relay
    from paygod.kernel.logging import configure_logging

    with open_kernel() as kernel:
        configure_logging(kernel.settings.log_level.value, json_lines=kernel.settings.log_json)
        url = _nats_url(kernel.settings.nats_url, nats_url)
        publisher = JetStreamPublisher(url, namespace=kernel.settings.nats_namespace)
        runner = Relay(
            _cursor_store(kernel),
            publisher,
            kernel.clock,
            name=name,
            batch=batch,
            lease_seconds=lease,
        )
        if once:
            totals = asyncio.run(_drain(runner, publisher))
            emit(
                totals,
                as_json=as_json,
                human=f"published {totals['published']} event(s) "
                f"({totals['duplicates']} already in JetStream), {totals['pending']} pending",
            )
            if totals["error"]:
                raise Unavailable(f"relay stopped early: {totals['error']}")
            return
        asyncio.run(_forever(runner, publisher))


async def _drain(runner: Any, publisher: Any) -> dict[str, Any]:
    totals: dict[str, Any] = {"published": 0, "duplicates": 0, "skipped": 0, "error": None}
    try:
        while True:
            round_ = await runner.run_once()
            totals["published"] += round_.published
            totals["duplicates"] += round_.duplicates
            totals["skipped"] += round_.skipped
            if round_.error or not round_.leader:
                totals["error"] = round_.error or "another relay holds the lease"
                break
            if round_.read < runner.batch:
                break
        cursor = runner.cursors.get(runner.name)
        totals["pending"] = runner.cursors.lag(cursor.position) if cursor else 0
    finally:
        runner.cursors.release(runner.name, runner.holder)
        await publisher.close()
    return totals


async def _forever(runner: Any, publisher: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    console.print(f"relay {runner.holder} running as {runner.name!r} (Ctrl-C to stop)")
    try:
        await runner.run(stop)
    finally:
        await publisher.close()


@app.command("status")
def status(name: RelayName = "default", as_json: JsonFlag = False) -> None:
    """The relay cursor: how far it published, who holds the lease, how many events wait."""
    from paygod.events.model import RelayCursor

    with open_kernel() as kernel:
        store = _cursor_store(kernel)
        cursor = store.get(name) or RelayCursor(name=name)
        data = cursor.as_dict() | {"pending": store.lag(cursor.position)}
    emit(
        data,
        as_json=as_json,
        human=f"relay {name!r}: published {data['published']}, pending {data['pending']}, "
        f"at seq {data['last_seq']}, lease held by {data['holder'] or 'nobody'}",
    )


@app.command("tail")
def tail(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's events.")] = None,
    event_type: Annotated[
        str | None,
        typer.Option("--type", help="An event type (payment.settled) or a family (payment)."),
    ] = None,
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Replay what the streams hold first.")
    ] = False,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
    idle: Annotated[
        float | None, typer.Option(min=0.1, help="Stop after this many seconds of silence.")
    ] = None,
    nats_url: NatsOption = None,
) -> None:
    """Print relayed events as JSON lines (subject, entry seq, event) until stopped."""
    from paygod.events.jetstream import tail as tail_streams
    from paygod.events.subjects import check_event_type, escape_token
    from paygod.kernel.settings import load_settings

    if event_type is not None and "." in event_type:
        try:
            check_event_type(event_type)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    elif event_type is not None and escape_token(event_type) != event_type:
        raise InvalidInput(f"--type {event_type!r} is not an event family or type")
    settings = load_settings()
    url = _nats_url(settings.nats_url, nats_url)

    async def run() -> None:
        seen = 0
        async for subject, body, headers in tail_streams(
            url,
            tenant_id=tenant,
            event_type=event_type,
            from_start=from_start,
            idle_timeout=idle,
            namespace=settings.nats_namespace,
        ):
            line = {
                "subject": subject,
                "entry_seq": int(headers.get("Paygod-Entry-Seq", "-1")),
                "event": orjson.loads(body),
            }
            sys.stdout.buffer.write(orjson.dumps(line) + b"\n")
            sys.stdout.flush()
            seen += 1
            if count is not None and seen >= count:
                return

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def register(root: typer.Typer) -> None:
    """Adds `paygod events ...` and `paygod relay` to the root app."""
    root.add_typer(app)
    root.command("relay")(relay)
