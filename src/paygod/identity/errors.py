"""The identity module's error codes."""

from __future__ import annotations

from enum import StrEnum


class IdentityCode(StrEnum):
    ENROLMENT_TOKEN_REQUIRED = "enrolment-token-required"
    CHECKER_NOT_HUMAN = "checker-not-human"
    CHECKER_NOT_INDEPENDENT = "checker-not-independent"
    CHECKER_FACTOR_FROM_MAKER = "checker-factor-from-maker"
