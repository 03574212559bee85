"""Projections: status, rebuild (shadow tables switched in atomically), row-by-row check.

The write path keeps each projection's tables in step with the ledger inside the entry's
own transaction, so a `live` projection reflects every committed entry. A rebuild folds
the whole ledger into fresh tables while the live ones keep serving; its progress is the
projection's stored position, and the switch moves it to the ledger's head.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from paygod.banking.errors import BankingCode
from paygod.banking.model import Comparison, Difference, ProjectionStatus, RebuildReport
from paygod.banking.projectors.accounting import AccountingProjector
from paygod.banking.projectors.base import MetadataResolver, Projector, Row, Table
from paygod.banking.projectors.cases import CaseProjector
from paygod.banking.projectors.consents import ConsentProjector
from paygod.banking.projectors.decisions import DecisionIndexProjector
from paygod.banking.projectors.identity import IdentityProjector
from paygod.banking.projectors.payments import PaymentIndexProjector
from paygod.banking.tables import TableSwap
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.database import Database, SqliteDatabase
from paygod.kernel.errors import NotFound
from paygod.ledger import LedgerService

PROJECTORS: dict[str, type[Projector]] = {
    p.name: p
    for p in (
        AccountingProjector,
        DecisionIndexProjector,
        PaymentIndexProjector,
        CaseProjector,
        ConsentProjector,
        IdentityProjector,
    )
}
PROGRESS_EVERY = 50_000  # entries between stored positions while a rebuild runs


def unknown_projection(name: str) -> NotFound:
    known = ", ".join(sorted(PROJECTORS))
    return NotFound(
        f"no projection {name!r}; the projections are: {known}",
        code=BankingCode.PROJECTION_NOT_FOUND,
        extra={"projections": sorted(PROJECTORS)},
    )


def _normal(table: Table, row: Sequence[Any]) -> tuple[Any, ...]:
    """A row as compared: JSON text parsed (key order is not content), ints as ints."""
    out = []
    for column, value in zip(table.columns, row, strict=True):
        if column in table.json_columns and isinstance(value, str):
            value = orjson.loads(value)
        out.append(value)
    return tuple(out)


class ProjectionService:
    def __init__(
        self,
        db: Database,
        ledger: LedgerService,
        clock: Clock,
        rebuild_postings: Callable[[], int] | None = None,
    ) -> None:
        """`rebuild_postings`: accounting's valid-time postings index, derived from the
        transfer rows, made again once those rows are (accounting/validtime.py)."""
        self.db = db
        self.ledger = ledger
        self.clock = clock
        self.rebuild_postings = rebuild_postings
        self.swap = TableSwap(db)
        self.mark = "?" if isinstance(db, SqliteDatabase) else "%s"

    @property
    def names(self) -> list[str]:
        return sorted(PROJECTORS)

    def _chosen(self, name: str | None) -> list[str]:
        if name is None:
            return self.names
        if name not in PROJECTORS:
            raise unknown_projection(name)
        return [name]

    # -- the stored positions ---------------------------------------------------------

    def _stored(self) -> dict[str, tuple[int, str, str, str | None]]:
        sql = "SELECT name, position, state, updated_at, rebuilt_at FROM projections"
        if isinstance(self.db, SqliteDatabase):
            rows = self.db.connection().execute(sql).fetchall()
        else:
            with self.db.connection() as conn:
                rows = conn.execute(sql).fetchall()
        return {r[0]: (int(r[1]), r[2], r[3], r[4]) for r in rows}

    def _store(self, conn: Any, name: str, position: int, state: str, rebuilt: bool) -> None:
        m = self.mark
        now = isoformat(self.clock.now())
        conn.execute(
            "INSERT INTO projections (name, position, state, updated_at, rebuilt_at)"
            f" VALUES ({m}, {m}, {m}, {m}, {m}) ON CONFLICT (name) DO UPDATE SET"
            " position = excluded.position, state = excluded.state,"
            " updated_at = excluded.updated_at,"
            " rebuilt_at = COALESCE(excluded.rebuilt_at, projections.rebuilt_at)",
            (name, position, state, now, now if rebuilt else None),
        )

    def _store_now(self, name: str, position: int, state: str) -> None:
        if isinstance(self.db, SqliteDatabase):
            with self.db.write_lock:
                self._store(self.db.connection(), name, position, state, False)
            return
        with self.db.connection() as conn:
            self._store(conn, name, position, state, False)
            conn.commit()

    def status(self, name: str | None = None) -> list[ProjectionStatus]:
        chosen = self._chosen(name)
        stored = self._stored()
        head = self.ledger.size
        now = self.clock.now()
        out = []
        for n in chosen:
            position, state, updated, rebuilt = stored.get(n, (head, "live", None, None))
            if state == "live":
                position = head  # kept in step inside each entry's own transaction
            lag = max(0, head - position)
            seconds = 0.0
            if lag:
                first = self.ledger.get(position)
                if first is not None:
                    seconds = max(0.0, (now - first.recorded_at).total_seconds())
            out.append(
                ProjectionStatus(
                    n,
                    tuple(t.name for t in PROJECTORS[n].tables),
                    state,
                    position,
                    head,
                    lag,
                    round(seconds, 3),
                    updated,
                    rebuilt,
                )
            )
        return out

    # -- folding ----------------------------------------------------------------------

    def _fold(
        self,
        projectors: Sequence[Projector],
        after: int = -1,
        until: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[int, int]:
        """Apply entries after seq `after` (up to `until`, exclusive) to every projector;
        (entries read, the next position)."""
        # The fold allocates objects that live until the end: the cyclic collector would
        # walk them again and again for nothing (none of them forms a cycle).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._fold_entries(projectors, after, until, progress)
        finally:
            if collecting:
                gc.enable()

    def _fold_entries(
        self,
        projectors: Sequence[Projector],
        after: int,
        until: int | None,
        progress: Callable[[int], None] | None,
    ) -> tuple[int, int]:
        wanted = frozenset().union(*(p.kinds for p in projectors))
        routes = {k: [p for p in projectors if k in p.kinds] for k in wanted}
        read = 0
        position = after + 1
        while True:
            limit = 5000 if until is None else min(5000, until - position)
            if limit <= 0:
                break
            batch = self.ledger.entries(position - 1, limit)
            if not batch:
                break
            for entry in batch:
                for projector in routes.get(entry.kind, ()):
                    projector.apply(entry)
            read += len(batch)
            position = batch[-1].seq + 1
            if progress is not None and read % PROGRESS_EVERY < len(batch):
                progress(position)
        return read, position

    def build(
        self, names: Iterable[str], resolve: MetadataResolver, until: int | None = None
    ) -> tuple[list[Projector], int, int]:
        """Projectors fed with every entry (up to `until`); (projectors, read, position)."""
        projectors = [PROJECTORS[n](resolve) for n in names]
        read, position = self._fold(projectors, until=until)
        return projectors, read, position

    # -- rebuild ----------------------------------------------------------------------

    def rebuild(
        self, name: str | None = None, resolve: MetadataResolver | None = None
    ) -> list[RebuildReport]:
        """Rebuild the chosen projections (all by default) from ONE pass over the ledger
        into shadow tables, and switch them all in with one transaction."""
        from paygod.banking.metadata import LiveResolver

        names = self._chosen(name)
        resolver = resolve or LiveResolver(self.db)
        started = time.perf_counter()
        projectors = [PROJECTORS[n](resolver) for n in names]
        tables = [t for p in projectors for t in p.tables]
        for n in names:
            self._store_now(n, 0, "rebuilding")

        def progress(position: int) -> None:
            for n in names:
                self._store_now(n, position, "rebuilding")

        try:
            read, position = self._fold(projectors, progress=progress)
            for projector in projectors:
                projector.take_dirty()  # the bulk fill writes every row
                for table in projector.tables:
                    self.swap.create_shadow(table)
                    self.swap.fill(table, projector.rows(table.name).values())
            caught = self._switch(projectors, tables, position)
        except BaseException:
            for table in tables:
                self.swap.drop_shadow(table)
            for n in names:
                self._store_now(n, self.ledger.size, "live")  # the old tables still serve
            raise
        if "accounting" in names and self.rebuild_postings is not None:
            self.rebuild_postings()
        seconds = time.perf_counter() - started
        return [
            RebuildReport(
                p.name,
                position + caught,
                {t.name: self.swap.count(t.name) for t in p.tables},
                read + caught,
                seconds,
                caught,
                len(p.unresolved),
            )
            for p in projectors
        ]

    def _switch(self, projectors: Sequence[Projector], tables: list[Table], position: int) -> int:
        """Switch the shadows in, after applying the entries sealed since `position` (the
        build ran while the write path kept going); returns how many that were."""
        caught = [0]

        def catch_up(conn: Any) -> None:
            caught[0], end = self._fold(projectors, after=position - 1)
            for projector in projectors:
                dirty = projector.take_dirty()
                for table in projector.tables:
                    keys = dirty.get(table.name)
                    if keys:
                        current = projector.rows(table.name)
                        self.swap.rewrite(conn, table, {k: current[k] for k in keys})
                self._store(conn, projector.name, end, "live", True)

        self.swap.switch(tables, catch_up)
        return caught[0]

    # -- the row-by-row check -----------------------------------------------------------

    def compare(
        self, name: str | None = None, resolve: MetadataResolver | None = None
    ) -> list[Comparison]:
        """Fold the whole ledger in memory and compare every row with the live tables."""
        from paygod.banking.metadata import LiveResolver

        resolver = resolve or LiveResolver(self.db)
        out = []
        for n in self._chosen(name):
            (projector,), _, _ = self.build([n], resolver)
            diffs: list[Difference] = []
            counts: dict[str, int] = {}
            for table in projector.tables:
                rebuilt = {k: _normal(table, r) for k, r in projector.rows(table.name).items()}
                live = {table.key_of(r): _normal(table, r) for r in self.swap.live_rows(table)}
                counts[table.name] = len(live)
                diffs.extend(_differences(table.name, live, rebuilt))
            out.append(Comparison(n, counts, tuple(diffs)))
        return out


def _differences(
    table: str, live: Mapping[Any, Row], rebuilt: Mapping[Any, Row]
) -> list[Difference]:
    out = []
    for key in sorted(set(live) | set(rebuilt), key=repr):
        a, b = live.get(key), rebuilt.get(key)
        if a != b:
            out.append(Difference(table, tuple(key), a, b))
    return out
