"""Projections over HTTP: where each stands against the ledger (platform admins only: a
position is the shared ledger's size, every tenant's activity; docs/event-store.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from pydantic import BaseModel

from paygod.api.deps import get_kernel
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel

router = strict_router(prefix="/projections", tags=["projections"])


class ProjectionStatusOut(BaseModel):
    name: str
    tables: list[str]
    state: str
    position: int
    head: int
    lag_entries: int
    lag_seconds: float
    updated_at: str | None
    rebuilt_at: str | None


class ProjectionsOut(BaseModel):
    projections: list[ProjectionStatusOut]


@router.get("", summary="Every projection's position and lag behind the ledger")
def list_projections(kernel: Kernel = Depends(get_kernel)) -> ProjectionsOut:
    found = kernel.projections.status()
    return ProjectionsOut(projections=[ProjectionStatusOut(**s.as_dict()) for s in found])


@router.get(
    "/{name}", summary="One projection's position and lag (404 names the projections there are)"
)
def get_projection(
    name: Annotated[str, Path(max_length=64)], kernel: Kernel = Depends(get_kernel)
) -> ProjectionStatusOut:
    (found,) = kernel.projections.status(name)
    return ProjectionStatusOut(**found.as_dict())
