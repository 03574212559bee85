"""Row mapping shared by the SQL adapters (SQLite and PostgreSQL)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from typing import Any, cast

from paygod.ledger.chain import ChainState, Sealed
from paygod.ledger.model import Entry, EntryRow, ScanWindow, SignedTreeHead, entry_from_row

ENTRY_COLUMNS = (
    "seq, entry_id, kind, tenant_id, subject, payload, recorded_at, valid_from, valid_to, "
    "supersedes, previous_hash, record_hash"
)
HEAD_COLUMNS = "tree_size, root_hash, timestamp, key_id, signature"
OUTBOX_INSERT_COLUMNS = (
    "event_id, entry_seq, event_type, tenant_id, aggregate_id, envelope, status, attempts, "
    "available_at, created_at"
)
# Merkle nodes are stored in tiles: one row holds the hashes of 64 consecutive nodes of one
# level, keyed `tile = level << 48 | index >> 6` (migration ledger_0002). A batch of 2,000
# entries writes ~80 rows instead of ~4,000, and a proof reads ~30 rows in one query.
TILE_BITS = 6
TILE_NODES = 1 << TILE_BITS
TILE_MASK = TILE_NODES - 1
FULL_TILE = 32 * TILE_NODES
LEVEL_SHIFT = 48
TILE_CACHE_LIMIT = 4096  # full tiles of 2 KiB: 8 MiB at most
SCAN_CHUNK = 20_000  # rows per query of a scan


def row_to_entry(row: Sequence[Any]) -> Entry:
    """An Entry from a stored row. The payload's text is parsed when first read (see
    model.sealed_entry): a history read for the newest state of a payment or a decision
    parses one payload, not every one of the subject's."""
    return entry_from_row(_text_row(row))


def _text_row(row: Sequence[Any]) -> EntryRow:
    payload = row[5]
    if type(payload) is not str:
        payload = bytes(payload).decode()
    return cast(EntryRow, (int(row[0]), *row[1:5], payload, *row[6:12]))


def row_to_state(row: Sequence[Any]) -> ChainState:
    return ChainState(
        size=int(row[0]),
        last_hash=row[1],
        last_recorded_at=row[2],
        frontier=ChainState.frontier_from_json(row[3]),
    )


def row_to_head(row: Sequence[Any]) -> SignedTreeHead:
    return SignedTreeHead(int(row[0]), row[1], row[2], row[3], row[4])


def tile_of(level: int, index: int) -> int:
    return (level << LEVEL_SHIFT) | (index >> TILE_BITS)


def tile_writes(
    sealed: Sealed,
) -> tuple[list[tuple[int, bytes]], dict[int, tuple[int, bytes]]]:
    """Group new nodes by tile: (tiles that start with them, {tile: (nodes stored before, added)}).

    Nodes of one level arrive in index order and each is written once, so a tile either
    starts in this batch (a new row) or continues a row written before (it grows).
    """
    fresh: list[tuple[int, bytes]] = []
    grown: dict[int, tuple[int, bytes]] = {}
    for level, hashes in enumerate(sealed.levels):
        index, done, count = sealed.first_size >> level, 0, len(hashes)
        while done < count:
            offset = (index + done) & TILE_MASK
            take = min(TILE_NODES - offset, count - done)
            key = (level << LEVEL_SHIFT) | ((index + done) >> TILE_BITS)
            data = b"".join(hashes[done : done + take])
            if offset == 0:
                fresh.append((key, data))
            else:
                grown[key] = (offset, data)
            done += take
    return fresh, grown


def grown_tiles(
    grown: dict[int, tuple[int, bytes]], stored: dict[int, bytes]
) -> list[tuple[bytes, int]]:
    """(new hashes, tile) for UPDATE: each stored tile must hold exactly the nodes before ours."""
    updates = []
    for key, (offset, added) in grown.items():
        before = stored.get(key, b"")
        if len(before) != 32 * offset:
            raise RuntimeError(
                f"merkle tile {key:#x} holds {len(before) // 32} nodes where {offset} were "
                "expected: the stored tree does not match the chain head"
            )
        updates.append((before + added, key))
    return updates


