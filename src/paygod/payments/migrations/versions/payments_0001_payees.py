"""payments: the payee vault (raw payee details, kept out of the ledger).

Revision ID: payments_0001
"""

from alembic import op

revision = "payments_0001"
down_revision = None
branch_labels = ("payments",)
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS payment_payees ("
        " payment_id TEXT PRIMARY KEY,"
        " payee TEXT NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS payment_payees")
