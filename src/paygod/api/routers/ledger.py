"""The ledger's read side over HTTP: entries, signed tree head, RFC 9162 proofs, subjects.

Writes come through the decision and execution flows, never from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from paygod.api.deps import get_kernel
from paygod.kernel.bootstrap import Kernel
from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.ledger import LedgerService

router = APIRouter(prefix="/ledger", tags=["ledger"])


def get_ledger(kernel: Annotated[Kernel, Depends(get_kernel)]) -> LedgerService:
    return kernel.ledger


Ledger = Annotated[LedgerService, Depends(get_ledger)]


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise InvalidInput(
            f"{name} is not an ISO 8601 instant",
            errors=[FieldError(f"#query/{name}", "expected an ISO 8601 instant")],
        ) from None


@router.get("/entries", summary="Entries in order, after a seq (cursor pagination)")
def list_entries(
    ledger: Ledger,
    after: Annotated[int, Query(ge=-1, description="Return entries with seq > after.")] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    entries = ledger.entries(after=after, limit=limit)
    return {
        "entries": [e.as_dict() for e in entries],
        "next_after": entries[-1].seq if len(entries) == limit else None,
    }


@router.get("/entries/{seq}", summary="One entry, with its interchange form")
def get_entry(ledger: Ledger, seq: int) -> dict[str, Any]:
    entry = ledger.get(seq) if seq >= 0 else None
    if entry is None:
        raise NotFound(f"ledger entry {seq} does not exist")
    return {**entry.as_dict(), "interchange": entry.to_interchange()}


@router.get("/head", summary="A signed tree head (Ed25519) for the current ledger")
def tree_head(ledger: Ledger) -> dict[str, Any]:
    return ledger.tree_head().as_dict()


@router.get("/proofs/inclusion/{seq}", summary="RFC 9162 inclusion proof of one entry")
def inclusion(
    ledger: Ledger,
    seq: int,
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    if seq < 0:
        raise NotFound(f"ledger entry {seq} does not exist")
    return ledger.inclusion_proof(seq, tree_size).as_dict()


@router.get("/proofs/consistency", summary="RFC 9162 consistency proof between two sizes")
def consistency(
    ledger: Ledger,
    first: Annotated[int, Query(alias="from", ge=0)],
    second: Annotated[int | None, Query(alias="to", ge=0)] = None,
) -> dict[str, Any]:
    return ledger.consistency_proof(first, second).as_dict()


@router.get("/subjects/{subject}", summary="A subject as recorded at T, about valid time V")
def subject(
    ledger: Ledger,
    subject: str,
    recorded_at: str | None = None,
    valid_at: str | None = None,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    recorded = _instant(recorded_at, "recorded_at")
    valid = _instant(valid_at, "valid_at")
    entries = ledger.as_of(subject, recorded_at=recorded, valid_at=valid, tenant_id=tenant_id)
    return {
        "subject": subject,
        "recorded_at": isoformat(recorded) if recorded else None,
        "valid_at": isoformat(valid) if valid else None,
        "entries": [e.as_dict() for e in entries],
    }
