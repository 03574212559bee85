"""actions: the webhook destination allowlist, per tenant (secrets stay out of the ledger).

Revision ID: actions_0001
"""

from alembic import op

revision = "actions_0001"
down_revision = None
branch_labels = ("actions",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS action_destinations ("
        " tenant_id TEXT NOT NULL,"
        " name TEXT NOT NULL,"
        " url TEXT NOT NULL,"
        " secret TEXT NOT NULL,"
        " allow_private INTEGER NOT NULL DEFAULT 0,"
        " timeout_seconds DOUBLE PRECISION NOT NULL,"
        " created_at TEXT,"
        " created_by TEXT,"
        " PRIMARY KEY (tenant_id, name))"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS action_destinations")
