"""accounting: closed periods and their salted statements (balance proofs)

Revision ID: accounting_0004
Revises: accounting_0003
"""

from __future__ import annotations

from alembic import op

revision = "accounting_0004"
down_revision = "accounting_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE accounting_periods (
            tenant_id TEXT NOT NULL,
            period TEXT NOT NULL,
            until TEXT NOT NULL,
            closed_at TEXT NOT NULL,
            root_hash TEXT NOT NULL,
            sums TEXT NOT NULL,
            accounts INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, period)
        )
        """
    )
    # The salts are what keep a sibling leaf anonymous: they never leave this table except
    # in the account's own proof.
    op.execute(
        """
        CREATE TABLE accounting_period_statements (
            tenant_id TEXT NOT NULL,
            period TEXT NOT NULL,
            position INTEGER NOT NULL,
            account_id TEXT NOT NULL,
            ledger TEXT NOT NULL,
            debits BIGINT NOT NULL,
            credits BIGINT NOT NULL,
            salt TEXT NOT NULL,
            PRIMARY KEY (tenant_id, period, position)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE accounting_period_statements")
    op.execute("DROP TABLE accounting_periods")