class TileCache:
    """A tile only ever grows: nodes are appended at its end and never change once
    written, so whatever was read of a tile is a correct prefix of it for good. The cache
    keeps the longest prefix seen; a node beyond it is read again. The tiles at the right
    edge of the tree (every fresh receipt's proof reads them) are then served from memory
    as long as they hold the node asked for.
    """

    def __init__(self) -> None:
        self._tiles: dict[int, bytes] = {}

    def get(self, key: int, need: int = FULL_TILE) -> bytes | None:
        """The cached tile if it holds at least `need` bytes."""
        tile = self._tiles.get(key)
        return tile if tile is not None and len(tile) >= need else None

    def put(self, key: int, value: bytes) -> None:
        known = self._tiles.get(key)
        if known is not None and len(known) >= len(value):
            return
        if known is None and len(self._tiles) >= TILE_CACHE_LIMIT:
            self._tiles.clear()
        self._tiles[key] = value


class SqlLedgerReads(ABC):
    """The read queries shared by the SQLite and PostgreSQL stores.

    They differ only in the parameter placeholder and in how a read reaches a connection
    (and how its failure becomes `Unavailable`), which each adapter supplies.
    """

    outbox_work_types: Container[str] | None = None  # see LedgerService.route_outbox

    p = "?"
    _tiles: TileCache

    @abstractmethod
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one query on a reader connection and return its rows."""

    def state(self) -> ChainState:
        rows = self._read(
            "SELECT size, last_hash, last_recorded_at, frontier FROM ledger_head WHERE id = 1"
        )
        return row_to_state(rows[0])

    def get(self, seq: int) -> Entry | None:
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq = {self.p}"
        rows = self._read(sql, (seq,))
        return row_to_entry(rows[0]) if rows else None

    def get_by_id(self, entry_id: str) -> Entry | None:
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE entry_id = {self.p}"
        rows = self._read(sql, (entry_id,))
        return row_to_entry(rows[0]) if rows else None

    def entries(self, after: int = -1, limit: int = 100) -> list[Entry]:
        p = self.p
        rows = self._read(
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq > {p} ORDER BY seq LIMIT {p}",
            (after, max(limit, 0)),
        )
        return [row_to_entry(r) for r in rows]

    def subject_entries(
        self, subject: str, tenant_id: str | None, recorded_until: str | None
    ) -> list[Entry]:
        p = self.p
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE subject = {p}"
        params: list[Any] = [subject]
        if tenant_id is not None:
            sql += f" AND tenant_id = {p}"
            params.append(tenant_id)
        if recorded_until is not None:
            sql += f" AND recorded_at <= {p}"
            params.append(recorded_until)
        rows = self._read(sql + " ORDER BY seq", params)
        return [row_to_entry(r) for r in rows]

    def latest_entry(self, subject: str, kind: str, recorded_until: str | None) -> Entry | None:
        p = self.p
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE subject = {p} AND kind = {p}"
        params: list[Any] = [subject, kind]
        if recorded_until is not None:
            sql += f" AND recorded_at <= {p}"
            params.append(recorded_until)
        rows = self._read(sql + " ORDER BY seq DESC LIMIT 1", params)
        return row_to_entry(rows[0]) if rows else None

    def scan(self, window: ScanWindow) -> Iterator[EntryRow]:
        p = self.p
        kinds = ", ".join([p] * len(window.kinds))
        tenants = ", ".join([p] * len(window.tenants))
        sql = (
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq > {p} AND seq < {p}"
            f" AND kind IN ({kinds}) AND tenant_id IN ({tenants})"
            f" AND recorded_at >= {p} AND recorded_at <= {p} ORDER BY seq LIMIT {SCAN_CHUNK}"
        )
        after = window.start - 1
        while True:
            params = [after, window.end, *window.kinds, *window.tenants]
            rows = self._read(sql, [*params, window.recorded_from, window.recorded_to])
            if not rows:
                return
            if type(rows[0][5]) is str:
                yield from rows
            else:
                yield from (_text_row(r) for r in rows)
            after = rows[-1][0]

    def node_span(self, level: int, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        first, last = tile_of(level, start), tile_of(level, end - 1)
        p = self.p
        rows = self._read(
            f"SELECT tile, hashes FROM ledger_merkle_tiles WHERE tile >= {p} AND tile <= {p}"
            " ORDER BY tile",
            (first, last),
        )
        parts = []
        for expected, (tile, hashes) in enumerate(rows, start=first):
            if int(tile) != expected:
                break  # a missing tile: the nodes stored stop before it
            parts.append(bytes(hashes))
            if len(hashes) < FULL_TILE:
                break
        joined = b"".join(parts)
        offset = 32 * (start & TILE_MASK)
        return joined[offset : offset + 32 * (end - start)]

    def node(self, level: int, index: int) -> bytes:
        found = self.nodes([(level, index)]).get((level, index))
        if found is None:
            raise KeyError((level, index))
        return found

    def nodes(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the given nodes (absent ones left out), in one query."""
        keys = list(keys)
        tiles: dict[int, bytes] = {}
        missing: dict[int, None] = {}  # tiles to read, in order
        for level, index in keys:
            key = tile_of(level, index)
            need = ((index & TILE_MASK) + 1) * 32
            if key in missing or len(tiles.get(key, b"")) >= need:
                continue
            cached = self._tiles.get(key, need)
            if cached is None:
                missing[key] = None
                tiles[key] = b""
            else:
                tiles[key] = cached
        if missing:
            for key, hashes in self._fetch_tiles(self._read, list(missing)).items():
                tiles[key] = hashes
                self._tiles.put(key, hashes)
        found = {}
        for level, index in keys:
            tile = tiles[tile_of(level, index)]
            at = (index & TILE_MASK) * 32
            if len(tile) >= at + 32:
                found[(level, index)] = tile[at : at + 32]
        return found

    def _tiles_before(
        self, read: Callable[[str, Sequence[Any]], list[Any]], grown: dict[int, tuple[int, bytes]]
    ) -> dict[int, bytes]:
        """What the writer's growing tiles hold now, from the cache where it holds exactly
        the nodes before the batch's (a tile's prefix never changes), else read in `read`'s
        transaction: another process may have grown the tile since, and `grown_tiles` then
        refuses a mismatch instead of overwriting."""
        stored: dict[int, bytes] = {}
        missing = []
        for key, (offset, _added) in grown.items():
            cached = self._tiles.get(key, 32 * offset)
            if cached is not None and len(cached) == 32 * offset:
                stored[key] = cached
            else:
                missing.append(key)
        if missing:
            stored.update(self._fetch_tiles(read, missing))
        return stored

    def _remember_tiles(self, written: Iterable[tuple[bytes, int]]) -> None:
        """Keep the tiles a batch wrote, once it committed (never before: a rolled-back
        batch's nodes would be wrong for the entries that take its place). The newest
        receipts' proofs read exactly these right-edge tiles."""
        for hashes, key in written:
            self._tiles.put(key, hashes)

    def _fetch_tiles(
        self, read: Callable[[str, Sequence[Any]], list[Any]], keys: Sequence[int]
    ) -> dict[int, bytes]:
        marks = ", ".join([self.p] * len(keys))
        rows = read(f"SELECT tile, hashes FROM ledger_merkle_tiles WHERE tile IN ({marks})", keys)
        return {int(row[0]): bytes(row[1]) for row in rows}

    def tree_heads(self) -> list[SignedTreeHead]:
        rows = self._read(f"SELECT {HEAD_COLUMNS} FROM ledger_tree_heads ORDER BY tree_size")
        return [row_to_head(row) for row in rows]

    def latest_tree_head(self) -> SignedTreeHead | None:
        rows = self._read(
            f"SELECT {HEAD_COLUMNS} FROM ledger_tree_heads ORDER BY tree_size DESC LIMIT 1"
        )
        return row_to_head(rows[0]) if rows else None
