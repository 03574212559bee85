"""privacy: subject keys, sealed records, legal holds, retention policies, exports made.

Revision ID: privacy_0001
"""

from alembic import op

revision = "privacy_0001"
down_revision = None
branch_labels = ("privacy",)
depends_on = None

TABLES = (
    "CREATE TABLE IF NOT EXISTS privacy_subject_keys ("
    " tenant_id TEXT NOT NULL, subject TEXT NOT NULL, wrapped TEXT NULL,"
    " created_at TEXT NOT NULL, erased_at TEXT NULL, erased_by TEXT NULL,"
    " PRIMARY KEY (tenant_id, subject))",
    "CREATE TABLE IF NOT EXISTS privacy_records ("
    " record_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, subject TEXT NOT NULL,"
    " record_class TEXT NOT NULL, sealed TEXT NOT NULL, digest TEXT NOT NULL,"
    " created_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS privacy_records_subject"
    " ON privacy_records (tenant_id, subject, created_at)",
    "CREATE TABLE IF NOT EXISTS privacy_holds ("
    " tenant_id TEXT NOT NULL, subject TEXT NOT NULL, reason TEXT NOT NULL,"
    " placed_by TEXT NOT NULL, placed_at TEXT NOT NULL, PRIMARY KEY (tenant_id, subject))",
    "CREATE TABLE IF NOT EXISTS privacy_policies ("
    " tenant_id TEXT NOT NULL, data_class TEXT NOT NULL, max_age_days INTEGER NOT NULL,"
    " set_by TEXT NOT NULL, set_at TEXT NOT NULL, PRIMARY KEY (tenant_id, data_class))",
    "CREATE TABLE IF NOT EXISTS privacy_exports ("
    " export_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, subject TEXT NOT NULL,"
    " digest TEXT NOT NULL, requested_by TEXT NOT NULL, created_at TEXT NOT NULL)",
)


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "privacy_exports",
        "privacy_policies",
        "privacy_holds",
        "privacy_records",
        "privacy_subject_keys",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
