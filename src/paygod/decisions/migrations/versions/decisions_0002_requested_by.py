"""decisions: who requested each decision (scope `own` is enforced in queries)

Revision ID: decisions_0002
Revises: decisions_0001
"""

from alembic import op

revision = "decisions_0002"
down_revision = "decisions_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for decisions sealed before this revision: no principal with scope `own` sees
    # them, which is the safe reading of "unknown requester".
    op.execute("ALTER TABLE decision_index ADD COLUMN requested_by TEXT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE decision_index DROP COLUMN requested_by")
