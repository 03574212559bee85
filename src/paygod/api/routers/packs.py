"""The policy promotion pipeline over HTTP (docs/packs.md, "Promotion"): status, upload a
signed bundle (the database policy source), promote, step a canary, roll back, diff.

Policy packs are the kernel's, shared by every tenant, so only a platform admin moves them:
a tenant admin's `packs:activate` is refused here (403) rather than letting one tenant change
every tenant's policy. Every move needs `packs:activate`, which asks a human for a fresh
TOTP code (`X-Paygod-TOTP`, api/security.py step-up) and is sealed (`policy.stage`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import Field

from paygod.api.deps import get_kernel
from paygod.api.errors import ApiCode
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel
from paygod.decisions.bundles import Keyring
from paygod.governance.model import Stage
from paygod.identity.model import ALL_TENANTS
from paygod.kernel.errors import FieldError, Forbidden, InvalidInput

router = strict_router(prefix="/packs", tags=["packs"])

Name = Annotated[str, Field(min_length=1, max_length=128), NoNul]


class BundleUpload(StrictModel):
    manifest: dict[str, Any] = Field(description="bundle.json: format, name, version, files")
    signature: dict[str, Any] = Field(description="bundle.sig.json: algorithm, key_id, signature")
    files: dict[str, str] = Field(description="Every file of the bundle: {path: base64}")
    release: bool = Field(
        default=False,
        description="Release the whole bundle as the database policy source's next version "
        "instead of proposing its changed packs as drafts",
    )


class Promotion(StrictModel):
    to: Literal["shadow", "canary", "active", "retired"]
    percent: float | None = Field(default=None, description="Canary share, 0-100 (canary only)")
    gate: Literal["bayes", "z"] = "bayes"
    minimum_sample: int = Field(default=200, ge=1, le=1_000_000)


class CanaryStep(StrictModel):
    percent: float = Field(description="The canary's share of subjects, within 0-100")


class Rollback(StrictModel):
    reason: Annotated[str, Field(min_length=1, max_length=500), NoNul]


class Outcome(StrictModel):
    decision_id: Annotated[str, Field(min_length=1, max_length=128), NoNul]
    correct: Literal["allow", "flag", "deny", "error"] = Field(
        description="The verdict that was right for this shadowed decision"
    )


class PipelineRow(StrictModel):
    pack: str
    champion: dict[str, Any] | None
    challenger: dict[str, Any] | None


class PipelineStatus(StrictModel):
    packs: list[PipelineRow]


class UploadResult(StrictModel):
    bundle: dict[str, Any]
    proposals: list[PipelineRow]


class DiffResult(StrictModel):
    before: dict[str, Any]
    after: dict[str, Any]
    changes: list[dict[str, Any]]


def _platform_admin(request: Request) -> str:
    """Who moves the shared packs: a platform principal, or 403 with the reason."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and getattr(principal, "tenant_id", None) != ALL_TENANTS:
        raise Forbidden(
            "policy packs are shared by every tenant: only a platform admin may move them",
            code=ApiCode.PACKS_PLATFORM_ONLY,
        )
    return principal_id(request)


Actor = Annotated[str, Depends(_platform_admin)]


def _sees_all(request: Request) -> bool:
    principal = getattr(request.state, "principal", None)
    return principal is None or getattr(principal, "tenant_id", None) == ALL_TENANTS


def _for_caller(row: dict[str, Any], every: bool) -> dict[str, Any]:
    """A tenant sees the statistics, never the decisions that differ (other tenants')."""
    challenger = row.get("challenger")
    if every or not challenger:
        return row
    shadow = {k: v for k, v in challenger["shadow"].items() if k != "differing"}
    return {**row, "challenger": {**challenger, "shadow": shadow}}


def _percent(value: float | None) -> None:
    if value is not None and not 0 < value <= 100:
        raise InvalidInput(
            "canary percentage must be within 0-100",
            errors=[FieldError("/percent", "must be > 0 and <= 100")],
        )


