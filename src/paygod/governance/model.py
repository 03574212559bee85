"""A pack version's stage and the transitions between stages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from paygod.kernel.errors import Conflict, KernelCode


class Stage(StrEnum):
    DRAFT = "draft"
    SHADOW = "shadow"
    CANARY = "canary"
    ACTIVE = "active"
    RETIRED = "retired"


# Which stage may follow which. Rollback is canary/active -> retired with the champion
# restored; a shadow that loses is retired too.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.DRAFT: frozenset({Stage.SHADOW, Stage.RETIRED}),
    Stage.SHADOW: frozenset({Stage.CANARY, Stage.RETIRED}),
    Stage.CANARY: frozenset({Stage.ACTIVE, Stage.RETIRED}),
    Stage.ACTIVE: frozenset({Stage.RETIRED}),
    Stage.RETIRED: frozenset(),
}


class IllegalTransition(Conflict):
    code: ClassVar[StrEnum] = KernelCode.ILLEGAL_TRANSITION
    title = "Illegal policy stage transition"


def check_transition(current: Stage, target: Stage) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final)"
        raise IllegalTransition(f"a {current} version cannot become {target} (allowed: {allowed})")


def canary_arm(tenant_id: str, subject: str, pack: str, percent: float) -> bool:
    """Whether this subject is decided by the canary: a stable hash, so one subject stays on
    one arm while the percentage holds, and a higher percentage only adds subjects."""
    if not 0 <= percent <= 100:
        raise ValueError("canary percentage must be within 0-100")
    digest = hashlib.sha256(f"{tenant_id}\x00{pack}\x00{subject}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % 10_000
    return bucket < round(percent * 100)


@dataclass(frozen=True)
class CanarySchedule:
    """The canary's percentage steps up through `steps`, one step per `every` decisions."""

    steps: tuple[float, ...] = (1.0, 5.0, 25.0, 50.0)
    every: int = 1000

    def percent_after(self, decisions: int) -> float:
        index = min(len(self.steps) - 1, decisions // self.every)
        return self.steps[index]
