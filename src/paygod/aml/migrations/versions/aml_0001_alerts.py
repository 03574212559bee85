"""aml: raised alerts (one per hit key) and the incremental monitor's ledger cursor.

Revision ID: aml_0001
"""

from alembic import op

revision = "aml_0001"
down_revision = None
branch_labels = ("aml",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS aml_alerts ("
        " alert_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " hit_key TEXT NOT NULL UNIQUE,"
        " typology TEXT NOT NULL,"
        " subject TEXT NOT NULL,"
        " raised_at TEXT NOT NULL,"
        " doc TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX IF NOT EXISTS aml_alerts_tenant ON aml_alerts (tenant_id, raised_at)")
    op.execute(
        "CREATE TABLE IF NOT EXISTS aml_cursor ( name TEXT PRIMARY KEY, seq BIGINT NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS aml_cursor")
    op.execute("DROP TABLE IF EXISTS aml_alerts")
