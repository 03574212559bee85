"""risk: the model registry's artefacts (their digests are sealed in the ledger).

Revision ID: risk_0001
"""

from alembic import op

revision = "risk_0001"
down_revision = None
branch_labels = ("risk",)
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    blob = "BYTEA" if bind.dialect.name == "postgresql" else "BLOB"
    op.execute(
        "CREATE TABLE IF NOT EXISTS risk_models ("
        " version INTEGER PRIMARY KEY,"
        " artefact_digest TEXT NOT NULL,"
        f" artefact {blob} NOT NULL,"
        " meta TEXT NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS risk_models")
