"""accounting: valid time (backdated postings) and the bitemporal postings index

Revision ID: accounting_0003
Revises: accounting_0002
"""

from __future__ import annotations

from alembic import op

revision = "accounting_0003"
down_revision = "accounting_0002"
branch_labels = None
depends_on = None

# One posting per side of every posted amount already in the books (a hold counts once it
# is posted: its post_pending transfer is the posted one).
BACKFILL = """
INSERT INTO accounting_postings (tenant_id, account_id, n, transfer_id, valid_at,
    recorded_at, debit, credit, backdated, cum_debits, cum_credits, frontier)
SELECT tenant_id, account_id, ROW_NUMBER() OVER w, transfer_id, ts, ts, debit, credit,
    0, SUM(debit) OVER w, SUM(credit) OVER w, ts
FROM (
    SELECT tenant_id, debit_account_id AS account_id, id AS transfer_id,
        timestamp AS ts, amount AS debit, 0 AS credit
    FROM accounting_transfers WHERE state = 'posted' AND (flags & 1) = 0
    UNION ALL
    SELECT tenant_id, credit_account_id, id, timestamp, 0, amount
    FROM accounting_transfers WHERE state = 'posted' AND (flags & 1) = 0
) AS x
WINDOW w AS (PARTITION BY tenant_id, account_id ORDER BY ts, transfer_id
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
"""


def upgrade() -> None:
    op.execute("ALTER TABLE accounting_transfers ADD COLUMN valid_from TEXT NULL")
    # One row per posted amount and account side; see stores/sql.py for the running totals.
    op.execute(
        """
        CREATE TABLE accounting_postings (
            tenant_id TEXT NOT NULL,
            account_id TEXT NOT NULL,
            n BIGINT NOT NULL,
            transfer_id TEXT NOT NULL,
            valid_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            debit BIGINT NOT NULL,
            credit BIGINT NOT NULL,
            backdated INTEGER NOT NULL,
            cum_debits BIGINT NOT NULL,
            cum_credits BIGINT NOT NULL,
            frontier TEXT NOT NULL,
            PRIMARY KEY (tenant_id, account_id, n)
        )
        """
    )
    # The running totals: one seek to the last on-time row at or before an instant.
    op.execute(
        "CREATE INDEX accounting_postings_running ON accounting_postings "
        "(tenant_id, account_id, valid_at, n) WHERE backdated = 0"
    )
    # Backdated rows, summed by range from the index alone (it covers the sum).
    op.execute(
        "CREATE INDEX accounting_postings_late ON accounting_postings "
        "(tenant_id, account_id, valid_at, recorded_at, debit, credit) WHERE backdated = 1"
    )
    # Every posted amount so far took effect when it was recorded: none is backdated, and
    # the running totals follow (timestamp, id) order.
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute("DROP TABLE accounting_postings")
    op.execute("ALTER TABLE accounting_transfers DROP COLUMN valid_from")
