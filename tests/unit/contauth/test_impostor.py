"""The scripted impostor: a session typed from another subject's distribution falls below
the step-up threshold within a few events and is ended further down; the genuine user's
own later typing never is. Every step-up demand and termination is sealed with its event."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from paygod.contauth import registry, synthetic
from paygod.contauth.model import SESSION_ENDED, STEP_UP_DEMANDED, STEP_UP_PASSED, Thresholds
from paygod.contauth.service import ContauthService
from paygod.contauth.stores.memory import MemoryContauthStore
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import Forbidden, NotFound, Unauthorized
from paygod.ledger import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore

ROWS = synthetic.generate()
TRAINING = [r for r in ROWS if r.session <= 2]  # later sessions are the live typing
STEP_UP_WITHIN = 3  # events, RandomForest (others' labelled typing exists)
STEP_UP_WITHIN_ONE_CLASS = 6  # events, IsolationForest (only the principal's own typing)
ENDED_WITHIN = 12


@pytest.fixture(scope="module")
def service() -> Iterator[ContauthService]:
    clock = ManualClock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    found = ContauthService(LedgerService(MemoryLedgerStore(), clock), MemoryContauthStore(), clock)
    for principal, rows in (
        ("alice", TRAINING),
        ("alice-1c", [r for r in TRAINING if r.subject == "s001"]),
    ):
        artefact, meta = registry.train(registry.from_file(rows, "s001"))
        found.registry.register("acme", principal, artefact, meta, actor="test")
    yield found


def _typing(subject: str) -> list[dict[str, float]]:
    return [r.as_features() for r in ROWS if r.subject == subject and r.session >= 3]


def _session(service: ContauthService, principal: str, session_id: str) -> str:
    service.open_session("acme", principal, session_id, service.clock.now() + timedelta(hours=1))
    return session_id


def _walk(service: ContauthService, principal: str, sid: str, subject: str) -> list[str]:
    states = []
    for sample in _typing(subject):
        states.append(service.record("acme", principal, sid, {"keystrokes": [sample]})["state"])
        if states[-1] == "ended":
            break
    return states


def test_the_genuine_user_keeps_the_session(service: ContauthService) -> None:
    for principal in ("alice", "alice-1c"):
        states = _walk(service, principal, _session(service, principal, f"g-{principal}"), "s001")
        assert len(states) == 40 and set(states) == {"active"}


@pytest.mark.parametrize("impostor", [f"s{i:03d}" for i in range(2, 11)])
def test_an_impostor_is_forced_to_step_up_then_ended(
    service: ContauthService, impostor: str
) -> None:
    sid = _session(service, "alice", f"i-{impostor}")
    states = _walk(service, "alice", sid, impostor)
    assert "step_up_required" in states[:STEP_UP_WITHIN], states
    assert states[-1] == "ended" and len(states) <= ENDED_WITHIN, states
    trust = service.trust("acme", sid)
    assert trust["reasons"], "a falling trust says which features deviate"
    sealed = [e.kind for e in service.ledger.history(f"urn:paygod:session:{sid}", "acme")]
    assert sealed.count(STEP_UP_DEMANDED) == 1 and sealed.count(SESSION_ENDED) == 1
    with pytest.raises(Unauthorized):
        service.check(sid)  # identity refuses the session's token from now on


@pytest.mark.parametrize("impostor", [f"s{i:03d}" for i in range(2, 11)])
def test_a_one_class_model_catches_impostors_too(service: ContauthService, impostor: str) -> None:
    sid = _session(service, "alice-1c", f"i1c-{impostor}")
    states = _walk(service, "alice-1c", sid, impostor)
    assert "step_up_required" in states[:STEP_UP_WITHIN_ONE_CLASS], states


def test_step_up_restores_trust_and_is_sealed(service: ContauthService) -> None:
    sid = _session(service, "alice", "stepped")
    for sample in _typing("s004")[:STEP_UP_WITHIN]:
        service.record("acme", "alice", sid, {"keystrokes": [sample]})
    assert service.requires_step_up(sid)
    service.stepped_up(sid, "alice")
    after = service.trust("acme", sid)
    assert after["state"] == "active" and after["trust"] == 1.0
    assert STEP_UP_PASSED in [
        e.kind for e in service.ledger.history(f"urn:paygod:session:{sid}", "acme")
    ]


def test_signals_for_someone_elses_session_record_nothing(service: ContauthService) -> None:
    sid = _session(service, "alice", "owned")
    size = service.ledger.size
    with pytest.raises(Forbidden) as caught:
        service.record("acme", "mallory", sid, {"keystrokes": [_typing("s001")[0]]})
    assert caught.value.errors[0].pointer == "/session_id"
    with pytest.raises(NotFound):
        service.record("beta", "alice", sid, {"keystrokes": [_typing("s001")[0]]})
    assert service.ledger.size == size and service.trust("acme", sid)["events"] == 0


def test_thresholds_are_per_tenant_and_sealed(service: ContauthService) -> None:
    sealed = service.set_thresholds("beta", Thresholds(0.9, 0.6), actor="admin")
    assert sealed["seq"] >= 0
    assert service.thresholds("beta") == Thresholds(0.9, 0.6)
    assert service.thresholds("acme") == Thresholds()


def test_a_tampered_artefact_is_not_used_and_forces_step_up() -> None:
    clock = ManualClock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    store = MemoryContauthStore()
    service = ContauthService(LedgerService(MemoryLedgerStore(), clock), store, clock)
    artefact, meta = registry.train(registry.from_file(TRAINING, "s001"))
    service.registry.register("acme", "alice", artefact, meta, actor="test")
    stored = store.model("acme", "alice")
    assert stored is not None
    forged = replace(stored, artefact=stored.artefact + b"\x00")  # digest no longer matches
    store._models[("acme", "alice", 1)] = forged
    sid = _session(service, "alice", "tampered")
    out = service.record("acme", "alice", sid, {"keystrokes": [_typing("s001")[0]]})
    assert out["state"] == "step_up_required"
    assert any("does not match its sealed digest" in r for r in out["reasons"])


class _Pack:
    def __init__(self, source: bytes) -> None:
        self.source = source


def test_packs_reading_session_trust_get_the_subjects_live_session(
    service: ContauthService,
) -> None:
    sid = _session(service, "dora", "dora-1")
    service.record("acme", "dora", sid, {"device": {"attributes": {"ua": "x"}}})
    reading = [_Pack(b"condition: measure.session.trust < 0.5")]
    found = {m.name: m.value for m in service.measurement_source("acme", "dora", reading)}
    assert found == {"session.trust": 1.0, "session.state": "active"}
    urn = service.measurement_source("acme", "urn:paygod:principal:dora", reading)
    assert urn[0].value == 1.0
    assert service.measurement_source("acme", "dora", [_Pack(b"measure.kyc.level")]) == []
    nobody = {m.name: m.value for m in service.measurement_source("acme", "nobody", reading)}
    assert nobody == {"session.trust": None, "session.state": None}


def test_a_changed_device_fingerprint_mid_session_costs_trust(service: ContauthService) -> None:
    sid = _session(service, "erin", "erin-1")
    first = service.record("acme", "erin", sid, {"device": {"attributes": {"ua": "Firefox"}}})
    assert first["trust"] == 1.0
    second = service.record("acme", "erin", sid, {"device": {"attributes": {"ua": "curl"}}})
    assert second["trust"] < 1.0 and "device fingerprint changed" in second["reasons"][0]
