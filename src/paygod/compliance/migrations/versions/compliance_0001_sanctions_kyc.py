"""compliance: sanctions list snapshots and entries, screened subjects, thresholds, KYC

Revision ID: compliance_0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "compliance_0001"
down_revision = None
branch_labels = ("compliance",)
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE compliance_snapshots (
            snapshot_id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            list_name TEXT NOT NULL,
            format TEXT NOT NULL,
            source TEXT NOT NULL,
            digest TEXT NOT NULL,
            entry_count INTEGER NOT NULL CHECK (entry_count > 0),
            version INTEGER NOT NULL CHECK (version > 0),
            imported_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 0,
            seq BIGINT,
            UNIQUE (tenant_id, list_name, version)
        )
        """
    )
    # At most one active snapshot per tenant and list: the switch is one transaction.
    op.execute(
        "CREATE UNIQUE INDEX compliance_snapshots_active ON compliance_snapshots "
        "(tenant_id, list_name) WHERE active = 1"
    )
    op.execute(
        """
        CREATE TABLE compliance_list_entries (
            snapshot_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            entry_id TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (snapshot_id, position)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE compliance_subjects (
            tenant_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            query TEXT NOT NULL,
            PRIMARY KEY (tenant_id, subject)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE compliance_settings (
            tenant_id TEXT PRIMARY KEY,
            threshold TEXT NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE compliance_kyc (
            tenant_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            level TEXT NOT NULL,
            status TEXT NOT NULL,
            provider TEXT,
            reference TEXT,
            verified_at TEXT,
            expires_at TEXT,
            seq BIGINT,
            PRIMARY KEY (tenant_id, subject)
        )
        """
    )
    op.execute("CREATE INDEX compliance_kyc_reference ON compliance_kyc (provider, reference)")


def downgrade() -> None:
    for table in (
        "compliance_kyc",
        "compliance_settings",
        "compliance_subjects",
        "compliance_list_entries",
        "compliance_snapshots",
    ):
        op.execute(f"DROP TABLE {table}")
