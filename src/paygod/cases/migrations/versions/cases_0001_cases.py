"""cases: current case state (folded from the ledger) and the alerts linked to cases.

Revision ID: cases_0001
"""

from alembic import op

revision = "cases_0001"
down_revision = None
branch_labels = ("cases",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS cases ("
        " case_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " subject TEXT NOT NULL,"
        " alert_type TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " opened_at TEXT NOT NULL,"
        " doc TEXT NOT NULL)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS cases_open ON cases (tenant_id, subject, alert_type, status)"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS case_alerts ( alert_id TEXT PRIMARY KEY, case_id TEXT NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS case_alerts")
    op.execute("DROP TABLE IF EXISTS cases")
