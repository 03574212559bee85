"""events: the relay's bookkeeping — how far the outbox has been published, and by whom.

The relay keeps its own cursor instead of using the outbox `status` column: in standalone
mode the executor marks events it has no handler for as done, and a relay that waited for
'pending' rows would miss them. The cursor is the (entry_seq, event_id) of the last event
JetStream acknowledged; the lease makes one relay the publisher and the others standbys.

Revision ID: events_0001
"""

from alembic import op

revision = "events_0001"
down_revision = None
branch_labels = ("events",)
depends_on = "ledger_0001"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    big = "BIGINT" if postgres else "INTEGER"
    op.execute(
        "CREATE TABLE IF NOT EXISTS relay_cursors ("
        " name TEXT PRIMARY KEY,"
        f" last_seq {big} NOT NULL DEFAULT -1,"
        " last_event_id TEXT NOT NULL DEFAULT '',"
        f" published {big} NOT NULL DEFAULT 0,"
        " holder TEXT NULL,"
        " lease_until TEXT NULL,"
        " updated_at TEXT NULL)"
    )
    # The relay reads the outbox in ledger order from its cursor.
    op.execute("CREATE INDEX IF NOT EXISTS outbox_relay_order ON outbox (entry_seq, event_id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS outbox_relay_order")
    op.execute("DROP TABLE IF EXISTS relay_cursors")
