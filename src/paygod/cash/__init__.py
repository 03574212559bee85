"""Cash operations (CashHub): branches, tills and vaults as accounts, cash moved by transfers."""
