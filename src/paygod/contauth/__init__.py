"""Continuous authentication: behavioural signals keep a session's trust live.

Owns sessions' trust, derived behavioural features (with a retention class) and
per-principal keystroke models sealed in the ledger; see README.md and docs/contauth.md.
Imported by the API, the CLI and the composition root, never by identity (which only
calls the hooks `wiring.py` gives it).
"""
