"""identity: who created each principal, external ids per tenant, rotation lineage of keys,
one-time TOTP enrolment tokens.

- `identity_principals.created_by`: maker-checker refuses a reviewer the maker created
  (directly or through principals it created). NULL: created from the host (CLI, first start).
- `external_id` was UNIQUE across tenants (first come, first served): a tenant could claim
  another tenant's certificate subject or OIDC subject. Now UNIQUE (tenant_id, external_id).
- `identity_api_keys.rotated_from`: revoking a key also ends the grace period of the key it
  replaced.
- `identity_totp_enrolments`: a human's TOTP enrolment needs a one-time token issued by an
  admin (or from the host), so a stolen API key alone cannot enrol a second factor.

Revision ID: identity_0002
Revises: identity_0001
"""

from __future__ import annotations

from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None

_PRINCIPALS_V2 = (
    "CREATE TABLE identity_principals_v2 ("
    " principal_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " name TEXT NOT NULL, roles TEXT NOT NULL, created_at TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0, external_id TEXT NULL, created_by TEXT NULL,"
    " UNIQUE (tenant_id, name))"
)
_COLUMNS = "principal_id, tenant_id, kind, name, roles, created_at, disabled, external_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column's inline UNIQUE constraint: rebuild the table.
        op.execute(_PRINCIPALS_V2)
        op.execute(
            f"INSERT INTO identity_principals_v2 ({_COLUMNS})"
            f" SELECT {_COLUMNS} FROM identity_principals"
        )
        op.execute("DROP TABLE identity_principals")
        op.execute("ALTER TABLE identity_principals_v2 RENAME TO identity_principals")
    else:
        op.execute(
            "ALTER TABLE identity_principals DROP CONSTRAINT IF EXISTS"
            " identity_principals_external_id_key"
        )
        op.execute("ALTER TABLE identity_principals ADD COLUMN created_by TEXT NULL")
    op.execute(
        "CREATE UNIQUE INDEX identity_principals_external_id"
        " ON identity_principals (tenant_id, external_id)"
    )
    op.execute("CREATE INDEX identity_principals_external ON identity_principals (external_id)")
    op.execute("ALTER TABLE identity_api_keys ADD COLUMN rotated_from TEXT NULL")
    op.execute(
        "CREATE TABLE IF NOT EXISTS identity_totp_enrolments ("
        " token_hash TEXT PRIMARY KEY, principal_id TEXT NOT NULL, tenant_id TEXT NOT NULL,"
        " issued_by TEXT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,"
        " used_at TEXT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS identity_totp_enrolments")
    op.execute("ALTER TABLE identity_api_keys DROP COLUMN rotated_from")
    op.execute("DROP INDEX identity_principals_external")
    op.execute("DROP INDEX identity_principals_external_id")
    op.execute("ALTER TABLE identity_principals DROP COLUMN created_by")
