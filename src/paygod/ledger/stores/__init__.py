"""Ledger store adapters: memory, sqlite, postgres, jsonl — one contract suite for all."""
