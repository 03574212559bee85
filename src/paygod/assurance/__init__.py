"""Assurance: controls catalogs, OSCAL documents and SOX/PCI DSS/GDPR reports from the ledger.

The controls catalogs live in `paygod.decisions.control_catalog` (the pack loader refuses
unknown control ids with them); this package builds documents from them and the ledger.
"""
