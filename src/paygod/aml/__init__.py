"""AML typologies over the ledger's money movements (see README.md)."""
