"""accounting: the principal an account belongs to (scope `own` is enforced in queries)

Revision ID: accounting_0002
Revises: accounting_0001
"""

from __future__ import annotations

from alembic import op

revision = "accounting_0002"
down_revision = "accounting_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for every existing account: the tenant's own books, owned by no principal.
    op.execute("ALTER TABLE accounting_accounts ADD COLUMN owner_id TEXT NULL")
    # An agent lists its accounts, and its transfers through them, by (tenant, owner).
    op.execute(
        "CREATE INDEX accounting_accounts_owner ON accounting_accounts (tenant_id, owner_id, id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX accounting_accounts_owner")
    op.execute("ALTER TABLE accounting_accounts DROP COLUMN owner_id")
