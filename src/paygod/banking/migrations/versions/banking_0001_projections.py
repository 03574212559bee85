"""banking: each projection's stored position (how far into the ledger its tables reflect)

Revision ID: banking_0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "banking_0001"
down_revision = None
branch_labels = ("banking",)
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    big = "BIGINT" if postgres else "INTEGER"
    op.execute(
        "CREATE TABLE IF NOT EXISTS projections ("
        " name TEXT PRIMARY KEY,"
        f" position {big} NOT NULL,"
        " state TEXT NOT NULL,"
        " updated_at TEXT NOT NULL,"
        " rebuilt_at TEXT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS projections")
