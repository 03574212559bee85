"""The ledger service: append (group commit), read, bitemporal queries, proofs, verify."""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import CheckFailed, Conflict, InvalidInput, NotFound, Unavailable
from paygod.kernel.logging import get_logger
from paygod.ledger import merkle
from paygod.ledger.chain import (
    ChainState,
    canonical_parsed_bytes,
    compute_record_hash,
    entry_from_interchange,
    entry_leaf_hash,
)
from paygod.ledger.groupcommit import GroupCommitter, WriteRequest
from paygod.ledger.model import (
    GENESIS_HASH,
    ConsistencyProof,
    Entry,
    EntryDraft,
    Finding,
    InclusionProof,
    SignedTreeHead,
    VerifyReport,
)
from paygod.ledger.ports import LedgerStore
from paygod.ledger.receipt import Receipts, note
from paygod.ledger.signing import TreeHeadSigner
from paygod.ledger.verifier import (
    MerkleStack,
    check_tree_heads,
    link_finding,
    merkle_root,
    push_leaf,
    record_finding,
    stack_root,
)

R = TypeVar("R")
log = get_logger("paygod.ledger")
VERIFY_CHUNK = 5000


class LedgerService:
    def __init__(
        self,
        store: LedgerStore,
        clock: Clock,
        signer: TreeHeadSigner | None = None,
        *,
        tree_head_every_entries: int = 1000,
        tree_head_every_seconds: float = 10.0,
        max_batch: int = 4096,
    ) -> None:
        self.store = store
        self.clock = clock
        self.signer = signer or TreeHeadSigner.generate()
        self.tree_head_every_entries = tree_head_every_entries
        self.tree_head_every_seconds = tree_head_every_seconds
        self._committer = GroupCommitter(
            self._commit,
            name=f"ledger-writer-{store.name}",
            max_batch=max_batch,
            idle=self._idle,
            idle_seconds=tree_head_every_seconds,
        )
        self._down_until = 0.0
        self._failures = 0  # consecutive store failures: how long to stay read-only
        self._refusal: str | None = None  # why the last batch failed, until one commits
        self._signed_size: int | None = None
        self._signed_at = time.monotonic()
        # The chain state this process last committed. The ledger only grows, so every
        # size up to its size exists for good; a receipt's proof at a size known that way
        # needs no read of the head row (one query and a frontier parse per sealed request).
        # With its root, hashed once by keep_edge: one attribute, so a reader on another
        # thread never pairs a state with another state's root.
        self._committed: tuple[ChainState, bytes] | None = None
        self._ranges = merkle.RangeHashes()  # see there: shared by every proof served here
        self.receipts = Receipts(self)

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """The memory/jsonl stores' outbox rows (SQL stores keep them in the `outbox` table)."""
        rows: list[dict[str, Any]] = getattr(self.store, "outbox", [])
        return rows

    # -- writes ---------------------------------------------------------------------------

    def route_outbox(self, work_types: Container[str]) -> None:
        """Only events of these types wait in the outbox for a worker (pass the executor's
        live handler table); others are recorded as done when written."""
        self.store.outbox_work_types = work_types

    def append(self, draft: EntryDraft) -> Entry:
        """Record one entry; durable when this returns."""
        return self.append_many([draft])[0]

    def append_many(self, drafts: Sequence[EntryDraft]) -> list[Entry]:
        """Record entries atomically, with consecutive seqs."""
        drafts = list(drafts)
        for position, draft in enumerate(drafts):
            if not isinstance(draft, EntryDraft):
                raise InvalidInput(f"item {position} is not an EntryDraft")
        self._check_writable()
        request = self._committer.submit(WriteRequest(drafts=drafts))
        self._raise_for(request)
        note(self, request.entries)
        return request.entries

    def transact(
        self, work: Callable[[Any], tuple[R, Sequence[EntryDraft]]]
    ) -> tuple[R, list[Entry]]:
        """Run `work(conn)` inside the ledger's write transaction and append its drafts.

        If work raises, nothing of it is written and the exception propagates here.
        """
        return self.outcome(self._committer.submit(self.transaction(work)))

    def transaction(self, work: Callable[[Any], tuple[Any, Sequence[EntryDraft]]]) -> WriteRequest:
        """A request to run `work` in the write transaction, for a caller that waits for it
        itself (`enqueue`, then `outcome`); refused now while the ledger is read-only."""
        self._check_writable()
        return WriteRequest(work)

    def enqueue(self, request: WriteRequest) -> None:
        self._committer.enqueue(request)

    def outcome(self, request: WriteRequest) -> tuple[Any, list[Entry]]:
        """The settled request's (result, entries), or its exception raised."""
        self._raise_for(request)
        note(self, request.entries)
        return request.result, request.entries

    def _raise_for(self, request: WriteRequest) -> None:
        if request.error is not None:
            if isinstance(request.error, Unavailable):
                # Fail fast while the store is down, but a single dropped connection (the
                # writer reconnects on the next batch) should cost a moment, not seconds:
                # the read-only window starts at 0.25 s and doubles while failures go on.
                # Every request of a failed batch reports the same failure: count it once.
                self._refusal = request.error.detail
                now = time.monotonic()
                if now >= self._down_until:
                    self._failures += 1
                    window = min(request.error.retry_after or 2, 0.25 * 2 ** (self._failures - 1))
                    self._down_until = now + window
            raise request.error
        self._failures = 0

    def write_health(self) -> str:
        """For /readyz: 'writable', or raises `Unavailable` with the reason while the store
        refuses writes (read-only, full disk, unreachable). After a refusal it probes the
        store, and a store that takes writes again ends the read-only window at once."""
        refused = self._refusal
        try:
            self.store.probe_write()
        except Unavailable:
            raise
        except Exception as exc:  # a driver error the adapter did not expect: still a refusal
            raise Unavailable(f"the ledger store refuses writes: {exc}") from exc
        if refused is not None and self._refusal == refused:
            self._refusal = None
            self._down_until = 0.0
            self._failures = 0
        return "writable"

    def _check_writable(self) -> None:
        remaining = self._down_until - time.monotonic()
        if remaining > 0:
            raise Unavailable(
                "the ledger store refuses writes; the ledger is read-only for now"
                + (f" ({self._refusal})" if self._refusal else ""),
                retry_after=max(1, int(remaining + 0.999)),
            )

    def _commit(self, batch: list[WriteRequest]) -> None:
        state = self.store.commit_batch(batch, self.clock.now())
        root = self._ranges.keep_edge(state.size, state.frontier)  # before the callers wake
        self._committed = (state, root)
        self._refusal = None
        try:
            self._maybe_sign(state)
        except Exception:
            log.warning("could not record a signed tree head", exc_info=True)

    def _idle(self) -> None:
        self._maybe_sign(self.store.state())

    def _maybe_sign(self, state: ChainState) -> None:
        if self._signed_size is None:
            latest = self.store.latest_tree_head()
            self._signed_size = latest.tree_size if latest else 0
        if state.size == self._signed_size:
            return
        due_entries = state.size - self._signed_size >= self.tree_head_every_entries
        due_time = time.monotonic() - self._signed_at >= self.tree_head_every_seconds
        if due_entries or due_time:
            head = self.signer.sign(state.size, state.root().hex(), isoformat(self.clock.now()))
            self.store.save_tree_head(head)
            self._signed_size = state.size
            self._signed_at = time.monotonic()

    def flush_tree_head(self) -> SignedTreeHead:
        """Sign and record a tree head for the current size now (tests, shutdown, export)."""
        state = self.store.state()
        head = self.signer.sign(state.size, state.root().hex(), isoformat(self.clock.now()))
        self.store.save_tree_head(head)
        self._signed_size = state.size
        return head

    # -- reads ----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self.store.state().size

    def get(self, seq: int) -> Entry | None:
        return self.store.get(seq)

    def get_by_id(self, entry_id: str) -> Entry | None:
        return self.store.get_by_id(entry_id)

    def entries(self, after: int = -1, limit: int = 100) -> list[Entry]:
        return self.store.entries(after, limit)

    def iter_entries(self, chunk: int = VERIFY_CHUNK) -> Iterator[Entry]:
        after = -1
        while True:
            batch = self.store.entries(after, chunk)
            if not batch:
                return
            yield from batch
            after = batch[-1].seq

    def history(self, subject: str, tenant_id: str | None = None) -> list[Entry]:
        """Every version about `subject`, in recording order, each with both times."""
        return self.store.subject_entries(subject, tenant_id, None)

    def as_of(
        self,
        subject: str,
        recorded_at: datetime | None = None,
        valid_at: datetime | None = None,
        tenant_id: str | None = None,
    ) -> list[Entry]:
        """What was recorded as true by `recorded_at` (default now), about `valid_at`.

        An entry counts when it was recorded by then, no entry recorded by then supersedes
        it, and (with valid_at) its valid period [valid_from, valid_to) contains valid_at.
        """
        until = isoformat(recorded_at) if recorded_at is not None else None
        known = self.store.subject_entries(subject, tenant_id, until)
        superseded = {e.supersedes for e in known if e.supersedes}
        result = []
        for entry in known:
            if entry.entry_id in superseded:
                continue
            if valid_at is not None:
                if entry.valid_from is not None and valid_at < entry.valid_from:
                    continue
                if entry.valid_to is not None and valid_at >= entry.valid_to:
                    continue
            result.append(entry)
        return result

    def latest(self, subject: str, kind: str, recorded_at: datetime | None = None) -> Entry | None:
        """The last entry of `kind` about `subject` recorded by `recorded_at` (default now):
        the current version of an aggregate that seals its whole state in each entry and
        never supersedes one (read in one row, however long its history)."""
        until = isoformat(recorded_at) if recorded_at is not None else None
        return self.store.latest_entry(subject, kind, until)

    # -- proofs and tree heads ------------------------------------------------------------

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        committed = self._committed
        if committed is not None and tree_size is not None and seq < tree_size <= committed[0].size:
            size = committed[0].size  # no read: that tree size is known to exist
        else:
            size = self.store.state().size
        if not 0 <= seq < size:
            raise NotFound(f"ledger entry {seq} does not exist (size {size})")
        wanted = size if tree_size is None else tree_size
        return merkle.prefetched(
            self.store.nodes,
            lambda read, ranges, hashing: merkle.inclusion_proof(
                read, size, seq, wanted, ranges, hashing
            ),
            self._ranges,
        )

    def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        size = self.store.state().size
        wanted = size if second is None else second
        return merkle.prefetched(
            self.store.nodes,
            lambda read, ranges, hashing: merkle.consistency_proof(
                read, size, first, wanted, ranges, hashing
            ),
            self._ranges,
        )

    def root_hash(self, tree_size: int | None = None) -> str:
        state = self.store.state()
        if tree_size is None or tree_size == state.size:
            return state.root().hex()
        return merkle.prefetched(
            self.store.nodes,
            lambda read, ranges, hashing: merkle.Tree(read, tree_size, ranges, hashing).root(),
            self._ranges,
        ).hex()

    def tree_head(self) -> SignedTreeHead:
        """A tree head for the current size, signed now."""
        state = self.store.state()
        return self.signer.sign(state.size, state.root().hex(), isoformat(self.clock.now()))

    def receipt_head(self, seq: int) -> SignedTreeHead:
        """A tree head that covers entry `seq`, signed now: for the state this process last
        committed when that covers it (the entry's own batch or a later one; no read),
        else for the current size."""
        committed = self._committed
        if committed is None or committed[0].size <= seq:
            return self.tree_head()
        state, root = committed
        return self.signer.sign(state.size, root.hex(), isoformat(self.clock.now()))

    def latest_signed_tree_head(self) -> SignedTreeHead | None:
        return self.store.latest_tree_head()

    def tenant_head(self, seq: int) -> SignedTreeHead:
        """The head a tenant's proof of entry `seq` is given at: the newest stored signed
        head when it covers the entry (the schedule's size, not the live one), else one
        signed now for the entry, as its receipt was."""
        latest = self.store.latest_tree_head()
        if latest is not None and latest.tree_size > seq:
            return latest
        return self.receipt_head(seq)

    def public_key_pem(self) -> bytes:
        return self.signer.public_pem()

    # -- verification ---------------------------------------------------------------------

    def verify(
        self,
        progress: Callable[[int, int], None] | None = None,
        *,
        pinned: Sequence[Mapping[str, Any]] = (),
    ) -> VerifyReport:
        """Walk the chain and the stored Merkle tree; report the first bad entry precisely,
        then every stored signed tree head (and any `pinned` one an auditor kept) checked
        against the root of the tree at its size, and the heads the signing schedule
        should have left but that are missing (verifier.check_tree_heads)."""
        state = self.store.state()
        stored_heads = self.store.tree_heads()
        heads = [h.as_dict() for h in stored_heads] + [dict(h) for h in pinned]
        head_sizes = {h["tree_size"] for h in heads if isinstance(h.get("tree_size"), int)}
        every = self.tree_head_every_entries
        # The entries whose commit tells a missing head from one big commit (see there).
        marks = {s - 1 for s in head_sizes if s > 0} | {s + every - 1 for s in head_sizes | {0}}
        roots: dict[int, str] = {0: merkle_root([]).hex()}
        commits: dict[int, str] = {}
        previous = GENESIS_HASH
        position = 0
        stack: MerkleStack = []
        finding: Finding | None = None
        for entry in self.iter_entries():
            finding = self._check_entry(entry, position, previous)
            if finding:
                break
            leaf = entry_leaf_hash(entry)
            try:
                stored = self.store.node(0, entry.seq)
            except KeyError:
                stored = b""
            if stored != leaf:
                finding = Finding(
                    entry.seq,
                    "merkle_leaf",
                    leaf.hex(),
                    stored.hex() or None,
                    f"entry {entry.seq}: the stored Merkle leaf does not match the entry",
                )
                break
            push_leaf(stack, leaf)
            previous = entry.record_hash
            if position in marks:
                commits[position] = entry.timestamp
            position += 1
            if position in head_sizes:
                roots[position] = stack_root(stack).hex()
            if progress is not None and position % VERIFY_CHUNK == 0:
                progress(position, state.size)
        if progress is not None:
            progress(position, state.size)
        root = stack_root(stack).hex()
        if finding is None and position != state.size:
            finding = Finding(
                position,
                "entry_index",
                state.size,
                position,
                f"the chain head records {state.size} entries but {position} are present: "
                f"entries from {position} on are missing",
            )
        if finding is None and root != state.root().hex():
            finding = Finding(
                None,
                "root_hash",
                state.root().hex(),
                root,
                "the Merkle root of the entries does not match the stored tree",
            )
        findings = [finding] if finding else []
        if finding is None:
            findings.extend(
                Finding(**problem)
                for problem in check_tree_heads(
                    heads,
                    roots,
                    position,
                    self.public_key_pem(),
                    every_entries=every,
                    commit_of=commits.get,
                )
            )
        return VerifyReport(
            entries_checked=position,
            tree_size=position,
            root_hash=root,
            findings=tuple(findings),
            tree_head=stored_heads[-1] if stored_heads else None,
        )

    @staticmethod
    def _check_entry(entry: Entry, position: int, previous: str) -> Finding | None:
        """The verifier's rules for one stored entry: its link, then its record hash."""
        problem = link_finding(
            position, previous, entry.seq, entry.previous_hash, f"stored entry {position}"
        ) or record_finding(entry.seq, compute_record_hash(entry), entry.record_hash)
        return Finding(**problem) if problem else None

    def verify_file(
        self,
        path: Path,
        *,
        tree_head: Mapping[str, Any] | None = None,
        public_key_pem: bytes | None = None,
    ) -> VerifyReport:
        """Verify a ledger.jsonl export (ours or another paygod/v1 kernel's)."""
        from paygod.ledger.fast_verify import verify_jsonl_report

        return verify_jsonl_report(path, tree_head=tree_head, public_key_pem=public_key_pem)

    # -- interchange ----------------------------------------------------------------------

    def export_jsonl(
        self, out: IO[bytes], progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Write every entry as one RFC 8785 line of the interchange form; returns the count."""
        total = self.size
        count = 0
        for entry in self.iter_entries():
            out.write(canonical_parsed_bytes(entry.to_interchange()) + b"\n")
            count += 1
            if progress is not None and count % VERIFY_CHUNK == 0:
                progress(count, total)
        if progress is not None:
            progress(count, total)
        return count

    def import_jsonl(self, path: Path) -> int:
        """Verify an export, then append the entries this ledger does not have yet.

        The file must extend this ledger: its first entries must be ours, hash for hash.
        Returns how many entries were added.
        """
        from paygod.ledger.fast_verify import read_interchange

        report = self.verify_file(path)
        if not report.ok:
            first = report.findings[0]
            raise CheckFailed(f"{path} does not verify; nothing imported: {first.message}")
        lines = read_interchange(path)
        state = self.store.state()
        for line in lines[: state.size]:
            ours = self.store.get(line["entry_index"])
            if ours is None or ours.record_hash != line["record_hash"]:
                raise Conflict(
                    f"{path} diverges from this ledger at entry {line['entry_index']}; "
                    "nothing imported"
                )
        new = [entry_from_interchange(line) for line in lines[state.size :]]
        if not new:
            return 0
        self._check_writable()
        request = self._committer.submit(WriteRequest(imported=new))
        if request.error is not None:
            raise request.error
        return len(request.entries)

    def close(self) -> None:
        self._committer.close()
        self.store.close()
