"""mandates: the mandate index (folded from the ledger), principal keys, request nonces.

Revision ID: mandates_0001
"""

from alembic import op

revision = "mandates_0001"
down_revision = None
branch_labels = ("mandates",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS mandates ("
        " mandate_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " grantee TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " granted_at TEXT NOT NULL,"
        " doc TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX IF NOT EXISTS mandates_tenant ON mandates (tenant_id, grantee)")
    op.execute(
        "CREATE TABLE IF NOT EXISTS mandate_keys ("
        " tenant_id TEXT NOT NULL,"
        " key_id TEXT NOT NULL,"
        " principal_id TEXT NOT NULL,"
        " thumbprint TEXT NOT NULL,"
        " doc TEXT NOT NULL,"
        " PRIMARY KEY (tenant_id, key_id))"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS mandate_keys_thumbprint ON mandate_keys (tenant_id, thumbprint)"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS mandate_nonces ("
        " scope TEXT NOT NULL,"
        " nonce TEXT NOT NULL,"
        " expires_at BIGINT NOT NULL,"
        " PRIMARY KEY (scope, nonce))"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS mandate_nonces")
    op.execute("DROP TABLE IF EXISTS mandate_keys")
    op.execute("DROP TABLE IF EXISTS mandates")
