"""decisions: a covering index for the overview's per-minute counts

Revision ID: decisions_0004
Revises: decisions_0003
"""

from alembic import op

revision = "decisions_0004"
down_revision = "decisions_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (tenant_id, decided_at, verdict) answers the per-minute counts from the index alone
    # (no row reads) and still serves every search decision_index_recent served (it is
    # that index's prefix), so the write path keeps the same number of indexes.
    op.execute(
        "CREATE INDEX IF NOT EXISTS decision_index_minutes"
        " ON decision_index (tenant_id, decided_at, verdict)"
    )
    op.execute("DROP INDEX IF EXISTS decision_index_recent")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS decision_index_recent ON decision_index (tenant_id, decided_at)"
    )
    op.execute("DROP INDEX IF EXISTS decision_index_minutes")
