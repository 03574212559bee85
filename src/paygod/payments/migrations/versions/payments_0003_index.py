"""payments: each payment's newest state, for listings and the review queue.

Revision ID: payments_0003
"""

from alembic import op

revision = "payments_0003"
down_revision = "payments_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS payment_index ("
        " payment_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " review INTEGER NOT NULL,"
        " requested_by TEXT NOT NULL,"
        " updated_at TEXT NOT NULL,"
        " payment TEXT NOT NULL)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS payment_index_recent"
        " ON payment_index (tenant_id, status, updated_at)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS payment_index")
