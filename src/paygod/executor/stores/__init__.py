"""Adapters of the executor's ports (panic switch, outbox store)."""
