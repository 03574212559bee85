"""Per-principal keystroke models: trained, sealed in the ledger, verified when loaded.

A registry entry (`contauth.model`) seals the artefact's digest, the feature list, the
detector and its held-out metrics; the artefact itself (which embeds the principal's
typing profile, personal data) stays in the store, where it can be deleted, never in the
ledger. An artefact whose digest differs from the sealed one is never loaded.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from paygod.canonical import digest
from paygod.contauth import detectors
from paygod.contauth.cmu import FEATURES as CMU_FEATURES
from paygod.contauth.cmu import Typing
from paygod.contauth.detectors import BehaviourModel
from paygod.contauth.model import MODEL_KIND, SessionState, StoredModel
from paygod.contauth.ports import ContauthStore
from paygod.contauth.signals import POINTER_FIELDS
from paygod.decisions.ports import DuplicateKey
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, InvalidInput
from paygod.kernel.events import EventEnvelope
from paygod.ledger import EntryDraft, LedgerService

MAX_TRAINING_SAMPLES = 20_000
MODEL_EVENT = "contauth.model_registered"


def model_subject(tenant_id: str, principal_id: str, version: int) -> str:
    return f"urn:paygod:contauth-model:{tenant_id}:{principal_id}:{version}"


@dataclass(frozen=True)
class TrainingSet:
    features: tuple[str, ...]
    genuine: np.ndarray
    others: np.ndarray
    other_subjects: int
    source: str
    pointer: np.ndarray | None = None  # the principal's pointer summaries, POINTER_FIELDS order

    def digest(self) -> str:
        h = hashlib.sha256(",".join(self.features).encode())
        h.update(self.genuine.tobytes())
        h.update(self.others.tobytes())
        if self.pointer is not None:
            h.update(self.pointer.tobytes())
        return "sha256:" + h.hexdigest()


def from_file(rows: Sequence[Typing], subject: str) -> TrainingSet:
    genuine = [r.timings for r in rows if r.subject == subject]
    if not genuine:
        raise InvalidInput(
            f"no rows for subject {subject!r} in the file",
            errors=[FieldError("/subject", "names no subject of the file")],
        )
    others = [r.timings for r in rows if r.subject != subject]
    subjects = len({r.subject for r in rows if r.subject != subject})
    return TrainingSet(
        CMU_FEATURES,
        np.array(genuine[:MAX_TRAINING_SAMPLES], dtype=np.float64),
        np.array(others[:MAX_TRAINING_SAMPLES], dtype=np.float64).reshape(-1, len(CMU_FEATURES)),
        subjects,
        "cmu-layout file",
    )


def from_sessions(store: ContauthStore, tenant_id: str, principal_id: str) -> TrainingSet:
    """Labelled by what happened: the principal's samples from sessions that were never
    ended are genuine; other principals' samples of the same tenant are the others."""
    records = store.features(tenant_id, "keystroke")
    ended = {
        s.session_id
        for s in store.sessions(tenant_id, principal_id)
        if s.state is SessionState.ENDED
    }
    mine = [
        r.features for r in records if r.principal_id == principal_id and r.session_id not in ended
    ]
    if not mine:
        raise InvalidInput(
            "no keystroke samples recorded for this principal",
            errors=[FieldError("/principal", "has no recorded keystroke samples")],
        )
    names = tuple(sorted(set.intersection(*(set(m) for m in mine))))
    theirs = [
        r for r in records if r.principal_id != principal_id and set(names) <= set(r.features)
    ]
    return TrainingSet(
        names,
        np.array([[m[n] for n in names] for m in mine][-MAX_TRAINING_SAMPLES:], dtype=np.float64),
        np.array(
            [[r.features[n] for n in names] for r in theirs][-MAX_TRAINING_SAMPLES:],
            dtype=np.float64,
        ).reshape(-1, len(names)),
        len({r.principal_id for r in theirs}),
        "recorded sessions",
        _pointer_matrix(store, tenant_id, principal_id, ended),
    )


def _pointer_matrix(
    store: ContauthStore, tenant_id: str, principal_id: str, ended: set[str]
) -> np.ndarray | None:
    rows = [
        [r.features[n] for n in POINTER_FIELDS]
        for r in store.features(tenant_id, "pointer")
        if r.principal_id == principal_id and r.session_id not in ended
    ]
    return np.array(rows[-MAX_TRAINING_SAMPLES:], dtype=np.float64) if rows else None


def _held_out(data: TrainingSet, kind: str) -> dict[str, Any]:
    """EER on the last third of the genuine samples against the others (unseen by a
    one-class fit; the forest trains on half the others and is tested on the rest)."""
    cut = (2 * len(data.genuine)) // 3
    train, test = data.genuine[:cut], data.genuine[cut:]
    if len(data.others) == 0 or len(test) == 0:
        return {"eer": None, "why": "no other principals' samples to test against"}
    half = len(data.others) // 2
    negatives = data.others[:half] if kind == detectors.RANDOM_FOREST else None
    impostors = data.others[half:] if kind == detectors.RANDOM_FOREST else data.others
    model = detectors.fit(data.features, train, negatives, kind)
    eer = detectors.equal_error_rate(1 - model.genuineness(test), 1 - model.genuineness(impostors))
    return {"eer": round(eer, 4), "genuine_test": len(test), "impostor_test": len(impostors)}


