"""The compliance module's error codes.

A provider webhook's refusals are the payments module's `webhook-*` codes: one signing
scheme, one set of codes.
"""

from __future__ import annotations

from enum import StrEnum


class ComplianceCode(StrEnum):
    UNKNOWN_LIST_FORMAT = "unknown-list-format"
    LIST_PARSE_ERROR = "list-parse-error"
