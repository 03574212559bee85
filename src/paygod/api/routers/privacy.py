"""The PII vault, erasure, subject access, legal holds and retention over HTTP
(`/v1/compliance/...`, compliance officers). docs/privacy.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, Field

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.payments import tenant_of
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel

router = strict_router(prefix="/compliance", tags=["privacy"])

Subject = Annotated[str, Field(min_length=5, max_length=256, description="urn:..."), NoNul]


class RecordIn(StrictModel):
    vaulted = ("/data",)  # sealed in the vault; the ledger sees its digest and URN only
    subject: Subject
    record_class: str = Field(alias="class", description="payee, account, payment, kyc, other")
    data: dict[str, Any]


class ErasureIn(StrictModel):
    subject: Subject


class HoldIn(StrictModel):
    subject: Subject
    reason: Annotated[str, Field(min_length=1, max_length=500), NoNul]


class PolicyIn(StrictModel):
    max_age_days: int = Field(ge=1, le=36_500)


class VaultRecordOut(BaseModel):
    record: str
    subject: str
    record_class: str = Field(alias="class")
    digest: str
    created_at: str
    data: dict[str, Any] | None = None


class ErasureOut(BaseModel):
    subject: str
    erased_at: str
    requested_by: str
    records: int
    seq: int
    entry_id: str


class ExportOut(BaseModel):
    export: dict[str, Any]
    digest: str
    access_seq: int = Field(description="The gdpr.access entry recording this export")


class HoldOut(BaseModel):
    subject: str
    reason: str
    placed_by: str
    placed_at: str


class HoldsOut(BaseModel):
    holds: list[HoldOut]


class ReleaseOut(BaseModel):
    subject: str
    released_by: str
    at: str


class PolicyOut(BaseModel):
    data_class: str
    max_age_days: int
    set_by: str
    set_at: str


class PoliciesOut(BaseModel):
    policies: list[PolicyOut]


class RunOut(BaseModel):
    tenant_id: str
    at: str
    run_by: str
    policies: list[PolicyOut]
    shredded_subjects: list[str]
    held_subjects: list[str]
    counts: dict[str, int]
    seq: int


@router.post("/vault/records", status_code=201, summary="Seal a subject's personal data")
@sealing
def put_record(body: RecordIn, request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    record, _ = kernel.privacy.vault.put(
        tenant_of(request, kernel), body.subject, body.record_class, body.data
    )
    return record.reference()


@router.get(
    "/vault/records/{record_id}",
    response_model=VaultRecordOut,
    summary="A record decrypted; 410 Gone (with erased_at) once its subject was erased",
)
def get_record(record_id: str, request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    return kernel.privacy.vault.read(tenant_of(request, kernel), record_id)


@router.post("/erasure", summary="Erase a data subject by destroying their key (GDPR art. 17)")
@sealing
def erase(body: ErasureIn, request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    return kernel.privacy.vault.erase(
        tenant_of(request, kernel), body.subject, principal_id(request)
    )


@router.get(
    "/subjects/{subject}/export",
    response_model=ExportOut,
    summary="Everything about a subject (GDPR art. 15); recorded as a gdpr.access entry",
)
def export(subject: str, request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    return kernel.privacy.vault.export(tenant_of(request, kernel), subject, principal_id(request))


@router.get("/holds", response_model=HoldsOut, summary="Legal holds of the tenant")
def holds(request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    found = kernel.privacy.retention.holds(tenant_of(request, kernel))
    return {"holds": [h.as_dict() for h in found]}


@router.post("/holds", status_code=201, summary="Place a legal hold: no erasure, no retention")
@sealing
def place_hold(body: HoldIn, request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    hold = kernel.privacy.retention.hold(
        tenant_of(request, kernel), body.subject, body.reason, principal_id(request)
    )
    return hold.as_dict()


@router.delete("/holds/{subject}", summary="Release a legal hold")
@sealing
def release_hold(subject: str, request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    return kernel.privacy.retention.release(
        tenant_of(request, kernel), subject, principal_id(request)
    )


@router.get("/retention", response_model=PoliciesOut, summary="Retention policies")
def policies(request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    found = kernel.privacy.retention.policies(tenant_of(request, kernel))
    return {"policies": [p.as_dict() for p in found]}


@router.put("/retention/{data_class}", summary="Set a data class's maximum age")
@sealing
def set_policy(
    data_class: str, body: PolicyIn, request: Request, kernel: Kernel = Depends(get_kernel)
) -> Any:
    policy = kernel.privacy.retention.set_policy(
        tenant_of(request, kernel), data_class, body.max_age_days, principal_id(request)
    )
    return policy.as_dict()


@router.post("/retention/run", summary="Apply the retention policies now")
@sealing
def run(request: Request, kernel: Kernel = Depends(get_kernel)) -> Any:
    return kernel.privacy.retention.run(tenant_of(request, kernel), principal_id(request))
