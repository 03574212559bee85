"""RFC 9162 §2.1 Merkle tree proofs computed from stored complete-subtree hashes.

Stores keep the hash of every perfect subtree, addressed (level, index): level 0 are the
leaves, node (l, i) covers leaves [i·2^l, (i+1)·2^l). Any range [a, b) of a tree of size
n used by PATH and SUBPROOF is either such a node or the right edge of the tree, which
splits into O(log n) of them: a proof reads O(log n) stored hashes, never the leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.ledger.model import ConsistencyProof, InclusionProof
from paygod.ledger.verifier import node_hash

NodeReader = Callable[[int, int], bytes]
NodeBatchReader = Callable[[Iterable[tuple[int, int]]], dict[tuple[int, int], bytes]]
EMPTY_ROOT = hashlib.sha256(b"").digest()
P = TypeVar("P")
_PLACEHOLDER = bytes(32)


class RangeHashes:
    """Hashes of composite ranges MTH(D[start:end]) already computed for proofs.

    Perfect subtrees are stored; the others (the right edge of each tree size) are hashed
    from them for every proof that needs one. Entries are never changed, so the hash of
    [start, end) is the same for every tree that holds `end` entries: the receipts of one
    group commit (one tree size) and later proofs share them instead of rehashing.
    """

    def __init__(self, limit: int = 8192) -> None:
        self._hashes: dict[tuple[int, int], bytes] = {}
        self._limit = limit

    def get(self, key: tuple[int, int]) -> bytes | None:
        return self._hashes.get(key)

    def put(self, key: tuple[int, int], value: bytes) -> None:
        if len(self._hashes) >= self._limit:
            self._hashes.clear()  # cheap to refill: the newest tree sizes are what is asked
        self._hashes[key] = value

    def keep_edge(self, size: int, frontier: Sequence[tuple[int, bytes]]) -> bytes:
        """Keep the composite ranges of a tree of `size` leaves whose right edge (perfect
        subtrees as (level, hash), left to right) is `frontier`; return its root.

        PATH and SUBPROOF split [start, n) at the largest power of two below its length, so
        on the right spine every composite range is a suffix [b, size) starting at one of
        the frontier's boundaries: with these kept, a proof at this size (every receipt of
        the batch that reached it) hashes nothing and reads only perfect subtrees.
        """
        if not frontier:
            return EMPTY_ROOT
        node = frontier[-1][1]
        end = size - (1 << frontier[-1][0])
        for level, left in reversed(frontier[:-1]):
            end -= 1 << level
            node = node_hash(left, node)
            self.put((end, size), node)
        return node


class _Seen:
    """The composite hashes a proof's first pass found in the shared cache, kept for its
    second pass (the cache may drop them in between, and then the nodes below them would
    not have been fetched); what the second pass computes goes to the shared cache too."""

    def __init__(self, shared: RangeHashes | None) -> None:
        self._shared = shared
        self._seen: dict[tuple[int, int], bytes] = {}
        self.recording = True

    def get(self, key: tuple[int, int]) -> bytes | None:
        if not self.recording:
            return self._seen.get(key)
        found = self._shared.get(key) if self._shared is not None else None
        if found is not None:
            self._seen[key] = found
        return found

    def put(self, key: tuple[int, int], value: bytes) -> None:
        if self._shared is not None and not self.recording:
            self._shared.put(key, value)


Build = Callable[[NodeReader, "RangeHashes | _Seen | None", bool], P]


def prefetched(read_many: NodeBatchReader, build: Build[P], ranges: RangeHashes | None = None) -> P:
    """Run `build` (a proof) with every node it needs fetched in one round trip.

    Which nodes a proof reads depends only on the sizes and indexes, never on hash values,
    so a first run with placeholder hashes (and no hashing) lists them; the second run
    computes the proof from what one batched read returned. Invalid arguments raise from
    the first run. Composite ranges found in `ranges` need none of their nodes read.
    """
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return _PLACEHOLDER

    seen = _Seen(ranges)
    build(record, seen, False)
    found = read_many(wanted)

    def read(level: int, index: int) -> bytes:
        return found[(level, index)]  # KeyError, like a store's `node`, when absent

    seen.recording = False
    return build(read, seen, True)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """A read view of a tree of `size` leaves over a node reader, memoising within a proof."""

    def __init__(
        self,
        read: NodeReader,
        size: int,
        ranges: RangeHashes | _Seen | None = None,
        hashing: bool = True,
    ) -> None:
        self._read = read
        self.size = size
        self._memo: dict[tuple[int, int], bytes] = {}
        self._ranges = ranges
        self._hashing = hashing  # False: only walk, to list the stored nodes needed

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end])."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:
            level = n.bit_length() - 1
            key = (level, start >> level)
            found = self._memo.get(key)
            if found is None:
                found = self._read(*key)
                self._memo[key] = found
            return found
        ranges = self._ranges
        if ranges is not None:
            cached = ranges.get((start, end))
            if cached is not None:
                return cached
        k = _split(n)
        left, right = self.subtree(start, start + k), self.subtree(start + k, end)
        if not self._hashing:
            return _PLACEHOLDER
        hashed = node_hash(left, right)
        if ranges is not None:
            ranges.put((start, end), hashed)
        return hashed

    def root(self) -> bytes:
        return self.subtree(0, self.size)

    def path(self, m: int, start: int, n: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(m, D[start:start+n])."""
        if n <= 1:
            return []
        k = _split(n)
        if m < k:
            return [*self.path(m, start, k), self.subtree(start + k, start + n)]
        return [*self.path(m - k, start + k, n - k), self.subtree(start, start + k)]

    def subproof(self, m: int, start: int, n: int, complete: bool) -> list[bytes]:
        """RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:start+n], b)."""
        if m == n:
            return [] if complete else [self.subtree(start, start + n)]
        k = _split(n)
        if m <= k:
            return [*self.subproof(m, start, k, complete), self.subtree(start + k, start + n)]
        return [*self.subproof(m - k, start + k, n - k, False), self.subtree(start, start + k)]


