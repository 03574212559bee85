"""The one rule for an Idempotency-Key seen before: same caller and same request, or 409."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paygod.kernel.errors import IdempotencyKeyReused


def require_same_request(
    *,
    owner: str | None,
    recorded_by: str | None,
    recorded_fingerprint: str,
    fingerprint: str,
    request_kind: str,
    recorded: Mapping[str, Any],
) -> None:
    """Raise 409 unless the earlier request under this key is the caller's own (`owner`,
    scope `own`; None sees every principal's) and the same request (its fingerprint).

    Keys are unique per tenant; another principal's object is neither returned nor named
    (no id in the problem): the caller learns only that the key is taken. The caller's own
    earlier request under another body is named by `recorded` (e.g. its id)."""
    if owner is not None and recorded_by != owner:
        raise IdempotencyKeyReused(
            "this Idempotency-Key is already used in this tenant; choose another",
        )
    if recorded_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"this Idempotency-Key was used with a different {request_kind}",
            extra=dict(recorded),
        )
