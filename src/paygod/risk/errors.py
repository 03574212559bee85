"""The risk module's error codes."""

from __future__ import annotations

from enum import StrEnum


class RiskCode(StrEnum):
    MODEL_INTEGRITY = "model-integrity"
