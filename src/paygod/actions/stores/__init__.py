"""Adapters of the destination allowlist port: memory (tests) and SQL (SQLite, PostgreSQL)."""
