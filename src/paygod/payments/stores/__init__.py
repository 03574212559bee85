"""Adapters of the payments module's ports."""
