"""The ledger's HTTP read side, in process over the full app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from paygod.ledger import EntryDraft
from paygod.ledger.verifier import check_consistency, check_inclusion
from tests.support.http import api_client


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    k = build_kernel(load_settings())
    k.ledger.append_many([EntryDraft("observation", f"acct-{i % 2}", {"n": i}) for i in range(5)])
    yield k
    k.close()


@pytest.fixture
def http(kernel: Kernel) -> TestClient:
    return api_client(kernel)


def test_entries_paginate(http: TestClient) -> None:
    page = http.get("/v1/ledger/entries", params={"limit": 3}).json()
    assert [e["seq"] for e in page["entries"]] == [0, 1, 2]
    assert page["next_after"] == 2
    rest = http.get("/v1/ledger/entries", params={"after": 2}).json()
    assert [e["seq"] for e in rest["entries"]] == [3, 4]
    assert rest["next_after"] is None


def test_entry_and_unknown_seq(http: TestClient) -> None:
    entry = http.get("/v1/ledger/entries/1").json()
    assert entry["interchange"]["entry_index"] == 1
    missing = http.get("/v1/ledger/entries/99")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_bad_params_are_422_with_pointer(http: TestClient) -> None:
    bad = http.get("/v1/ledger/entries", params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "#query/limit"
    when = http.get("/v1/ledger/subjects/acct-1", params={"recorded_at": "yesterday"})
    assert when.status_code == 422
    assert when.json()["errors"][0]["pointer"] == "#query/recorded_at"
    size = http.get("/v1/ledger/proofs/inclusion/1", params={"tree_size": 50})
    assert size.status_code == 422


def test_proofs_and_head(http: TestClient) -> None:
    proof = http.get("/v1/ledger/proofs/inclusion/3", params={"tree_size": 5}).json()
    assert check_inclusion(proof) is None
    cons = http.get("/v1/ledger/proofs/consistency", params={"from": 2, "to": 5}).json()
    assert check_consistency(cons) is None
    head = http.get("/v1/ledger/head").json()
    assert head["tree_size"] == 5
    assert head["root_hash"] == proof["root_hash"]
    assert http.get("/v1/ledger/proofs/inclusion/7").status_code == 404


def test_subject_as_of(http: TestClient) -> None:
    body = http.get("/v1/ledger/subjects/acct-1").json()
    assert [e["payload"]["n"] for e in body["entries"]] == [1, 3]
    past = http.get(
        "/v1/ledger/subjects/acct-1", params={"recorded_at": "2000-01-01T00:00:00Z"}
    ).json()
    assert past["entries"] == []


@pytest.mark.parametrize(
    ("path", "params", "pointer"),
    [
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": 0}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": 6}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": -1}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": "abc"}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": "2.0"}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": "1e1"}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": str(2**64)}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1", {"tree_size": "9" * 5000}, "#query/tree_size"),
        # The entry exists, but not in a tree that small (RFC 9162 needs leaf_index < size).
        ("/v1/ledger/proofs/inclusion/3", {"tree_size": 3}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/3", {"tree_size": 1}, "#query/tree_size"),
        ("/v1/ledger/proofs/inclusion/1.0", {}, "#path/seq"),
        ("/v1/ledger/proofs/inclusion/" + str(2**64), {}, "#path/seq"),
        ("/v1/ledger/proofs/consistency", {}, "#query/from"),
        ("/v1/ledger/proofs/consistency", {"from": 3, "to": 2}, "#query/from"),
        ("/v1/ledger/proofs/consistency", {"from": 6}, "#query/from"),
        ("/v1/ledger/proofs/consistency", {"from": -1, "to": 2}, "#query/from"),
        ("/v1/ledger/proofs/consistency", {"from": 0, "to": -1}, "#query/to"),
        ("/v1/ledger/proofs/consistency", {"from": 1, "to": 6}, "#query/to"),
        ("/v1/ledger/proofs/consistency", {"from": "x", "to": 2}, "#query/from"),
        ("/v1/ledger/proofs/consistency", {"from": 1, "to": "2.0"}, "#query/to"),
        ("/v1/ledger/proofs/consistency", {"from": str(2**64)}, "#query/from"),
        ("/v1/ledger/proofs/consistency", {"from": 1, "to": "9" * 5000}, "#query/to"),
    ],
)
def test_proof_parameters_out_of_range_are_422_with_pointer(
    http: TestClient, path: str, params: dict[str, object], pointer: str
) -> None:
    response = http.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def test_proofs_at_the_edge_sizes(http: TestClient) -> None:
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    none = http.get("/v1/ledger/proofs/consistency", params={"from": 0, "to": 0}).json()
    assert none == {
        "first_size": 0,
        "second_size": 0,
        "first_root": empty,
        "second_root": empty,
        "consistency_path": [],
    }
    assert check_consistency(none) is None
    from_empty = http.get("/v1/ledger/proofs/consistency", params={"from": 0, "to": 5}).json()
    assert from_empty["first_root"] == empty and from_empty["consistency_path"] == []
    assert check_consistency(from_empty) is None
    same = http.get("/v1/ledger/proofs/consistency", params={"from": 5}).json()
    assert same["first_root"] == same["second_root"] and same["consistency_path"] == []
    assert check_consistency(same) is None
    last = http.get("/v1/ledger/proofs/inclusion/4", params={"tree_size": 5}).json()
    assert check_inclusion(last) is None
    for seq in (-1, 5):
        missing = http.get(f"/v1/ledger/proofs/inclusion/{seq}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
