"""contauth: sessions' trust, derived behavioural features, per-principal models.

Revision ID: contauth_0001
"""

from alembic import op

revision = "contauth_0001"
down_revision = None
branch_labels = ("contauth",)
depends_on = None


def upgrade() -> None:
    blob = "BYTEA" if op.get_bind().dialect.name == "postgresql" else "BLOB"
    op.execute(
        "CREATE TABLE IF NOT EXISTS contauth_sessions ("
        " session_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, principal_id TEXT NOT NULL,"
        " expires_at TEXT NOT NULL, trust DOUBLE PRECISION NOT NULL, state TEXT NOT NULL,"
        " events INTEGER NOT NULL, reasons TEXT NOT NULL, device TEXT,"
        " model_version INTEGER, updated_at TEXT)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS contauth_sessions_principal"
        " ON contauth_sessions (tenant_id, principal_id)"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS contauth_features ("
        " feature_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, tenant_id TEXT NOT NULL,"
        " principal_id TEXT NOT NULL, kind TEXT NOT NULL, features TEXT NOT NULL,"
        " retention_class TEXT NOT NULL, recorded_at TEXT NOT NULL,"
        " delete_after TEXT NOT NULL)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS contauth_features_tenant"
        " ON contauth_features (tenant_id, kind, recorded_at)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS contauth_features_expiry ON contauth_features (delete_after)"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS contauth_models ("
        " tenant_id TEXT NOT NULL, principal_id TEXT NOT NULL, version INTEGER NOT NULL,"
        f" artefact_digest TEXT NOT NULL, artefact {blob} NOT NULL, meta TEXT NOT NULL,"
        " PRIMARY KEY (tenant_id, principal_id, version))"
    )


def downgrade() -> None:
    for table in ("contauth_models", "contauth_features", "contauth_sessions"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
