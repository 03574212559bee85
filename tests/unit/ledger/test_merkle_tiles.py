"""Merkle nodes stored as tiles: every node readable, tiles growing across batches, and the
ledger_0002 migration converting a ledger written with one row per node."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase, migrate
from paygod.kernel.migrations.runner import alembic_config
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.chain import ChainState, entry_leaf_hash, seal
from paygod.ledger.stores.sql import TILE_NODES
from paygod.ledger.stores.sqlite import SqliteLedgerStore
from paygod.ledger.verifier import (
    check_consistency,
    check_inclusion,
    interchange_leaf_hash,
    merkle_root,
    node_hash,
    record_hash,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def every_node(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree's hash, computed from the leaves (RFC 9162 §2.1.1)."""
    nodes, level, row = {}, 0, leaves
    while row:
        nodes.update({(level, i): node for i, node in enumerate(row)})
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
    return nodes


def test_tiles_grow_across_batches_of_every_size(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "ledger.db")
    migrate(db)
    sqlite = LedgerService(SqliteLedgerStore(db), ManualClock(T0))
    try:
        # Batch sizes that start and end tiles at every offset, past a full tile of level 1.
        for size in [1, 1, 3, 61, 1, 64, 7, 127, 2, 200, 33]:
            sqlite.append_many([EntryDraft("k", "s", {"n": size})] * size)
        total = sqlite.size
        assert total > 2 * TILE_NODES * 2
        expected = every_node([entry_leaf_hash(e) for e in sqlite.iter_entries()])
        # A fresh store: nothing cached, every tile read back from the file.
        stored = SqliteLedgerStore(db).nodes(expected)
        assert stored == expected
        assert sqlite.store.node(0, total - 1) == expected[(0, total - 1)]
        assert sqlite.store.nodes([(0, total), (1, total // 2)]) == {}
        assert sqlite.root_hash(total) == merkle_root(list(expected_leaves(expected, total))).hex()
        assert sqlite.verify().ok
        assert check_inclusion(sqlite.inclusion_proof(130, total - 5).as_dict()) is None
        assert check_consistency(sqlite.consistency_proof(65, total).as_dict()) is None
    finally:
        sqlite.close()
        db.close()


def expected_leaves(nodes: dict[tuple[int, int], bytes], size: int) -> list[bytes]:
    return [nodes[(0, i)] for i in range(size)]


def test_migration_converts_node_rows_into_tiles(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "old.db")
    command.upgrade(alembic_config(db.sqlalchemy_url), "ledger_0001")
    # A ledger as the one-row-per-node layout stored it.
    sealed = seal(ChainState(), [EntryDraft("k", "s", {"i": i}) for i in range(150)], T0)
    conn = db.connect()
    conn.executemany(
        "INSERT INTO ledger_entries (seq, entry_id, kind, tenant_id, subject, payload, "
        "recorded_at, valid_from, valid_to, supersedes, previous_hash, record_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        sealed.rows,
    )
    conn.executemany("INSERT INTO ledger_merkle (level, idx, hash) VALUES (?, ?, ?)", sealed.nodes)
    conn.execute(
        "UPDATE ledger_head SET size = ?, last_hash = ?, last_recorded_at = ?, frontier = ?",
        (150, sealed.state.last_hash, sealed.state.last_recorded_at, sealed.state.frontier_json()),
    )
    conn.close()
    migrate(db)
    ledger = LedgerService(SqliteLedgerStore(db), ManualClock(T0))
    try:
        wanted = {(level, index): node for level, index, node in sealed.nodes}
        assert ledger.store.nodes(wanted) == wanted
        assert ledger.verify().ok
        ledger.append(EntryDraft("k", "s", {"after": True}))  # the last tiles keep growing
        assert ledger.verify().ok
        assert check_inclusion(ledger.inclusion_proof(149).as_dict()) is None
    finally:
        ledger.close()
        db.close()


drafts = st.lists(
    st.builds(
        EntryDraft,
        kind=st.sampled_from(["observation", "decision", "k\u00e9", 'quote"d']),
        subject=st.text(min_size=1, max_size=6),
        payload=st.dictionaries(
            st.text(max_size=4), st.integers(-1000, 1000) | st.text(max_size=5), max_size=3
        ),
        tenant_id=st.sampled_from(["default", "t\\2"]),
        valid_from=st.none() | st.just(datetime(2025, 1, 1, tzinfo=UTC)),
        supersedes=st.none() | st.just("01900000-0000-7000-8000-000000000000"),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(drafts)
def test_sealed_hashes_match_the_standalone_definitions(batch: list[EntryDraft]) -> None:
    """seal() assembles canonical bytes by hand for speed; the auditor's code must agree."""
    sealed = seal(ChainState(), batch, T0)
    leaves = {index: node for level, index, node in sealed.nodes if level == 0}
    for entry in sealed.entries:
        line = entry.to_interchange()
        assert entry.record_hash == record_hash(
            line["data"], line["previous_hash"], line["timestamp"]
        )
        assert leaves[entry.seq] == interchange_leaf_hash(line)
    assert hashlib.sha256(b"").digest() != sealed.state.root()
