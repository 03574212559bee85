"""The banking module's error codes."""

from __future__ import annotations

from enum import StrEnum


class BankingCode(StrEnum):
    PROJECTION_NOT_FOUND = "projection-not-found"
    RESTORE_TARGET_NOT_EMPTY = "restore-target-not-empty"
