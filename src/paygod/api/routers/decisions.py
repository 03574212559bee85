"""Decisions over HTTP: decide and seal, read a sealed decision, list and dry-run packs."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Query, Request, Response
from pydantic import Field

from paygod.api.deps import get_kernel
from paygod.api.models import Digits, NoNul, StrictModel, query_instant
from paygod.api.receipts import SEALED_RESPONSES
from paygod.api.routers.admin import principal_id
from paygod.api.routing import router as strict_router
from paygod.api.schemas import decisions as bodies
from paygod.api.schemas import success
from paygod.api.security import owner_filter
from paygod.bootstrap import Kernel
from paygod.decisions.model import Verdict
from paygod.decisions.ports import DecisionQuery
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import NotFound
from paygod.ledger.steps import Steps, run_blocking

router = strict_router(tags=["decisions"])


def _json(document: Any, status_code: int = 200) -> Response:
    # Decisions are JSON-native already; FastAPI's generic encoder walks the whole
    # (large) explanation and proof again for nothing.
    return Response(orjson.dumps(document), status_code=status_code, media_type="application/json")


def json_response(result: dict[str, Any]) -> Response:
    """201 for a decision sealed now, 200 for the one an Idempotency-Key already sealed."""
    return _json(result, 200 if result.get("replayed") else 201)


def _tenant(request: Request, kernel: Kernel) -> tuple[str, bool]:
    """(tenant, sees every tenant) of the caller; the settings' tenant without identity."""
    principal = getattr(request.state, "principal", None)
    tenant = getattr(principal, "tenant_id", None)
    if tenant == "*":
        return kernel.settings.tenant, True
    return (str(tenant) if tenant else kernel.settings.tenant), principal is None


def visible_decision(request: Request, kernel: Kernel, decision_id: str) -> dict[str, Any]:
    """A sealed decision the caller may see: of its tenant, and its own with scope `own`
    (the index lookup answers only an agent's own decisions); else 404, like a missing one."""
    result: dict[str, Any] = kernel.decisions.get(decision_id, owner_filter(request))
    tenant, every = _tenant(request, kernel)
    if not every and result.get("tenant_id") != tenant:
        raise NotFound(f"no decision {decision_id}")
    return result


class DecisionRequest(StrictModel):
    subject: Annotated[
        str, Field(min_length=1, max_length=256, description="What the decision is about"), NoNul
    ]
    context: dict[str, Any] = Field(
        default_factory=dict, description="Request context; `evidence_refs` must be references"
    )
    input: dict[str, Any] = Field(description="The observation, keyed by pack input name")
    packs: list[str] | None = Field(
        default=None, description="Pack names; default: every pack declaring an input given"
    )
    action: dict[str, Any] | None = Field(
        default=None,
        description="The side effect to perform once if the decision allows it: "
        "{type, destination?, payload?} (docs/actions.md)",
    )


class EvaluateRequest(StrictModel):
    input: dict[str, Any]
    measurements: dict[str, Any] = Field(default_factory=dict)


@router.post(
    "/decisions",
    status_code=201,
    summary="Decide with the policy packs and seal the decision into the ledger",
    response_model=None,
    responses=SEALED_RESPONSES,
)
def create_decision(
    body: DecisionRequest,
    request: Request,
    idempotency_key: str = Header(alias="Idempotency-Key", min_length=1, max_length=200),
) -> Response:
    # api/hotpath.py serves the well-formed request without FastAPI (same functions);
    # this route documents the contract and answers everything else.
    return json_response(decide(request, body, idempotency_key))


def decide(request: Request, body: DecisionRequest, idempotency_key: str) -> dict[str, Any]:
    """Decide and seal for the authenticated caller (after `enforce_access`)."""
    kernel: Kernel = request.app.state.kernel
    return run_blocking(kernel.ledger, decide_steps(request, body, idempotency_key))


def decide_steps(
    request: Request, body: DecisionRequest, idempotency_key: str
) -> Steps[dict[str, Any]]:
    kernel: Kernel = request.app.state.kernel
    tenant, _ = _tenant(request, kernel)
    return kernel.decisions.decide_steps(
        subject=body.subject,
        context=body.context,
        input=body.input,
        packs=body.packs,
        idempotency_key=idempotency_key,
        tenant_id=tenant,
        requested_by=principal_id(request),
        owner=owner_filter(request),
        action=body.action,
    )


@router.get(
    "/decisions/{decision_id}",
    summary="A sealed decision with evidence and proof",
    response_model=None,
    responses=success(bodies.Decision),
)
def get_decision(
    decision_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> Response:
    return _json(visible_decision(request, kernel, decision_id))


Text = Annotated[str, Query(min_length=1, max_length=256), NoNul]


def _text_instant(value: str | None, name: str) -> str | None:
    """An ISO 8601 instant as the index writes it (so text comparison orders by time)."""
    instant = query_instant(value, name)
    return None if instant is None else isoformat(instant)


@router.get(
    "/decisions",
    summary="Search sealed decisions by subject, verdict, pack and time",
    response_model=None,
    responses=success(bodies.DecisionSearch),
)
def search_decisions(
    request: Request,
    kernel: Kernel = Depends(get_kernel),
    subject: Text | None = None,
    verdict: Annotated[Verdict | None, Query()] = None,
    pack: Text | None = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Digits, Query(ge=1, le=500)] = 50,
) -> Response:
    tenant, every = _tenant(request, kernel)
    rows = kernel.decisions.index.search(
        DecisionQuery(
            tenant_id=None if every else tenant,
            owner=owner_filter(request),
            subject=subject,
            verdict=verdict.value if verdict else None,
            pack=pack,
            since=_text_instant(since, "since"),
            until=_text_instant(until, "until"),
            limit=limit,
        )
    )
    return _json(
        {
            "decisions": [
                {
                    "decision_id": r.decision_id,
                    "tenant_id": r.tenant_id,
                    "subject": r.subject,
                    "verdict": r.verdict,
                    "pack": r.pack,
                    "decided_at": r.decided_at,
                    "seq": r.seq,
                    "requested_by": r.requested_by,
                }
                for r in rows
            ]
        }
    )


@router.post(
    "/decisions/{decision_id}/replay",
    summary="Would the recorded packs, and today's, decide the same? (seals nothing)",
    responses=success(bodies.Replay),
)
def replay_decision(
    decision_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    found: dict[str, Any] = kernel.decisions.get(decision_id, owner_filter(request))
    tenant, every = _tenant(request, kernel)
    if not every and found.get("tenant_id") != tenant:
        raise NotFound(f"no decision {decision_id}")
    result: dict[str, Any] = kernel.decisions.replay(int(found["ledger"]["seq"]))
    return result


@router.get(
    "/packs",
    summary="The loaded policy packs (and any refused new versions)",
    responses=success(bodies.PackList),
)
def list_packs(kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    result: dict[str, Any] = kernel.decisions.list_packs()
    return result


@router.post(
    "/packs/{name}/evaluate",
    summary="Dry run: evaluate one pack, seal nothing",
    responses=success(bodies.Evaluation),
)
def evaluate_pack(
    name: str, body: EvaluateRequest, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    result: dict[str, Any] = kernel.decisions.evaluate(name, body.input, body.measurements)
    return result
