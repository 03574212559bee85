"""The jsonl store: the ledger as an append-only ledger.jsonl file (WORM-style interchange).

Every line is the RFC 8785 form of one interchange object (DESIGN.md §4), so the store
file IS an export any paygod/v1 kernel verifies. A batch is written and fsynced before
its callers are answered; a torn last line (a crash mid-write) was never acknowledged,
so it is cut off when the file is opened again. Merkle nodes and indexes live in memory,
rebuilt from the file on open; the outbox is in memory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import orjson

from paygod.kernel.errors import CheckFailed, Unavailable
from paygod.ledger.chain import Sealed, adopt, canonical_parsed_bytes, entry_from_interchange
from paygod.ledger.model import SignedTreeHead
from paygod.ledger.stores.memory import MemoryLedgerStore


class JsonlLedgerStore(MemoryLedgerStore):
    name = "jsonl"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.heads_path = path.with_name(path.stem + ".heads.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._load()
        self._file: IO[bytes] = path.open("ab")

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            # A crash mid-write: the partial line was never fsynced-and-acknowledged.
            cut = raw.rfind(b"\n") + 1
            with self.path.open("r+b") as handle:
                handle.truncate(cut)
                os.fsync(handle.fileno())
            raw = raw[:cut]
        entries = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(entry_from_interchange(orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                raise CheckFailed(f"{self.path} line {number} is not JSON: {exc}") from None
        if entries:
            try:
                sealed = adopt(self._state, entries)
            except Exception as exc:
                raise CheckFailed(f"{self.path} does not verify: {exc}") from None
            self._apply(sealed)
            self._state = sealed.state
        if self.heads_path.exists():
            for line in self.heads_path.read_bytes().splitlines():
                if line.strip():
                    self._heads.append(SignedTreeHead(**orjson.loads(line)))

    def _persist(self, staged: Sequence[Sealed]) -> None:
        if not staged:
            return
        lines = [
            canonical_parsed_bytes(entry.to_interchange()) + b"\n"
            for sealed in staged
            for entry in sealed.entries
        ]
        try:
            self._file.write(b"".join(lines))
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise Unavailable(
                f"cannot append to {self.path}: {exc.strerror or exc}", retry_after=5
            ) from exc

    def save_tree_head(self, head: SignedTreeHead) -> None:
        with self._lock:
            with self.heads_path.open("ab") as handle:
                handle.write(orjson.dumps(head.as_dict()) + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            self._heads.append(head)

    def probe_write(self) -> None:
        try:
            with self.heads_path.open("ab") as handle:  # appends nothing: opens for writing
                os.fsync(handle.fileno())
        except OSError as exc:
            raise Unavailable(
                f"cannot write beside {self.path}: {exc.strerror or exc}", retry_after=5
            ) from exc

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
