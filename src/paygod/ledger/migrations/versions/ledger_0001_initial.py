"""ledger: entries, stored Merkle subtree hashes, chain head, signed tree heads, outbox.

Revision ID: ledger_0001
"""

from alembic import op

revision = "ledger_0001"
down_revision = None
branch_labels = ("ledger",)
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    big = "BIGINT" if postgres else "INTEGER"
    blob = "BYTEA" if postgres else "BLOB"
    op.execute(
        "CREATE TABLE IF NOT EXISTS ledger_entries ("
        f" seq {big} PRIMARY KEY,"
        " entry_id TEXT NOT NULL UNIQUE,"
        " kind TEXT NOT NULL,"
        " tenant_id TEXT NOT NULL,"
        " subject TEXT NOT NULL,"
        " payload TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL,"
        " valid_from TEXT NULL,"
        " valid_to TEXT NULL,"
        " supersedes TEXT NULL,"
        " previous_hash TEXT NOT NULL,"
        " record_hash TEXT NOT NULL)"
    )
    # "As of T" for a subject, with or without its tenant: one index range scan.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ledger_entries_subject"
        " ON ledger_entries (subject, tenant_id, recorded_at)"
    )
    # Hash of every perfect subtree: level 0 = leaves, (level, idx) covers
    # leaves [idx * 2^level, (idx + 1) * 2^level). Proofs read O(log n) rows.
    op.execute(
        "CREATE TABLE IF NOT EXISTS ledger_merkle ("
        " level INTEGER NOT NULL,"
        f" idx {big} NOT NULL,"
        f" hash {blob} NOT NULL,"
        " PRIMARY KEY (level, idx))" + ("" if postgres else " WITHOUT ROWID")
    )
    # The chain head, one row: writers in every process lock it to serialise the chain.
    op.execute(
        "CREATE TABLE IF NOT EXISTS ledger_head ("
        " id INTEGER PRIMARY KEY,"
        f" size {big} NOT NULL,"
        " last_hash TEXT NOT NULL,"
        " last_recorded_at TEXT NULL,"
        " frontier TEXT NOT NULL)"
    )
    op.execute(
        "INSERT INTO ledger_head (id, size, last_hash, last_recorded_at, frontier)"
        " VALUES (1, 0, '" + "0" * 64 + "', NULL, '[]')"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS ledger_tree_heads ("
        f" tree_size {big} NOT NULL,"
        " root_hash TEXT NOT NULL,"
        " timestamp TEXT NOT NULL,"
        " key_id TEXT NOT NULL,"
        " signature TEXT NOT NULL,"
        " PRIMARY KEY (tree_size, key_id))"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS outbox ("
        " event_id TEXT PRIMARY KEY,"
        f" entry_seq {big} NULL,"
        " event_type TEXT NOT NULL,"
        " tenant_id TEXT NOT NULL,"
        " aggregate_id TEXT NOT NULL,"
        " envelope TEXT NOT NULL,"
        " status TEXT NOT NULL DEFAULT 'pending',"
        " attempts INTEGER NOT NULL DEFAULT 0,"
        " available_at TEXT NOT NULL,"
        " claimed_by TEXT NULL,"
        " claimed_until TEXT NULL,"
        " last_error TEXT NULL,"
        " created_at TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, available_at)")


def downgrade() -> None:
    for table in ("outbox", "ledger_tree_heads", "ledger_head", "ledger_merkle", "ledger_entries"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