def _bad_size(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{name}: {message}", errors=[FieldError(f"#query/{name}", message)])


def inclusion_proof(
    read: NodeReader,
    size: int,
    leaf_index: int,
    tree_size: int,
    ranges: RangeHashes | _Seen | None = None,
    hashing: bool = True,
) -> InclusionProof:
    if tree_size > size:
        raise _bad_size("tree_size", f"the ledger has only {size} entries")
    if tree_size < 1:
        raise _bad_size("tree_size", "must be at least 1")
    if leaf_index < 0:
        raise NotFound(f"entry {leaf_index} does not exist")
    if leaf_index >= tree_size:
        # The entry exists (the caller checked); the tree asked for is too small to hold it,
        # so it is tree_size that is out of range (RFC 9162 §2.1.3.1 needs m < n).
        raise _bad_size(
            "tree_size", f"must be greater than the leaf index {leaf_index} to contain it"
        )
    tree = Tree(read, tree_size, ranges, hashing)
    return InclusionProof(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=tree.subtree(leaf_index, leaf_index + 1).hex(),
        audit_path=tuple(h.hex() for h in tree.path(leaf_index, 0, tree_size)),
        root_hash=tree.root().hex(),
    )


def consistency_proof(
    read: NodeReader,
    size: int,
    first: int,
    second: int,
    ranges: RangeHashes | _Seen | None = None,
    hashing: bool = True,
) -> ConsistencyProof:
    if second > size:
        raise _bad_size("to", f"the ledger has only {size} entries")
    if second < 0:
        raise _bad_size("to", "must not be negative")
    if first < 0:
        raise _bad_size("from", "must not be negative")
    if first > second:
        raise _bad_size("from", f"must not exceed to ({second})")
    first_root = Tree(read, first, ranges, hashing).root()
    tree = Tree(read, second, ranges, hashing)
    path = [] if first in (0, second) else tree.subproof(first, 0, second, True)
    return ConsistencyProof(
        first_size=first,
        second_size=second,
        first_root=first_root.hex(),
        second_root=tree.root().hex(),
        consistency_path=tuple(h.hex() for h in path),
    )


SpanReader = Callable[[int, int, int], bytes]


class LeafPaths:
    """RFC 9162 audit paths of every leaf in [first, last] of a tree of `size` leaves, and
    whether each proves its leaf, for O(n) reads and hashes in all (a proof each: O(n log n)).

    A tree of n leaves seen level by level: level l holds nodes 0 .. (n-1) >> l; all are
    stored perfect subtrees but the last one when it covers a partial range (the right
    border), hashed here from the stored nodes below it. Leaf i's audit path is, for each
    level with one, the sibling (i >> l) ^ 1 of its ancestor: PATH(i, D[0:n]) of RFC 9162
    §2.1.3.1, leaf side first (the absent siblings are the right border's promotions). The
    leaves' ancestors and their siblings are one window per level, read in one span.
    """

    def __init__(
        self,
        read_span: SpanReader,
        read_many: NodeBatchReader,
        size: int,
        first: int,
        last: int,
    ) -> None:
        if not 0 <= first <= last < size:
            raise ValueError(f"leaves {first}..{last} are not in a tree of {size}")
        self.size, self.first, self.last = size, first, last
        self.depth = (size - 1).bit_length()  # the root's level
        self._low: list[int] = []  # first node index held, per level
        self._levels: list[bytes] = []  # the window's hashes, concatenated
        border = _border_nodes(read_many, size)
        for level in range(self.depth + 1):
            top = (size - 1) >> level
            low = max(0, (first >> level) - 1)
            high = min(top, (last >> level) + 1)
            perfect_end = min(high + 1, size >> level)
            span = read_span(level, low, perfect_end) if perfect_end > low else b""
            if len(span) != 32 * max(perfect_end - low, 0):
                raise KeyError((level, low + len(span) // 32))
            if high == top and top >= size >> level:  # the right border's partial node
                span += border[level]
            self._low.append(low)
            self._levels.append(span)
        self._hex = [span.hex() for span in self._levels]
        self._tops = [(size - 1) >> level for level in range(self.depth + 1)]
        self._paths: list[str] | None = None
        self._proven: list[bytearray] | None = None

    def node(self, level: int, index: int) -> bytes:
        at = 32 * (index - self._low[level])
        return self._levels[level][at : at + 32]

    def leaf(self, index: int) -> bytes:
        return self.node(0, index)

    def path(self, index: int) -> list[bytes]:
        """PATH(index, D[0:size]), leaf side first."""
        return [
            self.node(level, (index >> level) ^ 1)
            for level in range(self.depth)
            if (index >> level) ^ 1 <= (self.size - 1) >> level
        ]

    def path_hex(self, index: int) -> str:
        """`path` as comma-separated hex."""
        return self.paths_hex()[index - self.first]

    def _paths_hex(self) -> list[str]:
        """The hex paths of leaves first..last, built from the root down: the path of a
        node is its sibling's hex and then its parent's path, so each node's hex is made
        once and shared by the leaves under it (n + n/2 + ... joins in all)."""
        above = [""]  # the paths of the level's ancestors of first..last, from the root's
        for level in range(self.depth - 1, -1, -1):
            start, end = self.first >> level, self.last >> level
            up_start, top, low = self.first >> (level + 1), self._tops[level], self._low[level]
            text = self._hex[level]
            paths = []
            for node in range(start, end + 1):
                parent = above[(node >> 1) - up_start]
                sibling = node ^ 1
                if sibling > top:  # on the right border, promoted: no sibling here
                    paths.append(parent)
                    continue
                at = 64 * (sibling - low)
                paths.append(text[at : at + 64] + "," + parent if parent else text[at : at + 64])
            above = paths
        return above

    def proves(self, index: int, leaf: bytes, root: bytes) -> bool:
        """True when `leaf` at `index` with its audit path leads to `root`, i.e. when
        `verifier.verify_inclusion_raw` accepts it. Decided without a fold per leaf: a
        leaf equal to the stored one folds, level by level, into the stored ancestors as
        long as each parent's stored hash is the hash of its two children; so it proves
        when every ancestor is such a parent and the top is `root`, which is worked out
        once per node. False means only "not by this route": the caller then folds the
        leaf itself (a leaf unlike the stored one, a stored node unlike its children)."""
        return leaf == self.node(0, index) and bool(self.proven(root)[index - self.first])

    def proven(self, root: bytes) -> bytearray:
        """Per leaf first..last, 1 when its stored hash proves by `proves`' route."""
        if self._proven is None:
            self._proven = self._prove(root)
        return self._proven[0]

    def paths_hex(self) -> list[str]:
        """`path_hex` of every leaf first..last."""
        if self._paths is None:
            self._paths = self._paths_hex()
        return self._paths

    def _prove(self, root: bytes) -> list[bytearray]:
        """Per level, for each ancestor of the leaves first..last: whether folding its
        stored hash up the tree with the stored siblings reaches `root` through stored
        ancestors only. Top down: the root level, then each level from the one above."""
        top = self.size - 1
        sha256 = hashlib.sha256
        proven = [bytearray() for _ in range(self.depth + 1)]
        proven[self.depth] = bytearray([self.node(self.depth, 0) == root])
        for level in range(self.depth - 1, -1, -1):
            start, end = self.first >> level, self.last >> level
            above, above_start = proven[level + 1], self.first >> (level + 1)
            last_here = top >> level
            marks = bytearray(end - start + 1)
            span, low = self._levels[level], self._low[level]
            upper, upper_low = self._levels[level + 1], self._low[level + 1]
            for parent in range(start >> 1, (end >> 1) + 1):
                if not above[parent - above_start]:
                    continue
                left = 2 * parent
                at = 32 * (left - low)
                if left + 1 <= last_here:
                    made = sha256(b"\x01" + span[at : at + 64]).digest()
                else:  # no right sibling: the node is its parent (promoted)
                    made = span[at : at + 32]
                up = 32 * (parent - upper_low)
                if made == upper[up : up + 32]:
                    for child in (left, left + 1):
                        if start <= child <= end:
                            marks[child - start] = 1
            proven[level] = marks
        return proven


def _border_nodes(read_many: NodeBatchReader, size: int) -> dict[int, bytes]:
    """The hash of the right border's partial node at each level that has one. The last
    node of level l covers [((size-1) >> l) << l, size): when that is a perfect subtree it
    is stored; else it is the hash of its left child (stored, perfect) and the border node
    below, or the border node below itself when it has no right child (RFC 9162 splits
    that range the same way). All the stored nodes needed are read at once."""
    depth = (size - 1).bit_length()
    wanted = []
    for level in range(depth + 1):
        top = (size - 1) >> level
        if top < size >> level:
            wanted.append((level, top))
        elif 2 * top + 1 <= (size - 1) >> (level - 1):
            wanted.append((level - 1, 2 * top))
    stored = read_many(wanted)
    border: dict[int, bytes] = {}
    below = b""
    for level in range(depth + 1):
        top = (size - 1) >> level
        if top < size >> level:
            below = stored[(level, top)]
            continue
        if 2 * top + 1 <= (size - 1) >> (level - 1):
            below = node_hash(stored[(level - 1, 2 * top)], below)
        border[level] = below
    return border
