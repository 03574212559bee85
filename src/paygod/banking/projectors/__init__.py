"""Projectors: each folds ledger entries into the rows of the tables its module's write path
fills, so those tables can be rebuilt from the ledger alone."""
