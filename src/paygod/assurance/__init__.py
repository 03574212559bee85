"""Assurance: controls catalogs, OSCAL documents and SOX/PCI DSS/GDPR reports from the ledger.

Kept free of imports at package level: `paygod.decisions` reads `assurance.catalog` to
refuse unknown control ids when a pack loads, and must not pull in what builds documents.
"""
