"""Account store adapters: memory, sqlite, postgres."""
