"""Documents on a real kernel (SQLite): stored by digest, sealed, downloads audited,
expired past retention with the digest kept in the ledger."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import Gone, InvalidInput, NotFound

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n% a contract\n"


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[tuple[Kernel, ManualClock]]:
    clock = ManualClock(T0)
    built = build_kernel(clock=clock)
    try:
        yield built, clock
    finally:
        built.close()


def test_store_read_audit_expire(kernel: tuple[Kernel, ManualClock]) -> None:
    k, clock = kernel
    doc = k.documents.put(
        "default", kind="contract", media_type="application/pdf", content=PDF,
        owner_subject="customer:42", retention_class="transient_30d", actor="clerk",
    )  # fmt: skip
    assert doc.digest == "sha256:" + hashlib.sha256(PDF).hexdigest() and doc.size == len(PDF)
    [stored] = k.ledger.history(f"document:{doc.document_id}")
    assert stored.kind == "document.stored" and stored.payload["digest"] == doc.digest
    with pytest.raises(NotFound):
        k.documents.get("other-tenant", doc.document_id)
    _, content = k.documents.content("default", doc.document_id, actor="auditor")
    assert content == PDF
    accessed = k.ledger.history(f"document:{doc.document_id}")[-1]
    assert accessed.kind == "document.accessed" and accessed.payload["actor"] == "auditor"
    assert k.documents.expire() == 0
    clock.advance(31 * 86400)
    assert k.documents.expire() == 1
    with pytest.raises(Gone):
        k.documents.content("default", doc.document_id, actor="auditor")
    assert not k.documents.objects.exists("default", doc.digest)
    deleted = k.ledger.history(f"document:{doc.document_id}")[-1]
    assert deleted.kind == "document.deleted" and deleted.payload["digest"] == doc.digest


def test_bad_uploads_record_nothing(kernel: tuple[Kernel, ManualClock]) -> None:
    k, _ = kernel
    before = k.ledger.size
    bad = [
        ({"kind": "will", "media_type": "application/pdf", "content": PDF}, "/kind"),
        ({"kind": "kyc", "media_type": "application/zip", "content": PDF}, "/media_type"),
        ({"kind": "kyc", "media_type": "image/png", "content": PDF}, "/content"),
        ({"kind": "kyc", "media_type": "text/plain", "content": b"\xff\xfe"}, "/content"),
        ({"kind": "kyc", "media_type": "text/plain", "content": b""}, "/content"),
    ]
    for body, pointer in bad:
        with pytest.raises(InvalidInput) as refused:
            k.documents.put("default", actor="a", **body)  # type: ignore[arg-type]
        assert refused.value.errors[0].pointer == pointer
    k.documents.max_bytes = 8
    with pytest.raises(InvalidInput):
        k.documents.put(
            "default", kind="other", media_type="text/plain", content=b"x" * 9, actor="a"
        )
    assert k.ledger.size == before and k.documents.find("default") == []


def test_a_legal_hold_keeps_a_document_past_its_retention(
    kernel: tuple[Kernel, ManualClock],
) -> None:
    k, clock = kernel
    doc = k.documents.put(
        "default", kind="other", media_type="text/plain", content=b"keep me",
        owner_subject="urn:paygod:person:held", actor="clerk",
    )  # fmt: skip
    k.privacy.retention.hold("default", "urn:paygod:person:held", "litigation", actor="counsel")
    clock.advance(31 * 86400)
    assert k.documents.expire() == 0
    assert k.documents.content("default", doc.document_id, actor="counsel")[1] == b"keep me"
    k.privacy.retention.release("default", "urn:paygod:person:held", actor="counsel")
    assert k.documents.expire() == 1
