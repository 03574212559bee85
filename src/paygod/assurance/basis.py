"""Choosing and checking the signed tree head a period is judged against, and sealing
observations to it (RFC 9162 inclusion proofs, recomputed record hashes)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import ClassVar

from paygod.assurance.errors import AssuranceCode
from paygod.assurance.model import Basis, Period
from paygod.kernel.errors import CheckFailed, FieldError, NotFound
from paygod.ledger import LedgerService
from paygod.ledger.chain import rows_hashes
from paygod.ledger.merkle import LeafPaths
from paygod.ledger.model import Entry, EntryRow, ScanWindow, SignedTreeHead
from paygod.ledger.ports import LedgerStore
from paygod.ledger.verifier import Malformed, check_tree_head, verify_inclusion_raw


class TreeHeadUnverified(CheckFailed):
    """The signed tree head does not verify: nothing can be judged against it."""

    code: ClassVar[StrEnum] = AssuranceCode.TREE_HEAD_UNVERIFIED
    title = "Tree head does not verify"


def covering_head(ledger: LedgerService, period: Period, tree_size: int | None) -> SignedTreeHead:
    """The stored signed head to judge `period` by: the one of `tree_size` when given, else
    the smallest one signed at or after the period's end (it covers every entry recorded in
    the period, and stays the same as the ledger grows: documents regenerate identically)."""
    heads = ledger.store.tree_heads()
    if tree_size is not None:
        for head in heads:
            if head.tree_size == tree_size:
                return head
        raise NotFound(
            f"no signed tree head of size {tree_size} is stored",
            errors=[FieldError("/tree_size", f"no signed tree head of size {tree_size}")],
        )
    end = period.as_dict()["to"]
    for head in sorted(heads, key=lambda h: (h.tree_size, h.timestamp)):
        if head.timestamp >= end:
            return head
    raise NotFound(
        f"no signed tree head was signed at or after {end}: sign one "
        "(`paygod ledger head --record`) once the period has ended, or pass --tree-size",
        errors=[FieldError("/to", "no signed tree head covers the end of the period")],
    )


def verify_head(ledger: LedgerService, head: SignedTreeHead) -> None:
    """Signature by the ledger's key, and the root the ledger's own tree has at that size."""
    try:
        problem = check_tree_head(head.as_dict(), ledger.public_key_pem())
    except Malformed as exc:
        problem = str(exc)
    if problem is None and head.tree_size > ledger.size:
        problem = f"tree_size {head.tree_size} is beyond the ledger's size {ledger.size}"
    if problem is None and ledger.root_hash(head.tree_size) != head.root_hash:
        problem = f"root_hash is not the ledger's root at size {head.tree_size}"
    if problem is not None:
        raise TreeHeadUnverified(
            f"the signed tree head of size {head.tree_size} does not verify: {problem}",
            errors=[FieldError("/tree_head", problem)],
        )


def basis(
    ledger: LedgerService, tenant_id: str, period: Period, tree_size: int | None = None
) -> Basis:
    head = covering_head(ledger, period, tree_size)
    verify_head(ledger, head)
    return Basis(tenant_id, period, head)


def period_entries(ledger: LedgerService, base: Basis) -> Iterator[Entry]:
    """The tenant's entries recorded in the period, among the head's first tree_size."""
    size = base.head.tree_size
    after = -1
    while after + 1 < size:
        batch = ledger.entries(after, min(5000, size - after - 1))
        if not batch:
            return
        for entry in batch:
            if entry.seq >= size:
                return
            # "*" entries (governance stages) apply to every tenant.
            if entry.tenant_id in (base.tenant_id, "*") and base.period.contains(entry.recorded_at):
                yield entry
        after = batch[-1].seq


def scan_window(base: Basis, kinds: tuple[str, ...]) -> ScanWindow:
    """The tenant's entries of `kinds` recorded in the period, among the head's first
    tree_size ("*" entries, governance stages, apply to every tenant). Times compare as
    the ledger's one ISO form, which orders as the instants do."""
    period = base.period.as_dict()
    return ScanWindow(
        base.head.tree_size, kinds, (base.tenant_id, "*"), period["from"], period["to"]
    )


# (stored row, recomputed leaf hash as hex, audit path as comma-separated hex, problem):
# problem is None when the record hash and the inclusion proof both hold.
SealedRow = tuple[EntryRow, str, str, str | None]
CHUNK = 20_000  # rows proven against one window of the tree


def seal_rows(
    store: LedgerStore, head: SignedTreeHead, rows: Iterable[EntryRow]
) -> Iterator[SealedRow]:
    """Each row's record hash and leaf recomputed from what is stored now, checked against
    the head by an RFC 9162 §2.1.3.2 inclusion proof: an edited entry fails here while
    every other entry's proof still holds (the audit paths are the stored nodes). The
    paths of a run of rows are read off one window of the tree (`LeafPaths`); a leaf it
    does not prove is folded by `verify_inclusion_raw`, which says why it fails."""
    root = bytes.fromhex(head.root_hash)
    size = head.tree_size
    it = iter(rows)
    while part := list(itertools.islice(it, CHUNK)):
        first = part[0][0]
        paths = LeafPaths(store.node_span, store.nodes, size, first, part[-1][0])
        texts, proven = paths.paths_hex(), paths.proven(root)
        for row, (record, leaf) in zip(part, rows_hashes(part), strict=True):
            seq = row[0]
            problem = None
            if record != row[11]:
                problem = "the entry's content no longer hashes to its record_hash"
            elif not (proven[seq - first] and leaf == paths.leaf(seq)):  # `paths.proves`
                problem = verify_inclusion_raw(seq, size, leaf, paths.path(seq), root)
            yield row, leaf.hex(), texts[seq - first], problem
