"""The one chain holds every tenant's entries; each tenant reads only its own over HTTP."""

from __future__ import annotations

import pytest

from paygod.kernel.bootstrap import Kernel
from paygod.ledger import EntryDraft
from tests.support.http import api_client, principal_headers


@pytest.fixture
def kernel(standalone_kernel: Kernel) -> Kernel:
    return standalone_kernel


def test_another_tenants_entries_are_invisible(kernel: Kernel) -> None:
    mine = kernel.ledger.append(EntryDraft("note", "acct-1", {"n": 1}, tenant_id="acme"))
    theirs = kernel.ledger.append(EntryDraft("note", "acct-2", {"n": 2}, tenant_id="globex"))
    auditor = api_client(kernel, principal_headers(kernel, roles=["auditor"], tenant_id="acme"))

    listed = auditor.get("/v1/ledger/entries").json()["entries"]
    assert {e["tenant_id"] for e in listed} == {"acme"}
    assert auditor.get(f"/v1/ledger/entries/{mine.seq}").status_code == 200
    assert auditor.get(f"/v1/ledger/entries/{theirs.seq}").status_code == 404
    assert auditor.get(f"/v1/ledger/proofs/inclusion/{theirs.seq}").status_code == 404
    assert auditor.get("/v1/ledger/subjects/acct-2").json()["entries"] == []
    assert auditor.get("/v1/ledger/subjects/acct-2?tenant_id=globex").status_code == 404

    admin = api_client(kernel)  # a platform admin reads every tenant
    assert admin.get(f"/v1/ledger/entries/{theirs.seq}").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/v1/ledger/entries/99999999999999999999999",
        "/v1/ledger/entries?after=99999999999999999999999",
        "/v1/ledger/proofs/inclusion/99999999999999999999999",
        "/v1/ledger/proofs/consistency?from=0&to=99999999999999999999999",
    ],
)
def test_out_of_range_numbers_are_bad_input_not_a_crash(kernel: Kernel, url: str) -> None:
    response = api_client(kernel).get(url)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
