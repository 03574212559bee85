"""`paygod executor dlq list|retry|discard`, `paygod executor status` and `paygod worker`."""

from __future__ import annotations

import signal
from typing import Annotated, Any

import typer

from paygod.cli.common import JsonFlag, emit, open_kernel
from paygod.cli.output import console, styled, table
from paygod.kernel.errors import NotFound
from paygod.kernel.interpreter import short_gil_turns

app = typer.Typer(
    name="executor",
    help="The executor: outbox status and the dead-letter queue.",
    no_args_is_help=True,
)
dlq = typer.Typer(name="dlq", help="Dead letters: messages that failed every attempt.")
app.add_typer(dlq)


@app.command("status")
def status(as_json: JsonFlag = False) -> None:
    """Outbox counts by status and the panic switch."""
    with open_kernel() as kernel:
        counts = kernel.executor.store.counts()
        panic = kernel.panic.status().as_dict()
    emit(
        {"outbox": counts, "panic": panic},
        as_json=as_json,
        human=[
            f"outbox: {counts['pending']} pending, {counts['done']} done, {counts['dead']} dead",
            styled("panic: ", ("ON", "bold red") if panic["on"] else "off"),
        ],
    )


@dlq.command("list")
def dlq_list(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100, as_json: JsonFlag = False
) -> None:
    """Dead-lettered messages with their last error."""
    with open_kernel() as kernel:
        dead = kernel.executor.store.list("dead", limit=limit)
    emit(
        {"dead": [m.as_dict() for m in dead]},
        as_json=as_json,
        human=table(
            ("event_id", "event_type", "aggregate_id", "attempts", "last_error"),
            (
                (m.event_id, m.event_type, m.aggregate_id, m.attempts, m.last_error or "")
                for m in dead
            ),
            title=f"dead letters ({len(dead)})",
        )
        if dead
        else "the dead-letter queue is empty",
    )


def _each(event_ids: list[str], every: bool, kernel: Any) -> list[str]:
    if every:
        return [m.event_id for m in kernel.executor.store.list("dead", limit=100_000)]
    if not event_ids:
        raise typer.BadParameter("give EVENT_ID... or --all")
    return event_ids


@dlq.command("retry")
def dlq_retry(
    event_ids: Annotated[list[str] | None, typer.Argument(help="Event ids to requeue.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Requeue every dead letter.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Put dead letters back in the queue with a fresh attempt budget."""
    with open_kernel() as kernel:
        ids = _each(event_ids or [], every, kernel)
        now = kernel.clock.now()
        done = [i for i in ids if kernel.executor.store.requeue(i, now=now)]
        _record(kernel, "retry", done)
    _report("requeued", ids, done, as_json)


@dlq.command("discard")
def dlq_discard(
    event_ids: Annotated[list[str] | None, typer.Argument(help="Event ids to discard.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Discard every dead letter.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Give up on dead letters (kept as done, with the discard noted in last_error)."""
    with open_kernel() as kernel:
        ids = _each(event_ids or [], every, kernel)
        done = [i for i in ids if kernel.executor.store.discard(i)]
        _record(kernel, "discard", done)
    _report("discarded", ids, done, as_json)


def _record(kernel: Any, action: str, event_ids: list[str]) -> None:
    """Operator actions on the dead-letter queue are evidence: one ledger entry each."""
    import getpass

    from paygod.ledger import EntryDraft

    if event_ids:
        kernel.ledger.append_many(
            [
                EntryDraft(
                    kind="executor.dlq",
                    subject=f"outbox:{event_id}",
                    payload={"action": action, "event_id": event_id, "actor": getpass.getuser()},
                    tenant_id=kernel.settings.tenant,
                )
                for event_id in event_ids
            ]
        )


def _report(verb: str, asked: list[str], done: list[str], as_json: bool) -> None:
    missing = [i for i in asked if i not in done]

    def human(_: object) -> None:
        # A person is told in the exit status too; the JSON document lists them in not_dead.
        console.print(f"{verb} {len(done)} message(s)")
        if missing:
            raise NotFound(f"not in the dead-letter queue: {', '.join(missing)}")

    emit({verb: done, "not_dead": missing}, as_json=as_json, human=human)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Drain what is ready, then exit.")] = False,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Messages per claim.")] = 32,
    idle: Annotated[float, typer.Option(min=0.001, help="Seconds between empty polls.")] = 0.05,
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Payments dispatched side by side.")
    ] = 8,
    lease: Annotated[
        float, typer.Option(min=0.1, help="Seconds a claim is held before others may retry it.")
    ] = 30.0,
    as_json: JsonFlag = False,
) -> None:
    """Run an executor worker: claim outbox messages and carry out their side effects."""
    with open_kernel() as kernel:
        runner = kernel.executor
        runner.batch = batch
        runner.lease_seconds = lease
        runner.concurrency = concurrency
        if once:
            report = runner.drain()
            data = {
                "claimed": report.claimed,
                "done": report.done,
                "retried": report.retried,
                "dead": report.dead,
                "frozen": report.frozen,
            }
            emit(
                data,
                as_json=as_json,
                human=f"claimed {report.claimed}, done {report.done}, retried {report.retried}, "
                f"dead {report.dead}" + (" (panic switch on)" if report.frozen else ""),
            )
            return

        def stop(signum: int, frame: object) -> None:
            runner.stop(timeout=0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        console.print(f"worker {runner.worker_id} running (Ctrl-C to stop)")
        short_gil_turns()  # its dispatch threads and the ledger writer share one GIL
        kernel.housekeeping.start()  # expired holds are released where the work is done
        runner.run_forever(idle_seconds=idle)


def register(root: typer.Typer) -> None:
    """Adds `paygod executor ...` and `paygod worker` to the root app."""
    root.add_typer(app)
    root.command("worker")(worker)
