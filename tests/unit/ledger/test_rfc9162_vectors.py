"""Conformance with the published RFC 9162 / RFC 6962 vectors of transparency-dev/merkle
(tests/fixtures/rfc9162, see its README): tree roots, proof generation and verification, and
every mutation of proof/verify_test.go rejected.

Three layers are checked against the same vectors: `merkle` (proof generation over stored
nodes), `verifier.verify_*_raw` (the RFC 9162 algorithms over bytes) and
`verifier.check_*` (the JSON documents that `paygod ledger check-proof` reads).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase, migrate
from paygod.kernel.errors import InvalidInput
from paygod.ledger import EntryDraft, LedgerService, merkle
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.ledger.stores.sqlite import SqliteLedgerStore
from paygod.ledger.verifier import (
    EMPTY_ROOT,
    Malformed,
    check_consistency,
    check_inclusion,
    check_proof_document,
    interchange_leaf_hash,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency_raw,
    verify_inclusion_raw,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rfc9162"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
LEAF_INPUTS = [bytes.fromhex(x) for x in REFERENCE["leaf_inputs"]]
NODES = [[bytes.fromhex(h) for h in level] for level in REFERENCE["node_hashes"]]
ROOTS = [bytes.fromhex(h) for h in REFERENCE["root_hashes"]]  # by size, from 0
SOME_HASH = bytes.fromhex(REFERENCE["some_hash"])
EMPTY = bytes.fromhex(EMPTY_ROOT)


def read(level: int, index: int) -> bytes:
    """The published node hashes as a store: `merkle` builds proofs from them alone."""
    return NODES[level][index]


def _hashes(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# --- an independent RFC 9162 §2.1 reference, straight from the definitions -------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) <= 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*rfc_path(m, d[:k]), mth(d[k:])]
    return [*rfc_path(m - k, d[k:]), mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
    if m == len(d):
        return [] if complete else [mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*rfc_subproof(m, d[:k], complete), mth(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), mth(d[:k])]


# --- the reference tree ------------------------------------------------------------------


def test_leaf_and_node_hashes_match_the_published_tree() -> None:
    leaves = [leaf_hash(x) for x in LEAF_INPUTS]
    assert leaves == NODES[0]
    for level in range(1, len(NODES)):
        below = NODES[level - 1]
        assert NODES[level] == [node_hash(below[i], below[i + 1]) for i in range(0, len(below), 2)]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert ROOTS[0] == hashlib.sha256(b"").digest() == EMPTY
    assert merkle_root([]) == EMPTY
    assert merkle.Tree(read, 0).root() == EMPTY


@pytest.mark.parametrize("size", range(0, 9))
def test_roots_for_every_size(size: int) -> None:
    assert merkle_root(NODES[0][:size]) == ROOTS[size]
    assert merkle.Tree(read, size).root() == ROOTS[size]
    assert mth(NODES[0][:size]) == ROOTS[size]


# --- inclusion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Inclusion:
    index: int
    size: int
    leaf: bytes
    path: list[bytes]
    root: bytes
    desc: str = "original"

    def doc(self) -> dict[str, Any]:
        return {
            "leaf_index": self.index,
            "tree_size": self.size,
            "leaf_hash": self.leaf.hex(),
            "audit_path": [p.hex() for p in self.path],
            "root_hash": self.root.hex(),
        }

    def raw(self) -> str | None:
        return verify_inclusion_raw(self.index, self.size, self.leaf, self.path, self.root)


def _inclusion_vector(v: dict[str, Any]) -> Inclusion:
    index = v["leaf"] - 1  # verify_test.go numbers leaves from 1
    return Inclusion(index, v["size"], NODES[0][index], _hashes(v["proof"]), ROOTS[v["size"]])


# verify_test.go inclusionProofs; its first entry, {0, 0}, is not a proof ("an invalid path").
INCLUSION = [_inclusion_vector(v) for v in REFERENCE["inclusion_proofs"][1:]]


def inclusion_mutations(p: Inclusion) -> Iterator[Inclusion]:
    """corruptInclusionProof of verify_test.go: each must be rejected."""
    yield replace(p, index=p.index - 1, desc="leafIndex - 1")
    yield replace(p, index=p.index + 1, desc="leafIndex + 1")
    yield replace(p, index=p.index ^ 2, desc="leafIndex ^ 2")
    yield replace(p, size=p.size * 2, desc="treeSize * 2")
    yield replace(p, size=p.size // 2, desc="treeSize / 2")
    yield replace(p, leaf=b"WrongLeaf", desc="wrong leaf")
    yield replace(p, leaf=hashlib.sha256(b"WrongLeaf").digest(), desc="wrong leaf, 32 bytes")
    yield replace(p, root=EMPTY, desc="empty root")
    yield replace(p, root=SOME_HASH, desc="random root")
    yield replace(p, path=[*p.path, b""], desc="trailing garbage")
    yield replace(p, path=[*p.path, p.root], desc="trailing root")
    yield replace(p, path=[b"", *p.path], desc="preceding garbage")
    yield replace(p, path=[p.root, *p.path], desc="preceding root")
    for i in range(len(p.path)):
        flipped = [*p.path]
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        yield replace(p, path=flipped, desc=f"modified proof[{i}] bit 3")
    if p.path:
        yield replace(p, path=p.path[:-1], desc="removed component")
    if len(p.path) > 1:
        yield replace(p, path=[p.path[0], SOME_HASH, *p.path[1:]], desc="inserted component")


def _is_hex_expressible(values: list[bytes]) -> bool:
    return all(len(v) == 32 for v in values)


@pytest.mark.parametrize("vector", INCLUSION, ids=lambda v: f"{v.index}-of-{v.size}")
def test_inclusion_proof_generation_matches_vector(vector: Inclusion) -> None:
    proof = merkle.inclusion_proof(read, 8, vector.index, vector.size)
    assert _hashes(list(proof.audit_path)) == vector.path
    assert proof.leaf_hash == vector.leaf.hex()
    assert proof.root_hash == vector.root.hex()
    assert proof.as_dict() == vector.doc()


@pytest.mark.parametrize("vector", INCLUSION, ids=lambda v: f"{v.index}-of-{v.size}")
def test_inclusion_vector_verifies_and_every_mutation_is_rejected(vector: Inclusion) -> None:
    assert vector.raw() is None
    assert check_inclusion(vector.doc()) is None
    mutations = list(inclusion_mutations(vector))
    assert len(mutations) >= 12
    for bad in mutations:
        if bad.index < 0 or bad.size < 0:
            continue  # leafIndex - 1 of index 0: not a uint64, a malformed document here
        assert bad.raw() is not None, bad.desc
        if _is_hex_expressible([bad.leaf, bad.root, *bad.path]):
            result = check_proof_document(bad.doc())
            assert result["valid"] is False, bad.desc
            assert result["reason"], bad.desc
        else:  # a value that is not 32 bytes cannot even be written as a hash: malformed
            with pytest.raises(Malformed):
                check_inclusion(bad.doc())


def test_inclusion_single_entry() -> None:
    """TestVerifyInclusionSingleEntry: root and leaf hash of a one-entry tree are the same."""
    h = leaf_hash(b"data")
    assert verify_inclusion_raw(0, 1, h, [], h) is None
    assert verify_inclusion_raw(0, 1, b"", [], h) is not None
    assert verify_inclusion_raw(0, 1, h, [], b"") is not None
    # An empty leaf hash "equal" to an empty root is a wrong hash size, not a proof.
    assert verify_inclusion_raw(0, 1, b"", [], b"") is not None


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_wrong_root_or_leaf_with_empty_path(index: int, size: int) -> None:
    """TestVerifyInclusion probes, and leaf_index >= tree_size however the hashes look."""
    assert verify_inclusion_raw(index, size, SOME_HASH, [], b"") is not None
    assert verify_inclusion_raw(index, size, b"", [], EMPTY) is not None
    assert verify_inclusion_raw(index, size, SOME_HASH, [], EMPTY) is not None
    if index >= size:
        assert verify_inclusion_raw(index, size, SOME_HASH, [], SOME_HASH) is not None


def test_leaf_index_not_below_tree_size_is_invalid_whatever_the_path() -> None:
    vector = INCLUSION[1]  # leaf 0 of 8
    for index, size in [(8, 8), (9, 8), (0, 0), (2**64, 2**64)]:
        doc = {**vector.doc(), "leaf_index": index, "tree_size": size}
        reason = check_inclusion(doc)
        assert reason is not None and "not below tree_size" in reason


# --- consistency -------------------------------------------------------------------------


@dataclass(frozen=True)
class Consistency:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    path: list[bytes]
    desc: str = "original"

    def doc(self) -> dict[str, Any]:
        return {
            "first_size": self.first,
            "second_size": self.second,
            "first_root": self.first_root.hex(),
            "second_root": self.second_root.hex(),
            "consistency_path": [p.hex() for p in self.path],
        }

    def raw(self) -> str | None:
        return verify_consistency_raw(
            self.first, self.second, self.first_root, self.second_root, self.path
        )


CONSISTENCY = [
    Consistency(v["size1"], v["size2"], ROOTS[v["size1"]], ROOTS[v["size2"]], _hashes(v["proof"]))
    for v in REFERENCE["consistency_proofs"]
]


def consistency_mutations(p: Consistency) -> Iterator[Consistency]:
    """corruptConsistencyProof of verify_test.go: each must be rejected."""
    yield replace(p, first=p.first - 1, desc="size1 - 1")
    yield replace(p, first=p.first + 1, desc="size1 + 1")
    yield replace(p, first=p.first ^ 2, desc="size1 ^ 2")
    yield replace(p, second=p.second * 2, desc="size2 * 2")
    yield replace(p, second=p.second // 2, desc="size2 / 2")
    yield replace(p, first_root=b"WrongRoot", desc="wrong root1")
    yield replace(p, second_root=b"WrongRoot", desc="wrong root2")
    yield replace(p, first_root=SOME_HASH, desc="random root1")
    yield replace(p, second_root=SOME_HASH, desc="random root2")
    yield replace(p, first_root=p.second_root, second_root=p.first_root, desc="swapped roots")
    yield replace(p, path=[], desc="empty proof")
    yield replace(p, path=[*p.path, b""], desc="trailing garbage")
    yield replace(p, path=[*p.path, p.first_root], desc="trailing root1")
    yield replace(p, path=[*p.path, p.second_root], desc="trailing root2")
    yield replace(p, path=[b"", *p.path], desc="preceding garbage")
    yield replace(p, path=[p.first_root, *p.path], desc="preceding root1")
    yield replace(p, path=[p.second_root, *p.path], desc="preceding root2")
    yield replace(p, path=[p.path[0], *p.path], desc="preceding proof[0]")
    yield replace(p, path=p.path[:-1], desc="truncated proof")
    for i in range(len(p.path)):
        flipped = [*p.path]
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        yield replace(p, path=flipped, desc=f"modified proof[{i}] bit 4")


@pytest.mark.parametrize("vector", CONSISTENCY, ids=lambda v: f"{v.first}-to-{v.second}")
def test_consistency_proof_generation_matches_vector(vector: Consistency) -> None:
    proof = merkle.consistency_proof(read, 8, vector.first, vector.second)
    assert _hashes(list(proof.consistency_path)) == vector.path
    assert proof.as_dict() == vector.doc()


@pytest.mark.parametrize("vector", CONSISTENCY, ids=lambda v: f"{v.first}-to-{v.second}")
def test_consistency_vector_verifies_and_every_mutation_is_rejected(
    vector: Consistency,
) -> None:
    assert vector.raw() is None
    assert check_consistency(vector.doc()) is None
    if not vector.path:
        return  # verify_test.go mutates only non-trivial proofs
    mutations = list(consistency_mutations(vector))
    assert len(mutations) >= 20
    for bad in mutations:
        assert bad.raw() is not None, bad.desc
        if _is_hex_expressible([bad.first_root, bad.second_root, *bad.path]):
            result = check_proof_document(bad.doc())
            assert result["valid"] is False, bad.desc
            assert result["reason"], bad.desc
        else:
            with pytest.raises(Malformed):
                check_consistency(bad.doc())


R1, R2 = b"don't care 1", b"don't care 2"


@pytest.mark.parametrize(
    ("first", "second", "root1", "root2", "path", "valid"),
    [  # TestVerifyConsistency of verify_test.go
        (0, 0, R1, R2, [], False),
        (1, 1, R1, R2, [], False),
        (0, 0, R1, R1, [], True),
        (0, 1, R1, R2, [], True),
        (1, 1, R2, R2, [], True),
        (1, 0, R1, R2, [], False),
        (2, 1, R1, R2, [], False),
        (1, 2, R1, R2, [], False),
        (0, 0, EMPTY, R2, [], False),
        (1, 1, EMPTY, R2, [], False),
        (0, 0, EMPTY, EMPTY, [EMPTY], False),
        (0, 1, EMPTY, EMPTY, [EMPTY], False),
        (1, 1, EMPTY, EMPTY, [EMPTY], False),
    ],
)
def test_consistency_edge_sizes_raw(
    first: int, second: int, root1: bytes, root2: bytes, path: list[bytes], valid: bool
) -> None:
    assert (verify_consistency_raw(first, second, root1, root2, path) is None) is valid


def test_consistency_documents_at_the_edges() -> None:
    r5, r8 = ROOTS[5].hex(), ROOTS[8].hex()

    def doc(first: int, second: int, root1: str, root2: str, path: list[str]) -> dict[str, Any]:
        return {
            "first_size": first,
            "second_size": second,
            "first_root": root1,
            "second_root": root2,
            "consistency_path": path,
        }

    # first_size == second_size: an empty path and equal roots, nothing else.
    assert check_consistency(doc(8, 8, r8, r8, [])) is None
    assert "roots differ" in str(check_consistency(doc(8, 8, r5, r8, [])))
    assert "must be empty" in str(check_consistency(doc(8, 8, r8, r8, [r8])))
    # From the empty tree: an empty path, and its root is SHA-256 of nothing.
    assert check_consistency(doc(0, 8, EMPTY_ROOT, r8, [])) is None
    assert check_consistency(doc(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])) is None
    assert "empty path" in str(check_consistency(doc(0, 8, EMPTY_ROOT, r8, [r8])))
    assert "empty tree" in str(check_consistency(doc(0, 8, r5, r8, [])))
    assert "empty tree" in str(check_consistency(doc(0, 0, r8, r8, [])))
    # Backwards in time.
    assert "larger than" in str(check_consistency(doc(8, 5, r8, r5, [])))


# --- the published JSON test data, file by file ------------------------------------------


def _published() -> list[Path]:
    return sorted((FIXTURES / "transparency-dev").rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


@pytest.mark.parametrize(
    "path", _published(), ids=lambda p: str(p.relative_to(FIXTURES / "transparency-dev"))
)
def test_published_test_data(path: Path) -> None:
    data = json.loads(path.read_text())
    proof = [_b64(p) for p in data["proof"] or []]
    if "leafIdx" in data:
        vector: Inclusion | Consistency = Inclusion(
            data["leafIdx"], data["treeSize"], _b64(data["leafHash"]), proof, _b64(data["root"])
        )
        values = [vector.leaf, vector.root, *proof]
    else:
        vector = Consistency(
            data["size1"], data["size2"], _b64(data["root1"]), _b64(data["root2"]), proof
        )
        values = [vector.first_root, vector.second_root, *proof]
    assert (vector.raw() is not None) is data["wantErr"], data["desc"]
    if _is_hex_expressible(values):
        assert check_proof_document(vector.doc())["valid"] is not data["wantErr"], data["desc"]
    else:
        assert data["wantErr"]
        with pytest.raises(Malformed):
            check_proof_document(vector.doc())


def test_published_test_data_is_all_there() -> None:
    files = _published()
    assert len([p for p in files if p.name == "happy-path.json"]) == 10
    assert len(files) >= 45


# --- our stores: every proof of every small tree, against the definitions ----------------


def _memory() -> tuple[LedgerService, Callable[[], None]]:
    ledger = LedgerService(MemoryLedgerStore(), ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    return ledger, ledger.close


def _sqlite(tmp_path: Path) -> tuple[LedgerService, Callable[[], None]]:
    db = SqliteDatabase(tmp_path / "ledger.db")
    migrate(db)
    ledger = LedgerService(SqliteLedgerStore(db), ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))

    def close() -> None:
        ledger.close()
        db.close()

    return ledger, close


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_store_proofs_equal_the_rfc_definitions(store: str, tmp_path: Path) -> None:
    ledger, close = _memory() if store == "memory" else _sqlite(tmp_path)
    try:
        total, batch = 21, 1
        while ledger.size < total:  # batches of 1..5, so nodes complete across batches
            count = min(batch, total - ledger.size)
            start = ledger.size
            ledger.append_many(
                [EntryDraft("observation", "s", {"n": start + j}) for j in range(count)]
            )
            batch = batch % 5 + 1
        leaves = [
            interchange_leaf_hash(e.to_interchange()) for e in ledger.entries(after=-1, limit=total)
        ]
        for n in range(1, total + 1):
            d = leaves[:n]
            assert ledger.root_hash(n) == mth(d).hex()
            for m in range(n):
                proof = ledger.inclusion_proof(m, n)
                assert proof.leaf_hash == d[m].hex()
                assert _hashes(list(proof.audit_path)) == rfc_path(m, d)
                assert proof.root_hash == mth(d).hex()
                assert check_inclusion(proof.as_dict()) is None
            for m in range(n + 1):
                cons = ledger.consistency_proof(m, n)
                expected = [] if m in (0, n) else rfc_subproof(m, d, True)
                assert _hashes(list(cons.consistency_path)) == expected
                assert cons.first_root == mth(leaves[:m]).hex()
                assert check_consistency(cons.as_dict()) is None
    finally:
        close()


@pytest.mark.parametrize(
    ("build", "pointer"),
    [
        (lambda: merkle.inclusion_proof(read, 8, 0, 9), "#query/tree_size"),
        (lambda: merkle.inclusion_proof(read, 8, 0, 0), "#query/tree_size"),
        (lambda: merkle.inclusion_proof(read, 8, 5, 5), "#query/tree_size"),
        (lambda: merkle.consistency_proof(read, 8, 0, 9), "#query/to"),
        (lambda: merkle.consistency_proof(read, 8, 0, -1), "#query/to"),
        (lambda: merkle.consistency_proof(read, 8, -1, 3), "#query/from"),
        (lambda: merkle.consistency_proof(read, 8, 4, 3), "#query/from"),
    ],
)
def test_proofs_of_sizes_out_of_range_name_the_parameter(
    build: Callable[[], object], pointer: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        build()
    assert [e.pointer for e in raised.value.errors] == [pointer]
