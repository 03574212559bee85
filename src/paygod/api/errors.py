"""The HTTP edge's own error codes (sessions, step-up, platform-only routes)."""

from __future__ import annotations

from enum import StrEnum


class ApiCode(StrEnum):
    CSRF_FAILED = "csrf-failed"
    STEP_UP_REQUIRED = "step-up-required"
    STEP_UP_FAILED = "step-up-failed"
    PACKS_PLATFORM_ONLY = "packs-platform-only"
