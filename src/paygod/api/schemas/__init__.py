"""Response models: what each route's success body is, for the OpenAPI document.

They describe, they do not filter. A route attaches its model with `responses=success(M)`,
not `response_model=M`: FastAPI would then re-serialise every answer through the model
(dropping undeclared members, reordering, rewriting types), and the bytes a client gets
today must stay the bytes it gets. `tests/unit/api/test_openapi_bodies.py` checks real
answers against these models, so a model that drifts from its route fails there (and in
schemathesis' response_schema_conformance check).
"""

from __future__ import annotations

from types import UnionType
from typing import Any

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """A success body. Members beyond the declared ones are allowed: several bodies carry
    open-ended parts (payloads, evidence, metadata), and a model that forbade them would
    turn a harmless addition into a schema-conformance failure."""

    model_config = ConfigDict(extra="allow")


# A model, or a union of models for a route that answers one of several shapes.
Documented = type[BaseModel] | UnionType


def success(
    model: Documented, description: str = "Success", status: int = 200
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its success status documented with `model` as the body."""
    return {status: {"model": model, "description": description}}
