"""The privacy module's error codes."""

from __future__ import annotations

from enum import StrEnum


class PrivacyCode(StrEnum):
    SUBJECT_ERASED = "subject-erased"
    UNKNOWN_SUBJECT = "unknown-subject"
    LEGAL_HOLD = "legal-hold"
    NO_HOLD = "no-hold"
