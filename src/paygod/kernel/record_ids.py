"""Time-ordered identifiers (UUIDv7, RFC 9562) for records, events and entries."""

from __future__ import annotations

import uuid_utils


def new_id() -> str:
    """A fresh UUIDv7 as canonical lowercase text; sorts by creation time."""
    return str(uuid_utils.uuid7())
