"""Rail connectors: simulated, outbound webhook, SEPA credit transfer file."""
