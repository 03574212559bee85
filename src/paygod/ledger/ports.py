"""The ledger store port: one contract, every adapter (memory, sqlite, postgres, jsonl)."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from paygod.ledger.chain import ChainState
from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.model import Entry, EntryRow, ScanWindow, SignedTreeHead


class LedgerStore(Protocol):
    name: str
    # Event types the executor consumes; other events' outbox rows are written as done.
    outbox_work_types: Container[str] | None

    def commit_batch(self, batch: Sequence[WriteRequest], now: datetime) -> ChainState:
        """Run every request in ONE transaction, each isolated (savepoint); set their results.

        Requests whose work fails carry their exception; the others commit. Raises (and
        leaves every request unfinished) only when the transaction itself fails.
        """
        ...

    def state(self) -> ChainState: ...

    def get(self, seq: int) -> Entry | None: ...

    def get_by_id(self, entry_id: str) -> Entry | None: ...

    def entries(self, after: int = -1, limit: int = 100) -> list[Entry]: ...

    def subject_entries(
        self, subject: str, tenant_id: str | None, recorded_until: str | None
    ) -> list[Entry]:
        """Entries about `subject` recorded at or before `recorded_until` (ISO text), by seq."""
        ...

    def latest_entry(self, subject: str, kind: str, recorded_until: str | None) -> Entry | None:
        """The last entry of `kind` about `subject` recorded at or before `recorded_until`
        (ISO text; None: now): an aggregate's current version without reading its history."""
        ...

    def node(self, level: int, index: int) -> bytes:
        """The stored hash of the perfect subtree (level, index); KeyError when absent."""
        ...

    def nodes(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of several subtrees at once (absent ones left out): a proof's
        nodes in one round trip."""
        ...

    def node_span(self, level: int, start: int, end: int) -> bytes:
        """The stored hashes of nodes (level, start) .. (level, end - 1), concatenated (32
        bytes each), read at once; shorter when some are not stored."""
        ...

    def scan(self, window: ScanWindow) -> Iterator[EntryRow]:
        """The rows of the entries in `window`, by seq, streamed: what is stored, as
        stored (no Entry built, no payload parsed), for a pass over a million entries."""
        ...

    def save_tree_head(self, head: SignedTreeHead) -> None: ...

    def latest_tree_head(self) -> SignedTreeHead | None: ...

    def probe_write(self) -> None:
        """Raise `Unavailable` (with the reason) while the store refuses writes; asked by
        /readyz and, after a refusal, to learn that writes may resume."""
        ...

    def tree_heads(self) -> list[SignedTreeHead]:
        """Every stored signed tree head, by tree_size (verification checks them all)."""
        ...

    def opener(self) -> Callable[[], LedgerStore] | None:
        """A picklable callable that opens this store's reads in another process (a
        worker observing a slice of a period); None for a store that lives in this
        process only."""
        ...

    def close(self) -> None: ...
