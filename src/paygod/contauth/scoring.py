"""One batch's effect on a session's trust (pure: no I/O, no clock).

Each scored keystroke sample, pointer summary and device check is one *event* with a
genuineness in [0, 1]; the session's trust is their exponentially weighted mean
(model.SMOOTHING). Then
the tenant's thresholds decide the state: below `step_up` a step-up is demanded (it stays
demanded until a TOTP code is given, even if trust climbs back), below `terminate` the
session ends. Ended is final.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from paygod.contauth.detectors import BehaviourModel
from paygod.contauth.model import SessionState, SessionTrust, Thresholds
from paygod.contauth.signals import Batch

MAX_REASONS = 5


@dataclass(frozen=True)
class Outcome:
    before: SessionTrust
    after: SessionTrust
    genuineness: tuple[float, ...]
    unscored: int

    @property
    def demanded_step_up(self) -> bool:
        return (
            self.after.state is SessionState.STEP_UP_REQUIRED
            and self.before.state is SessionState.ACTIVE
        )

    @property
    def ended(self) -> bool:
        return self.after.state is SessionState.ENDED


def _keystrokes(batch: Batch, model: BehaviourModel | None) -> tuple[list[float], list[str], int]:
    usable = [s for s in batch.keystrokes if model and all(f in s for f in model.features)]
    unscored = len(batch.keystrokes) - len(usable)
    if model is None or not usable:
        return [], [], unscored
    x = np.array([[s[f] for f in model.features] for s in usable], dtype=np.float64)
    scores = [round(float(g), 4) for g in model.genuineness(x)]
    counted: Counter[str] = Counter()
    for genuineness, deviations in zip(scores, model.deviating(x), strict=True):
        if genuineness < 0.5:
            for name, scaled in deviations:
                way = "slower/longer" if scaled > 0 else "faster/shorter"
                counted[f"{name} {abs(scaled):.1f} deviations {way} than the principal's"] += 1
    return scores, [r for r, _ in counted.most_common(MAX_REASONS)], unscored


def _pointer(batch: Batch, model: BehaviourModel | None) -> tuple[list[float], list[str]]:
    found = model.pointer if model is not None else None
    if found is None or not batch.pointer:
        return [], []
    x = np.array([[p[f] for f in found.features] for p in batch.pointer], dtype=np.float64)
    scores = [round(float(g), 4) for g in found.genuineness(x)]
    reasons = [
        f"pointer {name} {abs(scaled):.1f} deviations {'above' if scaled > 0 else 'below'}"
        " the principal's"
        for genuineness, deviations in zip(scores, found.deviating(x), strict=True)
        if genuineness < 0.5
        for name, scaled in deviations
    ]
    return scores, list(dict.fromkeys(reasons))


def apply(
    session: SessionTrust,
    batch: Batch,
    model: BehaviourModel | None,
    thresholds: Thresholds,
    *,
    model_version: int | None,
    model_problem: str | None = None,
) -> Outcome:
    events: list[float] = []
    reasons: list[str] = []
    device = session.device
    if batch.device is not None:
        if device is None:
            device = batch.device  # the first fingerprint a session shows is pinned
        elif batch.device != device:
            events.append(0.0)
            reasons.append("device fingerprint changed within the session")
    scores, deviating, unscored = _keystrokes(batch, None if model_problem else model)
    events += scores
    reasons += deviating
    moves, moved_oddly = _pointer(batch, None if model_problem else model)
    events += moves
    reasons += moved_oddly
    if model_problem:
        reasons.append(model_problem)
    elif model is None and batch.keystrokes:
        reasons.append("no keystroke model for this principal yet: typing not scored")
    elif unscored:
        reasons.append(f"{unscored} keystroke sample(s) lack the model's features: not scored")
    trust = session.trust
    for genuineness in events:
        trust = session.moved(trust=trust).scored(genuineness)
    state = _state(session.state, trust, thresholds, forced=model_problem is not None)
    after = session.moved(
        trust=trust,
        state=state,
        events=session.events + len(events),
        reasons=tuple(reasons[:MAX_REASONS]) if events or reasons else session.reasons,
        device=device,
        model_version=model_version,
    )
    return Outcome(session, after, tuple(events), unscored)


def _state(
    current: SessionState, trust: float, thresholds: Thresholds, *, forced: bool
) -> SessionState:
    if current is SessionState.ENDED or trust < thresholds.terminate:
        return SessionState.ENDED
    # A model that fails verification cannot vouch for anyone: ask for the second factor.
    if trust < thresholds.step_up or forced:
        return SessionState.STEP_UP_REQUIRED
    return current
