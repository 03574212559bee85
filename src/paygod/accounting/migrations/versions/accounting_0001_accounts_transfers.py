"""accounting: accounts and transfers

Revision ID: accounting_0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "accounting_0001"
down_revision = None
branch_labels = ("accounting",)
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE accounting_accounts (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            ledger TEXT NOT NULL,
            code TEXT NOT NULL,
            flags INTEGER NOT NULL DEFAULT 0,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            debits_posted BIGINT NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
            credits_posted BIGINT NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
            debits_pending BIGINT NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
            credits_pending BIGINT NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
            PRIMARY KEY (tenant_id, id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE accounting_transfers (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            debit_account_id TEXT NOT NULL,
            credit_account_id TEXT NOT NULL,
            amount BIGINT NOT NULL CHECK (amount > 0),
            ledger TEXT NOT NULL,
            code TEXT NOT NULL,
            flags INTEGER NOT NULL DEFAULT 0,
            pending_id TEXT,
            timeout_seconds INTEGER NOT NULL DEFAULT 0,
            reversal_of TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            timestamp TEXT NOT NULL,
            state TEXT NOT NULL,
            expires_at TEXT,
            resolved_at TEXT,
            reversed_amount BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, id)
        )
        """
    )
    op.execute(
        "CREATE INDEX accounting_transfers_debit ON accounting_transfers "
        "(tenant_id, debit_account_id, timestamp)"
    )
    op.execute(
        "CREATE INDEX accounting_transfers_credit ON accounting_transfers "
        "(tenant_id, credit_account_id, timestamp)"
    )
    op.execute(
        "CREATE INDEX accounting_transfers_due ON accounting_transfers (expires_at) "
        "WHERE state = 'pending'"
    )


def downgrade() -> None:
    op.execute("DROP TABLE accounting_transfers")
    op.execute("DROP TABLE accounting_accounts")
