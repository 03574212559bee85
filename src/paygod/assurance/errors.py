"""The assurance module's error codes."""

from __future__ import annotations

from enum import StrEnum


class AssuranceCode(StrEnum):
    TREE_HEAD_UNVERIFIED = "tree-head-unverified"
