"""Documents: statements, contracts and KYC files stored by content digest."""
