"""Banking on the ledger as the event store: projections rebuilt from entries, backup and
restore of the books (see docs/event-store.md)."""
