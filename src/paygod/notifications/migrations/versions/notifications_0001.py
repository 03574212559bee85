"""notifications: subscriptions, deliveries (attempts, last error, digest), in-app inbox.

Revision ID: notifications_0001
"""

from alembic import op

revision = "notifications_0001"
down_revision = None
branch_labels = ("notifications",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS notification_subscriptions ("
        " subscription_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " doc TEXT NOT NULL,"
        " secret TEXT)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS notification_subscriptions_tenant"
        " ON notification_subscriptions (tenant_id)"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS notification_deliveries ("
        " delivery_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " attempts INTEGER NOT NULL,"
        " last_error TEXT,"
        " digest TEXT,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL,"
        " doc TEXT NOT NULL)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS notification_deliveries_tenant"
        " ON notification_deliveries (tenant_id, status, created_at)"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS notification_inbox ("
        " message_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " principal TEXT NOT NULL,"
        " created_at TEXT NOT NULL,"
        " read_at TEXT,"
        " doc TEXT NOT NULL)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS notification_inbox_principal"
        " ON notification_inbox (tenant_id, principal, created_at)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS notification_inbox")
    op.execute("DROP TABLE IF EXISTS notification_deliveries")
    op.execute("DROP TABLE IF EXISTS notification_subscriptions")