@router.get("/pipeline", summary="Champion and challenger of every pack, with statistics")
def pipeline(request: Request, kernel: Kernel = Depends(get_kernel)) -> PipelineStatus:
    every = _sees_all(request)
    kernel.governance.refresh(force=True)
    rows = [_for_caller(r, every) for r in kernel.governance.status()]
    return PipelineStatus.model_validate({"packs": rows})


@router.get("/{name}/pipeline", summary="One pack's champion, challenger and statistics")
def pack_pipeline(name: str, request: Request, kernel: Kernel = Depends(get_kernel)) -> PipelineRow:
    kernel.governance.refresh(force=True)
    kernel.governance.champion(name)  # 404 for a pack that is not loaded
    row = kernel.governance.status(name)[0]
    return PipelineRow.model_validate(_for_caller(row, _sees_all(request)))


@router.get("/{name}/diff", summary="Verdict changes between the champion and its challenger")
def pack_diff(name: str, kernel: Kernel = Depends(get_kernel)) -> DiffResult:
    from paygod.decisions.semantic_lint import diff_verdicts

    kernel.governance.refresh(force=True)
    old, new = kernel.governance.champion(name), kernel.governance.challenger(name).pack
    changes = diff_verdicts(old, new)
    return DiffResult(
        before={"pack": old.name, "version": old.version, "digest": old.digest},
        after={"pack": new.name, "version": new.version, "digest": new.digest},
        changes=[c.as_dict() for c in changes],
    )


@router.post(
    "/bundles", status_code=201, summary="Upload a signed bundle: its changed packs become drafts"
)
@sealing
def upload_bundle(
    body: BundleUpload, actor: Actor, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    trusted = kernel.settings.packs_trusted_keys
    keyring = Keyring.load(trusted) if trusted is not None else None
    kernel.governance.refresh(force=True)
    result: dict[str, Any] = kernel.governance.upload(
        body.manifest,
        body.signature,
        body.files,
        keyring=keyring,
        actor=actor,
        release=body.release,
    )
    return result


@router.post("/{name}/promote", summary="Move the challenger one stage on (sealed)")
@sealing
def promote(
    name: str, body: Promotion, actor: Actor, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    _percent(body.percent)
    kernel.governance.refresh(force=True)
    result: dict[str, Any] = kernel.governance.promote(
        name,
        Stage(body.to),
        actor=actor,
        percent=body.percent,
        gate=body.gate,
        minimum_sample=body.minimum_sample,
    )
    return result


@router.post("/{name}/canary", summary="Step the canary's share of subjects (sealed)")
@sealing
def canary(
    name: str, body: CanaryStep, actor: Actor, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    _percent(body.percent)
    kernel.governance.refresh(force=True)
    result: dict[str, Any] = kernel.governance.set_canary_percent(name, body.percent, actor=actor)
    return result


@router.post("/{name}/rollback", summary="Back to the champion in one step (sealed)")
@sealing
def rollback(
    name: str, body: Rollback, actor: Actor, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    kernel.governance.refresh(force=True)
    result: dict[str, Any] = kernel.governance.rollback(name, actor=actor, reason=body.reason)
    return result


@router.post("/{name}/outcomes", summary="A reviewed outcome of a shadowed decision (sealed)")
@sealing
def outcome(
    name: str, body: Outcome, actor: Actor, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    """Both sides' verdicts are read from the sealed decision, never taken from the body."""
    kernel.governance.refresh(force=True)
    sealed = kernel.decisions.get(body.decision_id)
    champion = next((p for p in sealed.get("packs", []) if p["name"] == name), None)
    shadow = next((p for p in sealed.get("shadow", []) if p["pack"] == name), None)
    if champion is None or shadow is None:
        raise InvalidInput(
            f"decision {body.decision_id} was not shadowed for pack {name!r}",
            errors=[FieldError("/decision_id", "not a decision shadowed for this pack")],
        )
    result: dict[str, Any] = kernel.governance.record_outcome(
        name,
        decision_id=body.decision_id,
        champion=champion["decision"],
        challenger=shadow["decision"],
        correct=body.correct,
        actor=actor,
    )
    return result
