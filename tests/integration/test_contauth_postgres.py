"""Continuous authentication on PostgreSQL for real: an impostor's session is stepped up
and ended with every entry sealed and every event in the outbox table, and two services
(as two processes would) scoring one session at once never lose an update."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.contauth import registry, synthetic
from paygod.contauth.model import ASSESSMENT_KIND
from paygod.contauth.service import ContauthService
from paygod.contauth.stores.sql import SqlContauthStore
from paygod.kernel.errors import Conflict
from paygod.kernel.settings import load_settings

ROWS = synthetic.generate()


@pytest.fixture
def kernel(postgres_url: str, tmp_path: Path) -> Iterator[Kernel]:
    schema = f"t_{uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    built = build_kernel(load_settings(home=tmp_path / "home", database_url=url, redis_url=None))
    artefact, meta = registry.train(registry.from_file([r for r in ROWS if r.session <= 2], "s001"))
    built.contauth.registry.register("acme", "alice", artefact, meta, actor="test")
    try:
        yield built
    finally:
        built.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _open(kernel: Kernel, sid: str) -> None:
    kernel.contauth.open_session("acme", "alice", sid, kernel.clock.now() + timedelta(hours=1))


def test_an_impostor_is_ended_with_entries_and_events_sealed(kernel: Kernel) -> None:
    _open(kernel, "imp")
    typing = [r.as_features() for r in ROWS if r.subject == "s005" and r.session >= 3]
    states = []
    for sample in typing[:12]:
        states.append(
            kernel.contauth.record("acme", "alice", "imp", {"keystrokes": [sample]})["state"]
        )
        if states[-1] == "ended":
            break
    assert "step_up_required" in states[:3] and states[-1] == "ended"
    kinds = [e.kind for e in kernel.ledger.history("urn:paygod:session:imp", "acme")]
    assert kinds.count("contauth.step_up_demanded") == 1 and kinds[-1] == "contauth.session_ended"
    with kernel.db.connection() as conn:
        events = [r[0] for r in conn.execute("SELECT event_type FROM outbox").fetchall()]
    assert {
        "contauth.step_up_demanded",
        "contauth.session_ended",
        "contauth.model_registered",
    } <= set(events)
    assert len(kernel.contauth.store.features("acme", "keystroke")) == len(states)
    assert not kernel.ledger.verify().findings


def test_two_services_scoring_one_session_lose_no_update(kernel: Kernel) -> None:
    _open(kernel, "race")
    other = ContauthService(kernel.ledger, SqlContauthStore(kernel.db), kernel.clock)
    sample = next(r.as_features() for r in ROWS if r.subject == "s001" and r.session >= 3)
    accepted: list[int] = []  # each accepted batch's scored events
    refused: list[int] = []

    def send(service: ContauthService) -> None:
        for _ in range(10):
            try:
                answer = service.record("acme", "alice", "race", {"keystrokes": [sample]})
                accepted.append(int(answer["scored_events"]))
            except Conflict:
                refused.append(1)

    threads = [threading.Thread(target=send, args=(s,)) for s in (kernel.contauth, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = kernel.contauth.trust("acme", "race")
    # No update lost: the session counts every scored event of every accepted batch.
    assert final["events"] == sum(accepted) and len(accepted) + len(refused) == 20
    sealed = kernel.ledger.history("urn:paygod:session:race", "acme")
    # One assessment per accepted batch, none for a refused one; a batch that moved the
    # session (a step-up demanded, the session ended) also seals that transition.
    assessments = [e for e in sealed if e.kind == ASSESSMENT_KIND]
    assert len(assessments) == len(accepted)
    assert [e.payload["events"] for e in assessments][-1] == final["events"]
