"""The actions module's error codes."""

from __future__ import annotations

from enum import StrEnum


class ActionCode(StrEnum):
    ACTION_NOT_AWAITING_APPROVAL = "action-not-awaiting-approval"
