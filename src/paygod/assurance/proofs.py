"""RFC 9162 inclusion proofs for many entries of one tree at once.

`LedgerService.inclusion_proof` reads and hashes per proof; an assessment needs one for
every decision of a period against the same tree head. Here the stored perfect-subtree
hashes a whole seq range needs are fetched in a few batched reads, and each audit path
is read off them bottom-up (the decomposition of transparency-dev/merkle's
`proof.Inclusion`: below level `inner` the siblings of the leaf's own path, above it the
left siblings on the right border). Proofs are checked by the standalone verifier, never
by this code: `verifier.verify_inclusion_raw` is the one statement of RFC 9162 §2.1.3.2.
"""

from __future__ import annotations

from paygod.ledger.merkle import NodeBatchReader, RangeHashes, Tree

FETCH_CHUNK = 20_000


class ProofBatch:
    def __init__(self, read_many: NodeBatchReader, tree_size: int) -> None:
        self._read_many = read_many
        self.tree_size = tree_size
        self._nodes: dict[tuple[int, int], bytes] = {}
        # Composite ranges of the right border, hashed once for every proof that needs one.
        self._tree = Tree(self._node, tree_size, RangeHashes(limit=1 << 16))

    def _node(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self._nodes.get(key)
        if found is None:  # outside what was prefetched: read it alone
            found = self._read_many([key])[key]
            self._nodes[key] = found
        return found

    def prefetch(self, first: int, last: int) -> None:
        """Fetch every stored node the proofs of leaves first..last can use: at each level
        the window of the range widened by one sibling on each side, complete subtrees
        of the tree only."""
        keys: list[tuple[int, int]] = []
        level = 0
        while (1 << level) <= self.tree_size:
            complete = self.tree_size >> level  # nodes (level, 0 .. complete-1) exist
            low = max(0, (first >> level) - 1)
            high = min(complete - 1, (last >> level) + 1)
            keys.extend((level, i) for i in range(low, high + 1))
            # the right border's perfect subtrees, for composite ranges
            if complete:
                keys.append((level, complete - 1))
            level += 1
        wanted = [k for k in dict.fromkeys(keys) if k not in self._nodes]
        for start in range(0, len(wanted), FETCH_CHUNK):
            self._nodes.update(self._read_many(wanted[start : start + FETCH_CHUNK]))

    def leaf(self, index: int) -> bytes:
        return self._node(0, index)

    def audit_path(self, index: int) -> list[bytes]:
        """PATH(index, D[0:tree_size]) of RFC 9162 §2.1.3.1, leaf side first."""
        size = self.tree_size
        inner = (index ^ (size - 1)).bit_length()
        path = []
        for level in range(inner):
            sibling = (index >> level) ^ 1
            start = sibling << level
            end = start + (1 << level)
            if end <= size:
                path.append(self._node(level, sibling))
            elif start < size:  # the right edge: a composite range of the border
                path.append(self._tree.subtree(start, size))
        for level in range(inner, size.bit_length()):
            if (index >> level) & 1:
                path.append(self._node(level, (index >> level) ^ 1))
        return path
