"""The ledger's read side over HTTP: entries, signed tree head, RFC 9162 proofs, subjects.

Writes come through the decision and execution flows, never from here.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import Depends, Path, Query, Request

from paygod.api.deps import get_kernel
from paygod.api.models import Digits, query_instant
from paygod.api.routing import router as strict_router
from paygod.api.schemas import ledger as bodies
from paygod.api.schemas import success
from paygod.api.security import tenant_filter
from paygod.bootstrap import Kernel
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import NotFound
from paygod.ledger import Entry, LedgerService
from paygod.ledger.verifier import key_id_of

# Sequence numbers are SQL BIGINTs; a larger number is bad input (422), not a crash.
MAX_SEQ = 2**63 - 1
Seq = Annotated[int, Digits, Path(le=MAX_SEQ)]

router = strict_router(prefix="/ledger", tags=["ledger"])


def get_ledger(kernel: Annotated[Kernel, Depends(get_kernel)]) -> LedgerService:
    return kernel.ledger


Ledger = Annotated[LedgerService, Depends(get_ledger)]


def _visible(request: Request, entry: Entry | None) -> Entry | None:
    """The one chain holds every tenant's entries; a principal sees only its tenant's.

    Another tenant's entry answers 404, exactly like a missing one (no existence leak).
    """
    tenant = tenant_filter(request)
    if entry is None or (tenant is not None and entry.tenant_id != tenant):
        return None
    return entry


@router.get(
    "/entries",
    responses=success(bodies.EntriesPage),
    summary="Entries in order, after a seq (cursor pagination)",
)
def list_entries(
    request: Request,
    ledger: Ledger,
    after: Annotated[
        int, Digits, Query(ge=-1, le=MAX_SEQ, description="Return entries with seq > after.")
    ] = -1,
    limit: Annotated[int, Digits, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    scanned = ledger.entries(after=after, limit=limit)
    # The cursor follows the scan, not the filtered page, so paging covers the whole chain.
    entries = [e for e in scanned if _visible(request, e) is not None]
    return {
        "entries": [e.as_dict() for e in entries],
        "next_after": scanned[-1].seq if len(scanned) == limit else None,
    }


@router.get(
    "/entries/{seq}",
    responses=success(bodies.LedgerEntryWithInterchange),
    summary="One entry, with its interchange form",
)
def get_entry(request: Request, ledger: Ledger, seq: Seq) -> dict[str, Any]:
    entry = _visible(request, ledger.get(seq) if seq >= 0 else None)
    if entry is None:
        raise NotFound(f"ledger entry {seq} does not exist")
    return {**entry.as_dict(), "interchange": entry.to_interchange()}


@router.get(
    "/head",
    responses=success(bodies.TreeHead),
    summary="A signed tree head (Ed25519) for the current ledger",
)
def tree_head(ledger: Ledger) -> dict[str, Any]:
    return ledger.tree_head().as_dict()


@router.get(
    "/public-key",
    responses=success(bodies.PublicKey),
    summary="The Ed25519 key tree heads are signed with (PEM and raw)",
)
def public_key(ledger: Ledger) -> dict[str, Any]:
    pem = ledger.public_key_pem()
    key = serialization.load_pem_public_key(pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "key_id": key_id_of(raw),
        "algorithm": "Ed25519",
        "public_key_pem": pem.decode(),
        "public_key_raw": base64.b64encode(raw).decode(),
    }


@router.get(
    "/proofs/inclusion/{seq}",
    responses=success(bodies.InclusionProof),
    summary="RFC 9162 inclusion proof of one entry",
)
def inclusion(
    request: Request,
    ledger: Ledger,
    seq: Seq,
    tree_size: Annotated[int | None, Digits, Query(ge=1, le=MAX_SEQ)] = None,
) -> dict[str, Any]:
    if seq < 0 or _visible(request, ledger.get(seq)) is None:
        raise NotFound(f"ledger entry {seq} does not exist")
    if tenant_filter(request) is None:
        return ledger.inclusion_proof(seq, tree_size).as_dict()
    # A tenant sees the shared tree only through proofs of its own entries, at a size a
    # signed head already published (or, for an entry newer than every head, a head signed
    # for it, as its receipt was): never the size at an instant of its choosing.
    head = ledger.tenant_head(seq)
    if tree_size is not None and not seq < tree_size <= head.tree_size:
        raise NotFound(f"no proof of entry {seq} at tree size {tree_size}")
    proof = ledger.inclusion_proof(seq, tree_size or head.tree_size).as_dict()
    return {**proof, "tree_head": head.as_dict()} if tree_size is None else proof


@router.get(
    "/proofs/consistency",
    responses=success(bodies.ConsistencyProof),
    summary="RFC 9162 consistency proof between two sizes",
)
def consistency(
    ledger: Ledger,
    first: Annotated[int, Digits, Query(alias="from", ge=0, le=MAX_SEQ)],
    second: Annotated[int | None, Digits, Query(alias="to", ge=0, le=MAX_SEQ)] = None,
) -> dict[str, Any]:
    return ledger.consistency_proof(first, second).as_dict()


@router.get(
    "/subjects/{subject}",
    responses=success(bodies.SubjectView),
    summary="A subject as recorded at T, about valid time V",
)
def subject(
    request: Request,
    ledger: Ledger,
    subject: str,
    recorded_at: str | None = None,
    valid_at: str | None = None,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    own = tenant_filter(request)
    if own is not None:
        if tenant_id not in (None, own):
            raise NotFound(f"subject {subject} does not exist")
        tenant_id = own
    recorded = query_instant(recorded_at, "recorded_at")
    valid = query_instant(valid_at, "valid_at")
    entries = ledger.as_of(subject, recorded_at=recorded, valid_at=valid, tenant_id=tenant_id)
    return {
        "subject": subject,
        "recorded_at": isoformat(recorded) if recorded else None,
        "valid_at": isoformat(valid) if valid else None,
        "entries": [e.as_dict() for e in entries],
    }
