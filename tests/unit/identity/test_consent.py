from __future__ import annotations

import pytest

from paygod.bootstrap import Kernel
from paygod.identity.consent import ConsentChecker
from paygod.identity.service import IdentityService
from paygod.kernel.errors import InvalidInput
from tests.support.http import api_client


def test_record_query_revoke(identity: IdentityService) -> None:
    consent = identity.consent
    check: ConsentChecker = consent.check
    assert not check("acme", "urn:subject:1", "marketing")
    consent.record("acme", "urn:subject:1", "marketing", granted=True, actor="p1")
    consent.record("acme", "urn:subject:1", "credit_scoring", granted=True, actor="p1")
    assert check("acme", "urn:subject:1", "marketing")
    consent.record("acme", "urn:subject:1", "marketing", granted=False, actor="p1")
    assert not check("acme", "urn:subject:1", "marketing")
    assert check("acme", "urn:subject:1", "credit_scoring")
    assert not check("globex", "urn:subject:1", "credit_scoring")
    assert [r.granted for r in consent.history("acme", "urn:subject:1")] == [True, True, False]


def test_subjects_are_references_not_personal_data(identity: IdentityService) -> None:
    with pytest.raises(InvalidInput):
        identity.consent.record("acme", "Jane Doe", "marketing", granted=True, actor="p1")


def test_consent_changes_are_ledger_entries(kernel: Kernel) -> None:
    http = api_client(kernel)
    body = {"subject": "urn:subject:7", "purpose": "marketing", "tenant_id": "acme"}
    assert http.post("/v1/identity/consents", json=body).status_code == 201
    revoked = http.delete("/v1/identity/consents/urn:subject:7/marketing?tenant_id=acme")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    history = kernel.ledger.history("consent:urn:subject:7:marketing", tenant_id="acme")
    assert [e.payload["status"] for e in history] == ["granted", "revoked"]
    current = http.get("/v1/identity/consents/urn:subject:7?tenant_id=acme").json()
    assert current["purposes"]["marketing"]["status"] == "revoked"
