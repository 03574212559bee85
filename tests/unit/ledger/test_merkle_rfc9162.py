"""RFC 9162 / RFC 6962 tree hashing and proof verification against the published CT vectors
(the 8-leaf reference tree of the Certificate Transparency / transparency-dev test suites)."""

from __future__ import annotations

import pytest

from paygod.ledger import merkle
from paygod.ledger.verifier import (
    EMPTY_ROOT,
    check_consistency,
    check_inclusion,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency_raw,
    verify_inclusion_raw,
)

LEAVES = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
INCLUSION = [  # (leaf_index, tree_size, audit_path)
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (first, second, path)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def _levels() -> list[list[bytes]]:
    levels = [[leaf_hash(leaf) for leaf in LEAVES]]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([node_hash(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)])
    return levels


LEVELS = _levels()


def read(level: int, index: int) -> bytes:
    return LEVELS[level][index]


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert EMPTY_ROOT == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([]).hex() == EMPTY_ROOT
    assert merkle.Tree(read, 0).root().hex() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_vectors(size: int) -> None:
    assert merkle.Tree(read, size).root().hex() == ROOTS[size]
    assert merkle_root(LEVELS[0][:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    proof = merkle.inclusion_proof(read, 8, index, size)
    assert list(proof.audit_path) == path
    assert proof.root_hash == ROOTS[size]
    assert check_inclusion(proof.as_dict()) is None


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_vectors(first: int, second: int, path: list[str]) -> None:
    proof = merkle.consistency_proof(read, 8, first, second)
    assert list(proof.consistency_path) == path
    assert check_consistency(proof.as_dict()) is None


def _h(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def test_inclusion_rejections() -> None:
    leaf = LEVELS[0][0]
    root = bytes.fromhex(ROOTS[8])
    path = _h(INCLUSION[1][2])
    assert verify_inclusion_raw(0, 8, leaf, path, root) is None
    assert "too short" in str(verify_inclusion_raw(0, 8, leaf, path[:-1], root))
    assert "too long" in str(verify_inclusion_raw(0, 8, leaf, [*path, path[0]], root))
    assert verify_inclusion_raw(8, 8, leaf, path, root) is not None  # index >= size
    assert verify_inclusion_raw(0, 0, leaf, [], EMPTY_ROOT_BYTES) is not None  # empty tree
    assert verify_inclusion_raw(1, 8, leaf, path, root) is not None  # wrong index
    assert verify_inclusion_raw(0, 4, leaf, path, root) is not None  # wrong size
    assert verify_inclusion_raw(0, 8, LEVELS[0][1], path, root) is not None  # wrong leaf
    # single-entry tree: empty path, the root is the leaf hash
    assert verify_inclusion_raw(0, 1, leaf, [], leaf) is None
    assert verify_inclusion_raw(0, 1, leaf, [leaf], leaf) is not None


EMPTY_ROOT_BYTES = bytes.fromhex(EMPTY_ROOT)


def test_consistency_rejections() -> None:
    r1, r8 = bytes.fromhex(ROOTS[1]), bytes.fromhex(ROOTS[8])
    r6 = bytes.fromhex(ROOTS[6])
    path = _h(CONSISTENCY[2][2])
    assert verify_consistency_raw(6, 8, r6, r8, path) is None
    assert verify_consistency_raw(6, 8, r6, r8, path[:-1]) is not None  # too short
    assert verify_consistency_raw(6, 8, r6, r8, [*path, path[0]]) is not None  # too long
    assert verify_consistency_raw(6, 8, r8, r8, path) is not None  # wrong first root
    assert verify_consistency_raw(6, 16, r6, r8, path) is not None  # wrong size
    assert verify_consistency_raw(8, 6, r8, r6, path) is not None  # first > second
    assert verify_consistency_raw(6, 8, r6, r8, []) is not None  # empty path, sizes differ
    # equal sizes: empty path and equal roots only
    assert verify_consistency_raw(8, 8, r8, r8, []) is None
    assert verify_consistency_raw(8, 8, r8, r1, []) is not None
    assert verify_consistency_raw(8, 8, r8, r8, [r1]) is not None
    # from the empty tree every tree is consistent, with an empty path
    assert verify_consistency_raw(0, 8, EMPTY_ROOT_BYTES, r8, []) is None
    assert verify_consistency_raw(0, 8, EMPTY_ROOT_BYTES, r8, [r1]) is not None
    assert verify_consistency_raw(0, 0, EMPTY_ROOT_BYTES, EMPTY_ROOT_BYTES, []) is None


def test_malformed_proofs_raise() -> None:
    from paygod.ledger.verifier import Malformed, check_proof_document

    with pytest.raises(Malformed):
        check_proof_document({"leaf_index": 0, "tree_size": 1})
    with pytest.raises(Malformed):
        check_proof_document(
            {"leaf_index": -1, "tree_size": 1, "leaf_hash": "00" * 32, "audit_path": [],
             "root_hash": "00" * 32}
        )  # fmt: skip
    with pytest.raises(Malformed):
        check_proof_document(
            {"first_size": 1, "second_size": 2, "first_root": "zz", "second_root": "00" * 32,
             "consistency_path": []}
        )  # fmt: skip
    with pytest.raises(Malformed):
        check_proof_document([1, 2])


def _read_many(keys: object) -> dict[tuple[int, int], bytes]:
    return {key: read(*key) for key in keys}  # type: ignore[attr-defined]


def test_proofs_through_the_shared_range_cache_match_the_vectors_every_time() -> None:
    # The receipts of one tree size share the right edge's composite hashes; a cached
    # range must give the very proof the vectors give, on a miss and on a hit alike.
    ranges = merkle.RangeHashes()
    for _round in range(2):
        for index, size, path in INCLUSION:
            proof = merkle.prefetched(
                _read_many,
                lambda r, c, h, i=index, s=size: merkle.inclusion_proof(r, 8, i, s, c, h),
                ranges,
            )
            assert list(proof.audit_path) == path and proof.root_hash == ROOTS[size]
        for first, second, path in CONSISTENCY:
            proof_c = merkle.prefetched(
                _read_many,
                lambda r, c, h, f=first, s=second: merkle.consistency_proof(r, 8, f, s, c, h),
                ranges,
            )
            assert list(proof_c.consistency_path) == path
        for size in range(1, 9):
            root = merkle.prefetched(
                _read_many, lambda r, c, h, s=size: merkle.Tree(r, s, c, h).root(), ranges
            )
            assert root.hex() == ROOTS[size]
    assert ranges.get((0, 5)) == bytes.fromhex(ROOTS[5])  # a composite range was kept


def test_a_range_dropped_from_the_cache_between_the_two_passes_is_still_served() -> None:
    # The first pass saw (0, 6) cached and so listed none of the nodes below it; the
    # cache is then cleared (full, or another thread): the second pass keeps what it saw.
    ranges = merkle.RangeHashes()
    ranges.put((0, 6), bytes.fromhex(ROOTS[6]))
    fetched: list[set[tuple[int, int]]] = []

    def read_many(keys: object) -> dict[tuple[int, int], bytes]:
        fetched.append(set(keys))  # type: ignore[call-overload]
        ranges._hashes.clear()
        return _read_many(keys)

    root = merkle.prefetched(read_many, lambda r, c, h: merkle.Tree(r, 6, c, h).root(), ranges)
    assert root.hex() == ROOTS[6] and fetched == [set()]


def test_the_listing_pass_hashes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[int] = []
    real = merkle.node_hash

    def counting(left: bytes, right: bytes) -> bytes:
        hashed.append(1)
        return real(left, right)

    monkeypatch.setattr(merkle, "node_hash", counting)
    tree = merkle.Tree(lambda level, index: bytes(32), 7, None, hashing=False)
    tree.root()
    tree.path(6, 0, 7)
    assert hashed == []
    merkle.Tree(read, 7).root()
    assert len(hashed) == 2  # 7 = 4 + 2 + 1: two composite ranges


def _frontier(size: int) -> list[tuple[int, bytes]]:
    """The perfect subtrees of the right edge of a tree of `size` vector leaves."""
    frontier, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            frontier.append((level, LEVELS[level][start >> level]))
            start += 1 << level
    return frontier


@pytest.mark.parametrize("size", range(1, 9))
def test_a_kept_right_edge_gives_the_root_and_proofs_that_hash_nothing(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranges = merkle.RangeHashes()
    assert ranges.keep_edge(size, _frontier(size)).hex() == ROOTS[size]
    hashed: list[int] = []
    real = merkle.node_hash
    monkeypatch.setattr(merkle, "node_hash", lambda a, b: hashed.append(1) or real(a, b))
    for index in range(size):
        proof = merkle.prefetched(
            _read_many,
            lambda r, c, h, i=index: merkle.inclusion_proof(r, 8, i, size, c, h),
            ranges,
        )
        assert proof.root_hash == ROOTS[size] and check_inclusion(proof.as_dict()) is None
    assert hashed == []
