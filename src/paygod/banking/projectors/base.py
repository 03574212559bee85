"""The shape every projector has: tables it owns, a fold over entries, its rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from paygod.canonical import digest as canonical_digest
from paygod.ledger import Entry

Row = tuple[Any, ...]
EMPTY_DIGEST = canonical_digest({})  # no side store is needed to know the empty object
Key = tuple[Any, ...]
# A digest ("sha256:...") -> the metadata object it was computed from, or None when unknown.
# Metadata is sealed by digest only (it may hold personal data); the object comes from a
# content-addressed side store: the live rows, or a backup's metadata.jsonl.
MetadataResolver = Callable[[str], "Mapping[str, Any] | None"]


@dataclass(frozen=True, slots=True)
class Table:
    """A table a projection fills: its columns (as the module's store writes them) and key."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()  # compared parsed: key order is not content

    def key_of(self, row: Row) -> Key:
        return tuple(row[self.columns.index(c)] for c in self.key)


class Projector(ABC):
    """Subclasses set `name`, `tables`, `kinds` and implement `apply` and `rows`."""

    name: str = ""
    tables: tuple[Table, ...] = ()
    kinds: frozenset[str] = frozenset()

    def __init__(self, resolve: MetadataResolver) -> None:
        self.resolve = resolve
        self.unresolved: set[str] = set()  # metadata digests no side store knew
        self._dirty: dict[str, set[Key]] = {}
        # Off for the bulk fold (every row is written then); on from the first take_dirty,
        # for the catch-up applied at the switch.
        self._tracking = False

    @abstractmethod
    def apply(self, entry: Entry) -> None:
        """Fold one ledger entry of one of `kinds` into the rows."""

    @abstractmethod
    def rows(self, table: str) -> dict[Key, Row]:
        """Every row of `table` as it stands after the entries applied so far."""

    def take_dirty(self) -> dict[str, set[Key]]:
        """The keys of each table changed since the last call (the catch-up applied at the
        switch rewrites only those)."""
        dirty, self._dirty = self._dirty, {}
        self._tracking = True
        return dirty

    def touch(self, table: str, key: Key) -> None:
        if self._tracking:
            self._dirty.setdefault(table, set()).add(key)

    def feed(self, entries: Iterable[Entry]) -> int:
        n = 0
        kinds = self.kinds
        for entry in entries:
            if entry.kind in kinds:
                self.apply(entry)
            n += 1
        return n

    def metadata(self, digest: str | None) -> dict[str, Any]:
        if digest is None or digest == EMPTY_DIGEST:
            return {}
        found = self.resolve(digest)
        if found is None:
            self.unresolved.add(digest)
            return {}
        return dict(found)
