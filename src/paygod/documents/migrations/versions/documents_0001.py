"""documents: metadata of stored documents (the bytes live in the object store).

Revision ID: documents_0001
"""

from alembic import op

revision = "documents_0001"
down_revision = None
branch_labels = ("documents",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS documents ("
        " document_id TEXT PRIMARY KEY,"
        " tenant_id TEXT NOT NULL,"
        " digest TEXT NOT NULL,"
        " owner_subject TEXT,"
        " retain_until TEXT NOT NULL,"
        " deleted_at TEXT,"
        " created_at TEXT NOT NULL,"
        " doc TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX IF NOT EXISTS documents_tenant ON documents (tenant_id, created_at)")
    op.execute("CREATE INDEX IF NOT EXISTS documents_digest ON documents (tenant_id, digest)")
    op.execute("CREATE INDEX IF NOT EXISTS documents_retention ON documents (retain_until)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS documents")
