"""What every adapter shares: running a batch of requests and shaping outbox rows."""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from datetime import datetime
from typing import Any

import orjson

from paygod.kernel.clock import isoformat
from paygod.ledger.chain import ChainState, Sealed, adopt, seal
from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.model import Entry, EntryDraft


def outbox_rows(
    sealed: Sealed, drafts: Sequence[EntryDraft], work_types: Container[str] | None = None
) -> list[dict[str, Any]]:
    """The outbox rows of a sealed batch. With `work_types` (the executor's handled event
    types), an event no handler here consumes is recorded as done at once: no worker has
    to claim and acknowledge it (two more write transactions per batch, competing with the
    ledger writer); the relay publishes every event by its own cursor, whatever the status."""
    rows: list[dict[str, Any]] = []
    for entry, draft in zip(sealed.entries, drafts, strict=False):
        for event in draft.events:
            at = isoformat(entry.recorded_at)
            rows.append(
                {
                    "event_id": event.event_id,
                    "entry_seq": entry.seq,
                    "event_type": event.event_type,
                    "tenant_id": event.tenant_id,
                    "aggregate_id": event.aggregate_id,
                    "envelope": event.as_dict(),
                    "status": "pending"
                    if work_types is None or event.event_type in work_types
                    else "done",
                    "attempts": 0,
                    "available_at": at,
                    "claimed_by": None,
                    "claimed_until": None,
                    "last_error": None,
                    "created_at": at,
                }
            )
    return rows


def outbox_params(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["event_id"],
        row["entry_seq"],
        row["event_type"],
        row["tenant_id"],
        row["aggregate_id"],
        orjson.dumps(row["envelope"]).decode(),
        row["status"],
        row["attempts"],
        row["available_at"],
        row["created_at"],
    )


def merge(parts: Sequence[tuple[Sealed, Sequence[EntryDraft]]]) -> tuple[Sealed, list[EntryDraft]]:
    entries: list[Entry] = []
    levels: list[list[bytes]] = []
    rows: list[tuple[Any, ...]] = []
    drafts: list[EntryDraft] = []
    for sealed, part_drafts in parts:
        entries.extend(sealed.entries)
        # Each part continues the one before, so every level's new nodes stay contiguous.
        for level, hashes in enumerate(sealed.levels):
            if level == len(levels):
                levels.append([])
            levels[level].extend(hashes)
        rows.extend(sealed.rows)
        drafts.extend(part_drafts)
    first = parts[0][0].first_size
    return Sealed(entries, levels, first, rows, parts[-1][0].state), drafts


def run_requests(
    batch: Sequence[WriteRequest],
    state: ChainState,
    now: datetime,
    conn: Any,
    *,
    isolate: Callable[[int, Callable[[], Sealed]], Sealed],
    write: Callable[[Sealed, Sequence[EntryDraft]], None],
) -> ChainState:
    """Seal every request's drafts in order and write them.

    Every request is sealed in memory (a bad draft fails before anything is written), and
    the batch's entries, Merkle tiles and outbox rows are written together at the end, in
    one statement per table. A `transact` work function runs in its own savepoint
    (`isolate`), so its failure (or its drafts' failure to seal) rolls back only its own
    rows. Work functions write their own module's tables and never read the ledger's, so
    they need not see the entries sealed before them written yet; writing each request's
    entries and the right edge of the Merkle tiles per request instead cost the single
    writer ~0.5 ms of SQLite work per sealed decision. An import (`imported`) is written
    where it stands, after what was sealed before it.
    """
    pending: list[tuple[Sealed, Sequence[EntryDraft]]] = []

    def flush() -> None:
        if pending:
            sealed, drafts = merge(pending)
            write(sealed, drafts)
            pending.clear()

    for position, request in enumerate(batch):
        current = state
        if request.drafts is not None:
            try:
                sealed = seal(current, request.drafts, now)
            except Exception as exc:
                request.error = exc
                continue
            pending.append((sealed, request.drafts))
            request.entries = sealed.entries
            state = sealed.state
            continue
        if request.imported is not None:
            flush()
        holder: dict[str, Any] = {}

        def step(
            request: WriteRequest = request,
            current: ChainState = current,
            holder: dict[str, Any] = holder,
        ) -> Sealed:
            if request.imported is not None:
                sealed = adopt(current, request.imported)
                write(sealed, ())
                return sealed
            assert request.work is not None
            request.first_seq = current.size
            result, drafts = request.work(conn)
            drafts = list(drafts)
            holder["result"], holder["drafts"] = result, drafts
            return seal(current, drafts, now)

        try:
            sealed = isolate(position, step)
        except Exception as exc:
            request.error = exc
            continue
        if request.imported is None:
            pending.append((sealed, holder["drafts"]))
        request.result = holder.get("result")
        request.entries = sealed.entries
        state = sealed.state
    flush()
    return state
