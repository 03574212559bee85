"""decisions: the decision index (idempotency keys, velocity windows, id -> ledger seq).

The ledger is the record; this table is an index written in the same transaction as
the decision's ledger entries, so it never disagrees with the ledger about what exists.

Revision ID: decisions_0001
"""

from alembic import op

revision = "decisions_0001"
down_revision = None
branch_labels = ("decisions",)
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    big = "BIGINT" if postgres else "INTEGER"
    op.execute(
        "CREATE TABLE IF NOT EXISTS decision_index ("
        " decision_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " idempotency_key TEXT NULL,"
        " request_hash TEXT NOT NULL,"
        " subject TEXT NOT NULL,"
        " verdict TEXT NOT NULL,"
        f" amount_minor {big} NULL,"
        " decided_at TEXT NOT NULL,"
        f" seq {big} NULL)"
    )
    op.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS decision_index_key"
        " ON decision_index (tenant_id, idempotency_key)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS decision_index_window"
        " ON decision_index (tenant_id, subject, decided_at)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS decision_index")
