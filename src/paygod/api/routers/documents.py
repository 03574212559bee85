"""Documents over HTTP: upload (JSON, the bytes in base64), metadata, content.

Every body this API reads is strict JSON (api/routing.py), so the bytes travel base64; the
size limit is PAYGOD_DOCUMENT_MAX_BYTES (and the request's PAYGOD_MAX_BODY_BYTES), the
media type must be allowed and the bytes must look like it. Every download is sealed first.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.accounting import Tenant
from paygod.api.routers.admin import principal_id
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel
from paygod.documents.model import Document
from paygod.documents.service import DocumentService
from paygod.kernel.errors import FieldError, InvalidInput

router = strict_router(prefix="/documents", tags=["documents"])


def documents_of(kernel: Kernel = Depends(get_kernel)) -> DocumentService:
    return kernel.documents


Documents = Annotated[DocumentService, Depends(documents_of)]


class DocumentsOut(BaseModel):
    documents: list[Document]


class DocumentIn(StrictModel):
    kind: str = Field(description="statement, contract, kyc or other")
    media_type: str = Field(max_length=100, description="application/pdf, image/png, ...")
    content_base64: str = Field(description="The document's bytes, base64 (RFC 4648 §4)")
    owner_subject: Annotated[str | None, Field(max_length=256), NoNul] = None
    retention_class: str | None = Field(default=None, max_length=40)


@router.post("", status_code=201, summary="Store a document (sealed by its sha256)")
@sealing
def upload(
    body: DocumentIn, request: Request, tenant: Tenant, service: Documents
) -> dict[str, Any]:
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "content_base64 is not base64",
            errors=[FieldError("/content_base64", "expected standard base64")],
        ) from None
    document = service.put(
        tenant,
        kind=body.kind,
        media_type=body.media_type,
        content=content,
        owner_subject=body.owner_subject,
        retention_class=body.retention_class,
        actor=principal_id(request),
    )
    return document.as_dict()


@router.get("", response_model=DocumentsOut, summary="The tenant's documents")
def list_documents(
    tenant: Tenant,
    service: Documents,
    owner_subject: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    return {"documents": [d.as_dict() for d in service.find(tenant, owner_subject)]}


@router.get("/{document_id}", response_model=Document, summary="A document's metadata")
def get_document(document_id: str, tenant: Tenant, service: Documents) -> dict[str, Any]:
    return service.get(tenant, document_id).as_dict()


@router.get(
    "/{document_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
    summary="The document's bytes (the download is sealed first)",
)
def get_content(document_id: str, request: Request, tenant: Tenant, service: Documents) -> Response:
    document, content = service.content(tenant, document_id, actor=principal_id(request))
    return Response(
        content,
        media_type=document.media_type,
        headers={
            "Digest": f"sha-256=:{_b64(document.digest)}:",
            "Content-Disposition": f'attachment; filename="{document.document_id}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _b64(digest: str) -> str:
    return base64.b64encode(bytes.fromhex(digest.removeprefix("sha256:"))).decode()
