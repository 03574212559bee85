"""decisions: the deciding pack of each decision, and a time index for searches

Revision ID: decisions_0003
Revises: decisions_0002
"""

from alembic import op

revision = "decisions_0003"
down_revision = "decisions_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for decisions sealed before this revision: a search by pack does not find them
    # (the ledger entry still names the pack).
    op.execute("ALTER TABLE decision_index ADD COLUMN pack TEXT NULL")
    op.execute(
        "CREATE INDEX IF NOT EXISTS decision_index_recent ON decision_index (tenant_id, decided_at)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS decision_index_recent")
    op.execute("ALTER TABLE decision_index DROP COLUMN pack")
