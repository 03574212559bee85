"""Metadata by content digest: the side store that makes sealed `metadata_digest`s whole.

Accounts and transfers carry client metadata, which may hold personal data, so the ledger
seals only its digest (DESIGN.md §1). Rebuilding a row needs the object: on a live home the
rows themselves hold every object still in use; a backup carries them in metadata.jsonl.
Every object is checked against its digest when read, so a side store can only fail to know
an object, never hand a wrong one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from paygod.canonical import digest
from paygod.kernel.database import Database, SqliteDatabase
from paygod.kernel.errors import CheckFailed

SOURCES = (
    "SELECT metadata FROM accounting_accounts",
    "SELECT metadata FROM accounting_transfers WHERE metadata <> '{}'",
)


class MetadataStore:
    def __init__(self, objects: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.objects: dict[str, Mapping[str, Any]] = dict(objects or {})

    def add(self, obj: Mapping[str, Any]) -> str:
        key = digest(dict(obj))
        self.objects[key] = obj
        return key

    def get(self, key: str) -> Mapping[str, Any] | None:
        return self.objects.get(key)

    def extend(self, objects: Iterable[Mapping[str, Any]]) -> None:
        for obj in objects:
            self.add(obj)

    def write(self, path: Path) -> int:
        with path.open("wb") as out:
            for key in sorted(self.objects):
                out.write(orjson.dumps({"digest": key, "metadata": self.objects[key]}) + b"\n")
        return len(self.objects)

    @classmethod
    def read(cls, path: Path) -> MetadataStore:
        store = cls()
        if not path.exists():
            return store
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            doc = orjson.loads(line)
            if store.add(doc["metadata"]) != doc["digest"]:
                raise CheckFailed(f"{path} line {number}: the metadata does not match its digest")
        return store


def live_metadata(db: Database) -> MetadataStore:
    """Every metadata object the live account and transfer rows hold."""
    store = MetadataStore()
    if isinstance(db, SqliteDatabase):
        lite = db.connect()
        try:
            for sql in SOURCES:
                store.extend(orjson.loads(r[0]) for r in lite.execute(sql))
        finally:
            lite.close()
        return store
    with db.connection() as conn:
        for sql in SOURCES:
            store.extend(orjson.loads(r[0]) for r in conn.execute(sql))
    return store


class LiveResolver:
    """Resolves digests from the live rows, re-reading them (a few times at most) when one
    is missing (a row written after the first read, during a rebuild)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.store: MetadataStore | None = None
        self.misses = 0

    def __call__(self, key: str) -> Mapping[str, Any] | None:
        if self.store is None:
            self.store = live_metadata(self.db)
        found = self.store.get(key)
        if found is None and self.misses < 3:
            self.misses += 1
            self.store = live_metadata(self.db)
            found = self.store.get(key)
        return found
