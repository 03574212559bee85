"""The one chain holds every tenant's entries; each tenant reads only its own over HTTP."""

from __future__ import annotations

import pytest

from paygod.bootstrap import Kernel
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


def test_a_tenant_sees_the_shared_tree_only_through_proofs_of_its_own_entries(
    kernel: Kernel,
) -> None:
    from paygod.ledger.verifier import check_inclusion, check_tree_head

    mine = kernel.ledger.append(EntryDraft("note", "acct-1", {"n": 1}, tenant_id="acme"))
    kernel.ledger.flush_tree_head()  # the schedule's head, covering acme's entry
    for n in range(5):  # globex's activity after it
        kernel.ledger.append(EntryDraft("note", "acct-2", {"n": n}, tenant_id="globex"))
    for role in ("operator", "auditor", "admin"):
        tenant = api_client(kernel, principal_headers(kernel, roles=[role], tenant_id="acme"))
        # The global head and consistency proofs are the platform's: 403 for a tenant.
        assert tenant.get("/v1/ledger/head").status_code == 403, role
        consistency = tenant.get("/v1/ledger/proofs/consistency", params={"from": 1})
        assert consistency.status_code == 403, role
    auditor = api_client(kernel, principal_headers(kernel, roles=["auditor"], tenant_id="acme"))
    proof = auditor.get(f"/v1/ledger/proofs/inclusion/{mine.seq}").json()
    # At the signed head that covers the entry (size 1), not the live size (6), and with
    # that head, so the proof verifies on its own.
    assert proof["tree_size"] == proof["tree_head"]["tree_size"] == 1
    assert check_inclusion(proof) is None
    assert check_tree_head(proof["tree_head"], kernel.ledger.public_key_pem()) is None
    assert proof["root_hash"] == proof["tree_head"]["root_hash"]
    # Asking at a size beyond the published head is not a way to probe the live size.
    probe = auditor.get(f"/v1/ledger/proofs/inclusion/{mine.seq}", params={"tree_size": 3})
    assert probe.status_code == 404
    admin = api_client(kernel)  # the platform admin sees the whole tree
    assert admin.get("/v1/ledger/head").json()["tree_size"] == 6
    assert admin.get(f"/v1/ledger/proofs/inclusion/{mine.seq}").json()["tree_size"] == 6