def train(data: TrainingSet) -> tuple[bytes, dict[str, Any]]:
    kind = detectors.choose(len(data.genuine), len(data.others), data.other_subjects)
    if kind is None:
        raise InvalidInput(
            f"not enough labelled samples: {len(data.genuine)} of the principal's "
            f"(at least {detectors.MIN_GENUINE_ONE_CLASS})",
            errors=[FieldError("/principal", "too few keystroke samples to learn from")],
        )
    started = time.perf_counter()
    metrics = _held_out(data, kind)
    model = detectors.fit(
        data.features, data.genuine, data.others if kind == detectors.RANDOM_FOREST else None, kind
    )
    pointer = data.pointer
    if pointer is not None and len(pointer) >= detectors.MIN_GENUINE_ONE_CLASS:
        model.pointer = detectors.fit(
            tuple(POINTER_FIELDS), pointer, None, detectors.ISOLATION_FOREST
        )
    meta = {
        "detector": kind,
        "features": list(data.features),
        "metrics": metrics,
        "pointer": None
        if model.pointer is None
        else {
            "detector": detectors.ISOLATION_FOREST,
            "features": list(POINTER_FIELDS),
            "genuine_samples": len(pointer) if pointer is not None else 0,
        },
        "training_data": {
            "source": data.source,
            "digest": data.digest(),
            "genuine_samples": len(data.genuine),
            "other_samples": len(data.others),
            "other_subjects": data.other_subjects,
        },
        "training_seconds": round(time.perf_counter() - started, 2),
    }
    return detectors.dump(model), meta


class ModelRegistry:
    def __init__(self, ledger: LedgerService, store: ContauthStore, clock: Clock) -> None:
        self.ledger, self.store, self.clock = ledger, store, clock
        self._loaded: dict[tuple[str, str, int], BehaviourModel | str] = {}
        self._lock = threading.Lock()

    def register(
        self, tenant_id: str, principal_id: str, artefact: bytes, meta: Mapping[str, Any],
        *, actor: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        versions = self.store.versions(tenant_id, principal_id)
        version = (max(versions) + 1) if versions else 1
        now = self.clock.now()
        payload = {
            **meta,
            "tenant_id": tenant_id,
            "principal_id": principal_id,
            "version": version,
            "artefact_digest": "sha256:" + hashlib.sha256(artefact).hexdigest(),
            "registered_at": isoformat(now),
            "registered_by": actor,
        }
        subject = model_subject(tenant_id, principal_id, version)
        event = EventEnvelope(
            MODEL_EVENT,
            subject,
            "contauth_model",
            tenant_id,
            {k: payload[k] for k in ("principal_id", "version", "artefact_digest", "detector")},
            now,
            now,
        )
        draft = EntryDraft(MODEL_KIND, subject, payload, tenant_id=tenant_id, events=(event,))
        row = StoredModel(
            tenant_id, principal_id, version, payload["artefact_digest"], artefact, payload
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.put_model(conn, row)
            return None, [draft]

        try:
            _, entries = self.ledger.transact(work)
        except DuplicateKey:
            raise Conflict(f"model version {version} was registered concurrently") from None
        return {**payload, "seq": entries[-1].seq, "payload_digest": digest(payload)}

    def active(
        self, tenant_id: str, principal_id: str
    ) -> tuple[int | None, BehaviourModel | str | None]:
        """(version, model | why it cannot be used); (None, None) when there is none."""
        stored = self.store.model(tenant_id, principal_id)
        if stored is None:
            return None, None
        key = (tenant_id, principal_id, stored.version)
        with self._lock:
            found = self._loaded.get(key)
        if found is None:
            found = self._verify(stored)
            with self._lock:
                self._loaded[key] = found
        return stored.version, found

    def _verify(self, stored: StoredModel) -> BehaviourModel | str:
        sealed = self.sealed(stored.tenant_id, stored.principal_id, stored.version)
        actual = "sha256:" + hashlib.sha256(stored.artefact).hexdigest()
        expected = sealed.get("artefact_digest") if sealed else None
        if expected is None or actual != expected or stored.artefact_digest != expected:
            return f"model {stored.version} artefact does not match its sealed digest: not used"
        try:
            return detectors.load(stored.artefact)
        except Exception as exc:  # any load failure fails closed
            return f"model {stored.version} does not load ({exc}): not used"

    def sealed(self, tenant_id: str, principal_id: str, version: int) -> dict[str, Any] | None:
        subject = model_subject(tenant_id, principal_id, version)
        found = [e for e in self.ledger.history(subject, tenant_id) if e.kind == MODEL_KIND]
        return {**found[-1].payload, "seq": found[-1].seq} if found else None

    def describe(self, tenant_id: str, principal_id: str) -> list[dict[str, Any]]:
        latest = self.store.versions(tenant_id, principal_id)
        return [
            {
                **(self.sealed(tenant_id, principal_id, v) or {"version": v}),
                "active": v == latest[-1],
            }
            for v in reversed(latest)
        ]
