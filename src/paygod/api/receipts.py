"""Every sealing write answers with its `receipt` (paygod.ledger.receipt): one decorator
for the routes, one model for the OpenAPI document.

`@sealing` runs the route with the ledger's writes collected, then adds `receipt` to the
JSON object it returns — the receipt of everything the request sealed (its last entry's
proof and signed head, `first_seq` opening the range), or null when the request sealed
nothing now (an idempotent replay of an earlier write, which answers as that write did).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from paygod.ledger.receipt import Collected, collecting

F = TypeVar("F", bound=Callable[..., Any])


class InclusionProofModel(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root_hash: str


class TreeHeadModel(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str = Field(description="Ed25519 over the RFC 8785 form, base64")


class Receipt(BaseModel):
    """Proof that a write was sealed: docs/ledger.md#receipts."""

    seq: int = Field(description="The write's last entry")
    first_seq: int = Field(description="The write's first entry (== seq for one entry)")
    entry_id: str
    record_hash: str
    inclusion_proof: InclusionProofModel
    tree_head: TreeHeadModel


class Sealed(BaseModel):
    """A sealing write's result: the resource as documented for the route, plus `receipt`."""

    model_config = ConfigDict(extra="allow")

    receipt: Receipt | None = Field(
        description="Null only when nothing was sealed now (an idempotent replay)"
    )


# For routes that answer with a raw Response (the hot-path routes): the same documented shape.
SEALED_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": Sealed, "description": "Sealed now, with its receipt"},
    200: {"model": Sealed, "description": "The write an Idempotency-Key already sealed"},
}


def replayed(model: type[BaseModel] = Sealed) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a sealing route that answers 201 once and 200 to a retry of the same
    write (an Idempotency-Key or the same id): the 200 body has the route's own model."""
    return {200: {"model": model, "description": "Already sealed by the same request"}}


def with_receipt(result: Any, sealed: Collected) -> Any:
    if isinstance(result, dict):
        return {**result, "receipt": sealed.receipt()}
    return result


def sealing(endpoint: F) -> F:
    """Decorate a route function (below `@router.post(...)`): its JSON object gains
    `receipt`, and its documented response becomes `Sealed`."""
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with collecting() as sealed:
                result = await endpoint(*args, **kwargs)
            return await run_in_threadpool(with_receipt, result, sealed)

        wrapper: Callable[..., Any] = run_async
    else:

        @functools.wraps(endpoint)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            with collecting() as sealed:
                result = endpoint(*args, **kwargs)
            return with_receipt(result, sealed)

        wrapper = run_sync
    signature = inspect.signature(endpoint)
    wrapper.__signature__ = signature.replace(return_annotation=Sealed)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
