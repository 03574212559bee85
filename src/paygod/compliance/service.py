"""Sanctions screening: list imports (versioned, ledgered, switched atomically), screening
against the tenant's active snapshots, and re-screening of known subjects against what a
new list version added or changed."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paygod.canonical import digest
from paygod.compliance.lists import ListFile, read_list
from paygod.compliance.matcher import ScreeningIndex
from paygod.compliance.model import (
    DEFAULT_THRESHOLD,
    FORMATS,
    Hit,
    ListEntry,
    ScreeningQuery,
    ScreeningResult,
    Snapshot,
)
from paygod.compliance.ports import SanctionsStore
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.events import EventEnvelope
from paygod.kernel.record_ids import new_id
from paygod.ledger import EntryDraft

SAMPLES = Path(__file__).resolve().parent / "samples"
# What screens a tenant that has imported no list yet (see docs/compliance.md).
BUNDLED = (
    ("ofac_sdn.xml", "ofac-xml"),
    ("eu_fsf.xml", "eu-xml"),
    ("un_consolidated.xml", "un-xml"),
    ("uk_sanctions_list.csv", "uk-csv"),
)
MATCHER = "paygod-sanctions-matcher/1"
HIT_EVENT = "compliance.screening_hit"


def file_digest(sources: Sequence[tuple[str, bytes]]) -> str:
    if len(sources) == 1:
        return "sha256:" + hashlib.sha256(sources[0][1]).hexdigest()
    return digest({name: hashlib.sha256(data).hexdigest() for name, data in sources})


def threshold_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "expected a number between 0 and 1"
    if not 0.5 <= float(value) <= 1.0:
        return "must be between 0.5 and 1 (below 0.5 every name is a hit)"
    return None


@dataclass(frozen=True)
class ImportOutcome:
    snapshot: Snapshot
    unchanged: bool
    added: int
    changed: int
    removed: int
    rescreened: int
    new_hits: list[dict[str, Any]]
    seq: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.snapshot.as_dict(),
            "seq": self.seq,
            "unchanged": self.unchanged,
            "delta": {"added": self.added, "changed": self.changed, "removed": self.removed},
            "rescreened": self.rescreened,
            "new_hits": self.new_hits,
        }


class ScreeningService:
    def __init__(
        self, ledger: Any, clock: Clock, store: SanctionsStore, *, samples: Path = SAMPLES
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.store = store
        self.samples = samples
        self._indexes: dict[str, tuple[tuple[str, ...], ScreeningIndex]] = {}
        self._bundled: ScreeningIndex | None = None
        self._lock = threading.Lock()

    # -- thresholds ----------------------------------------------------------------------

    def threshold(self, tenant_id: str) -> float:
        found = self.store.threshold(tenant_id)
        return DEFAULT_THRESHOLD if found is None else found

    def set_threshold(self, tenant_id: str, value: Any, *, actor: str) -> dict[str, Any]:
        problem = threshold_problem(value)
        if problem:
            raise InvalidInput("invalid threshold", errors=[FieldError("/threshold", problem)])
        value = float(value)
        before = self.threshold(tenant_id)
        now = self.clock.now()
        payload = {"threshold": value, "previous": before, "set_by": actor}
        draft = EntryDraft(
            "sanctions.threshold", "sanctions:threshold", payload, tenant_id=tenant_id
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.set_threshold(conn, tenant_id, value)
            return None, [draft]

        _, (entry,) = self.ledger.transact(work)
        return {**payload, "tenant_id": tenant_id, "seq": entry.seq, "at": isoformat(now)}

    # -- the index -------------------------------------------------------------------------

    def index_for(self, tenant_id: str) -> tuple[ScreeningIndex, tuple[str, ...], bool]:
        """(index, snapshot ids, bundled?) for the tenant's active snapshots; the bundled
        samples when the tenant has imported none."""
        active = self.store.active_snapshots(tenant_id)
        if not active:
            with self._lock:
                if self._bundled is None:
                    entries: list[ListEntry] = []
                    for name, fmt in BUNDLED:
                        entries.extend(read_list(self.samples / name, fmt).entries)
                    self._bundled = ScreeningIndex(entries)
                return self._bundled, tuple(f"bundled:{fmt}" for _, fmt in BUNDLED), True
        key = tuple(s.snapshot_id for s in active)
        cached = self._indexes.get(tenant_id)
        if cached is not None and cached[0] == key:
            return cached[1], key, False
        entries = [e for s in active for e in self.store.entries(s.snapshot_id)]
        index = ScreeningIndex(entries)
        with self._lock:
            self._indexes[tenant_id] = (key, index)
        return index, key, False

    def screen(self, tenant_id: str, query: ScreeningQuery) -> ScreeningResult:
        index, snapshots, _ = self.index_for(tenant_id)
        threshold = self.threshold(tenant_id)
        hits, below = index.screen(query, threshold)
        return ScreeningResult(
            "hit" if hits else "no-hit", tuple(hits), threshold, snapshots, tuple(below)
        )

    # -- recorded screenings ---------------------------------------------------------------

    def hit_event(
        self,
        tenant_id: str,
        screening_id: str,
        result_hits: Sequence[Hit],
        threshold: float,
        *,
        source: str,
        subject: str | None,
        snapshots: Sequence[str],
        payment_id: str | None = None,
        correlation_id: str | None = None,
    ) -> EventEnvelope:
        """A `risk.alert`-shaped event: what a case needs to open on a sanctions hit."""
        best = result_hits[0]
        now = self.clock.now()
        return EventEnvelope(
            event_type=HIT_EVENT,
            aggregate_id=screening_id,
            aggregate_type="screening",
            tenant_id=tenant_id,
            payload={
                # One screening, one alert: a redelivered event joins no case twice.
                "alert_id": screening_id,
                "alert_type": "sanctions_hit",
                "source": source,
                "screening_id": screening_id,
                "risk_score": best.score,
                "threshold": threshold,
                "rule": f"sanctions/{best.list}:{best.entry_id}",
                "model": MATCHER,
                "subject": subject,
                "payment_id": payment_id,
                "correlation_id": correlation_id,
                "hits": [h.evidence() for h in result_hits],
                "snapshots": list(snapshots),
            },
            occurred_at=now,
            recorded_at=now,
            correlation_id=correlation_id,
        )

    def screening_draft(
        self,
        tenant_id: str,
        query: ScreeningQuery,
        result: ScreeningResult,
        *,
        source: str,
        subject: str | None,
        requested_by: str | None,
        payment_id: str | None = None,
    ) -> tuple[str, EntryDraft]:
        screening_id = new_id()
        payload = {
            "screening_id": screening_id,
            "source": source,
            "subject": subject,
            "payment_id": payment_id,
            # The name screened is personal data: the ledger holds its digest only.
            "query_digest": digest(query.as_dict()),
            "decision": result.decision,
            "threshold": result.threshold,
            "hits": [h.evidence() for h in result.hits],
            "snapshots": list(result.snapshots),
            "matcher": MATCHER,
            "requested_by": requested_by,
        }
        events: tuple[EventEnvelope, ...] = ()
        if result.hits:
            events = (
                self.hit_event(
                    tenant_id,
                    screening_id,
                    result.hits,
                    result.threshold,
                    source=source,
                    subject=subject,
                    snapshots=result.snapshots,
                    payment_id=payment_id,
                    correlation_id=payment_id or screening_id,
                ),
            )
        draft = EntryDraft(
            "screening",
            f"screening:{screening_id}",
            payload,
            tenant_id=tenant_id,
            events=events,
        )
        return screening_id, draft

    def screen_recorded(
        self,
        tenant_id: str,
        query: ScreeningQuery,
        *,
        subject: str | None = None,
        requested_by: str | None = None,
    ) -> dict[str, Any]:
        """On-demand screening, sealed; a named subject is remembered for re-screening."""
        result = self.screen(tenant_id, query)
        screening_id, draft = self.screening_draft(
            tenant_id, query, result, source="on_demand", subject=subject, requested_by=requested_by
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            if subject is not None:
                self.store.remember_subject(conn, tenant_id, subject, query)
            return None, [draft]

        _, (entry,) = self.ledger.transact(work)
        return {
            **result.as_dict(),
            "screening_id": screening_id,
            "subject": subject,
            "threshold": result.threshold,
            "snapshots": list(result.snapshots),
            "seq": entry.seq,
        }

    # -- imports -------------------------------------------------------------------------

    def read(self, path: Path, fmt: str) -> ListFile:
        if fmt not in FORMATS:
            from paygod.compliance.lists import unknown_format

            raise unknown_format(fmt)
        return read_list(path, fmt)

    def import_list(
        self,
        tenant_id: str,
        path: Path,
        fmt: str,
        *,
        source: str | None = None,
        actor: str = "cli",
    ) -> ImportOutcome:
        """Parse the whole file first (a bad entry refuses the import, nothing written),
        then in one ledger transaction store the snapshot, make it the active one and
        record the hits its delta raises among known subjects."""
        listed = self.read(path, fmt)
        file_hash = file_digest(listed.sources)
        previous = next(
            (s for s in self.store.active_snapshots(tenant_id) if s.list == listed.list), None
        )
        if previous is not None and previous.digest == file_hash and previous.format == fmt:
            sealed = [
                e.seq
                for e in self.ledger.history(f"sanctions:{listed.list}", tenant_id)
                if e.payload.get("snapshot_id") == previous.snapshot_id
            ]
            return ImportOutcome(previous, True, 0, 0, 0, 0, [], sealed[-1] if sealed else None)
        old = {e.entry_id: e for e in self.store.entries(previous.snapshot_id)} if previous else {}
        new = {e.entry_id: e for e in listed.entries}
        added = [e for i, e in new.items() if i not in old]
        changed = [e for i, e in new.items() if i in old and old[i] != e]
        removed = [i for i in old if i not in new]
        now = self.clock.now()
        snapshot = Snapshot(
            snapshot_id=new_id(),
            tenant_id=tenant_id,
            list=listed.list,
            format=fmt,
            source=source or path.name,
            digest=file_hash,
            entry_count=len(listed.entries),
            version=self.store.next_version(tenant_id, listed.list),
            imported_at=now,
        )
        threshold = self.threshold(tenant_id)
        hits_by_subject = self.rescreen(tenant_id, [*added, *changed], threshold)
        new_hits = [{"subject": s, "hits": [h.evidence() for h in hs]} for s, hs in hits_by_subject]
        snapshots = [
            s.snapshot_id for s in self.store.active_snapshots(tenant_id) if s.list != listed.list
        ]
        snapshots.append(snapshot.snapshot_id)
        events = [
            EventEnvelope(
                event_type="compliance.sanctions_list_imported",
                aggregate_id=snapshot.snapshot_id,
                aggregate_type="sanctions_snapshot",
                tenant_id=tenant_id,
                payload={
                    **snapshot.as_dict(),
                    "previous": previous.snapshot_id if previous else None,
                },
                occurred_at=now,
                recorded_at=now,
            )
        ]
        for subject, subject_hits in hits_by_subject:
            events.append(
                self.hit_event(
                    tenant_id,
                    snapshot.snapshot_id,
                    subject_hits,
                    threshold,
                    source="rescreen",
                    subject=subject,
                    snapshots=snapshots,
                    correlation_id=snapshot.snapshot_id,
                )
            )
        payload = {
            **snapshot.as_dict(),
            "files": [
                {"name": n, "digest": "sha256:" + hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                for n, d in listed.sources
            ],
            "entries_digest": digest([e.as_dict() for e in listed.entries]),
            "previous": previous.snapshot_id if previous else None,
            "delta": {"added": len(added), "changed": len(changed), "removed": len(removed)},
            "rescreened": sum(1 for _ in self.store.subjects(tenant_id)),
            "new_hits": new_hits,
            "imported_by": actor,
        }
        del payload["seq"], payload["active"]
        draft = EntryDraft(
            "sanctions.snapshot",
            f"sanctions:{listed.list}",
            payload,
            tenant_id=tenant_id,
            events=tuple(events),
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.save_snapshot(conn, snapshot, listed.entries)
            return None, [draft]

        _, (entry,) = self.ledger.transact(work)
        with self._lock:
            self._indexes.pop(tenant_id, None)
        return ImportOutcome(
            snapshot,
            False,
            len(added),
            len(changed),
            len(removed),
            int(payload["rescreened"]),
            new_hits,
            entry.seq,
        )

    def rescreen(
        self, tenant_id: str, delta: Sequence[ListEntry], threshold: float
    ) -> list[tuple[str, list[Hit]]]:
        """Every known subject against the entries a new list version added or changed."""
        if not delta:
            return []
        index = ScreeningIndex(delta)
        found = []
        for subject, query in self.store.subjects(tenant_id):
            hits, _ = index.screen(query, threshold)
            if hits:
                found.append((subject, hits))
        return found

    def snapshots(self, tenant_id: str, list_name: str | None = None) -> list[Snapshot]:
        if list_name is not None and list_name not in set(FORMATS.values()):
            raise InvalidInput(
                "unknown list",
                errors=[FieldError("/list", "expected one of ofac, eu, un, uk")],
            )
        return self.store.snapshots(tenant_id, list_name)
