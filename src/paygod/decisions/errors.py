"""The decisions module's error codes."""

from __future__ import annotations

from enum import StrEnum


class DecisionCode(StrEnum):
    PACK_INVALID = "pack-invalid"
