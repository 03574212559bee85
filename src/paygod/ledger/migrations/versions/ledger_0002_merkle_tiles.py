"""ledger: Merkle subtree hashes stored as tiles (64 consecutive nodes of a level per row).

One row per node made Merkle storage cost two B-tree inserts per entry, more than the
entry itself. A tile row `(tile, hashes)` holds the hashes of nodes
(level, 64·g) .. (level, 64·g + 63) concatenated, `tile = level << 48 | g`; the last tile
of a level grows as nodes are appended. Existing node rows are converted.

Revision ID: ledger_0002
"""

from alembic import op

revision = "ledger_0002"
down_revision = "ledger_0001"
branch_labels = None
depends_on = None

TILE_BITS = 6  # must match paygod.ledger.stores.sql.TILE_BITS
CHUNK = 1000


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    big = "BIGINT" if postgres else "INTEGER"
    blob = "BYTEA" if postgres else "BLOB"
    op.execute(
        f"CREATE TABLE IF NOT EXISTS ledger_merkle_tiles ( tile {big} PRIMARY KEY,"
        f" hashes {blob} NOT NULL)"
    )
    placeholder = "%s" if postgres else "?"
    insert = f"INSERT INTO ledger_merkle_tiles (tile, hashes) VALUES ({placeholder}, {placeholder})"
    rows = bind.exec_driver_sql("SELECT level, idx, hash FROM ledger_merkle ORDER BY level, idx")
    pending: list[tuple[int, bytes]] = []
    key: int | None = None
    parts: list[bytes] = []
    for level, idx, node in rows:  # streamed: a large ledger's nodes need not fit in memory
        tile = (int(level) << 48) | (int(idx) >> TILE_BITS)
        if tile != key:
            if key is not None:
                pending.append((key, b"".join(parts)))
            key, parts = tile, []
        parts.append(bytes(node))
        if len(pending) >= CHUNK:
            bind.exec_driver_sql(insert, pending)
            pending = []
    if key is not None:
        pending.append((key, b"".join(parts)))
    if pending:
        bind.exec_driver_sql(insert, pending)
    op.execute("DROP TABLE ledger_merkle")


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    big = "BIGINT" if postgres else "INTEGER"
    blob = "BYTEA" if postgres else "BLOB"
    op.execute(
        "CREATE TABLE IF NOT EXISTS ledger_merkle ( level INTEGER NOT NULL,"
        f" idx {big} NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx))"
        + ("" if postgres else " WITHOUT ROWID")
    )
    placeholder = "%s" if postgres else "?"
    insert = (
        "INSERT INTO ledger_merkle (level, idx, hash) "
        f"VALUES ({placeholder}, {placeholder}, {placeholder})"
    )
    for tile, hashes in bind.exec_driver_sql(
        "SELECT tile, hashes FROM ledger_merkle_tiles"
    ).fetchall():
        level, first = int(tile) >> 48, (int(tile) & ((1 << 48) - 1)) << TILE_BITS
        data = bytes(hashes)
        bind.exec_driver_sql(
            insert,
            [(level, first + k, data[32 * k : 32 * k + 32]) for k in range(len(data) // 32)],
        )
    op.execute("DROP TABLE ledger_merkle_tiles")
