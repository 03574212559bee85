"""executor: the panic switch row (Redis fallback and distributed mode without Redis).

Revision ID: executor_0001
"""

from alembic import op

revision = "executor_0001"
down_revision = None
branch_labels = ("executor",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS panic_switch ("
        " switch_id TEXT PRIMARY KEY,"
        " is_on INTEGER NOT NULL DEFAULT 0,"
        " reason TEXT NULL,"
        " actor TEXT NULL,"
        " since TEXT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS panic_switch")
