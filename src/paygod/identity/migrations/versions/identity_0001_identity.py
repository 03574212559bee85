"""identity: tenants, principals, API keys, TOTP, signing keys, consent, access audit.

Revision ID: identity_0001
"""

from alembic import op

revision = "identity_0001"
down_revision = None
branch_labels = ("identity",)
depends_on = None

TABLES = (
    "CREATE TABLE IF NOT EXISTS identity_tenants ("
    " tenant_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS identity_principals ("
    " principal_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " name TEXT NOT NULL, roles TEXT NOT NULL, created_at TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0, external_id TEXT NULL UNIQUE,"
    " UNIQUE (tenant_id, name))",
    "CREATE TABLE IF NOT EXISTS identity_api_keys ("
    " key_id TEXT PRIMARY KEY, prefix TEXT NOT NULL UNIQUE, principal_id TEXT NOT NULL,"
    " tenant_id TEXT NOT NULL, secret_hash TEXT NOT NULL, scopes TEXT NOT NULL,"
    " created_at TEXT NOT NULL, expires_at TEXT NULL, revoked_at TEXT NULL,"
    " last_used_at TEXT NULL)",
    "CREATE INDEX IF NOT EXISTS identity_api_keys_principal ON identity_api_keys (principal_id)",
    "CREATE TABLE IF NOT EXISTS identity_totp ("
    " principal_id TEXT PRIMARY KEY, secret TEXT NOT NULL, confirmed INTEGER NOT NULL,"
    " last_counter BIGINT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS identity_signing_keys ("
    " key_id TEXT PRIMARY KEY, private_pem TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS identity_consents ("
    " consent_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, subject TEXT NOT NULL,"
    " purpose TEXT NOT NULL, granted INTEGER NOT NULL, recorded_at TEXT NOT NULL,"
    " recorded_by TEXT NOT NULL, evidence TEXT NULL)",
    "CREATE INDEX IF NOT EXISTS identity_consents_subject"
    " ON identity_consents (tenant_id, subject, purpose)",
    "CREATE TABLE IF NOT EXISTS identity_access_log ("
    " event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, tenant_id TEXT NOT NULL,"
    " principal_id TEXT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
    " reason TEXT NULL, outcome TEXT NOT NULL, occurred_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS identity_access_log_time ON identity_access_log (occurred_at)",
)


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "identity_access_log",
        "identity_consents",
        "identity_signing_keys",
        "identity_totp",
        "identity_api_keys",
        "identity_principals",
        "identity_tenants",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
