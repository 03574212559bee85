"""The governance module's error codes."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from paygod.kernel.errors import Conflict


class GovernanceCode(StrEnum):
    CHALLENGER_EXISTS = "challenger-exists"
    NOTHING_TO_PROPOSE = "nothing-to-propose"
    GATE_FAILED = "gate-failed"
    NOT_CANARY = "not-canary"
    ACTIVATE_BY_BUNDLE = "activate-by-bundle"
    NO_TRUSTED_KEYS = "no-trusted-keys"


class ChallengerExists(Conflict):
    """A policy already has a challenger in flight: one at a time."""

    code: ClassVar[StrEnum] = GovernanceCode.CHALLENGER_EXISTS
