"""payments: signatures of inbound webhooks already accepted (the shared replay guard).

Revision ID: payments_0002
"""

from alembic import op

revision = "payments_0002"
down_revision = "payments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS payment_webhook_seen ("
        " signature TEXT PRIMARY KEY,"
        " signed_at BIGINT NOT NULL)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS payment_webhook_seen_time ON payment_webhook_seen (signed_at)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS payment_webhook_seen")
