"""The continuous-authentication module's error codes."""

from __future__ import annotations

from enum import StrEnum


class ContauthCode(StrEnum):
    SESSION_ENDED = "session-ended"
    SESSION_NOT_YOURS = "session-not-yours"
