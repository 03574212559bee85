"""Assessment results observed by worker processes on every store a worker can open (SQLite,
PostgreSQL): the same bytes as one process, an edited entry included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from paygod.assurance import observing
from paygod.assurance.model import Period
from paygod.assurance.service import AssuranceService
from paygod.decisions.model import Pack
from paygod.decisions.packs import compile_pack
from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.ports import LedgerStore
from tests.contract.test_ledger_store import make_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PACK = b"""\
api_version: paygod/v1
kind: Pack
metadata: {name: gate, version: 1.0.0, controls: [nist-800-53:si-10]}
spec:
  policy:
    rules:
      - {name: deny-big, condition: input.p.amount > 1000, decision: deny, reason: big,
         controls: [nist-800-53:ac-5]}
      - {name: allow, condition: "true", decision: allow, reason: ok, controls: [soc2:CC6.1]}
"""


class Packs:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack

    def packs(self) -> list[Pack]:
        return [self.pack]

    def by_digest(self, digest: str) -> Pack | None:
        return self.pack if digest == self.pack.digest else None


def _decision(i: int, pack: Pack) -> dict[str, Any]:
    verdict, rule = ("deny", "deny-big") if i % 3 == 0 else ("allow", "allow")
    return {
        "decision_id": f"d-{i}",
        "decision": verdict,
        "pack": pack.name,
        "rule": rule,
        "packs": [{"name": pack.name, "digest": pack.digest, "decision": verdict, "rule": rule}],
    }


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerStore]:
    yield from make_store(request.param, tmp_path, request)


def test_workers_on_every_reopenable_store(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = compile_pack(PACK, Path("pack.yaml"))
    clock = ManualClock(T0)
    ledger = LedgerService(store, clock, tree_head_every_entries=10**6)
    try:
        for k in range(0, 30, 10):  # each decision sealed after its evidence, as decide does
            drafts = []
            for i in range(k, k + 10):
                evidence = {"decision_id": f"d-{i}", "input_hash": f"sha256:{i:064x}"}
                drafts.append(EntryDraft("evidence", f"urn:a:{i}", evidence))
                drafts.append(EntryDraft("decision", f"urn:a:{i}", _decision(i, pack)))
            ledger.append_many(drafts)
        clock.advance(3 * 3600)
        ledger.flush_tree_head()
        service = AssuranceService(ledger, Packs(pack), "test")
        monkeypatch.setattr(observing, "PARALLEL_FROM", 0)
        monkeypatch.setattr(observing, "PIECE", 9)

        def document(workers: int) -> bytes:
            base = service.basis("default", Period(T0, T0 + timedelta(hours=2)))
            return b"".join(service.assessment_parts(base, workers))

        inline = document(1)
        assert inline.count(b'"title":"decision ') == 30
        assert inline.count(b'"name":"input-hash"') == 30  # every decision found its evidence
        assert document(2) == inline
    finally:
        ledger.close()
