"""Compliance: sanctions screening (official list formats, versioned ledgered snapshots,
fuzzy matching with a blocking index, re-screening on list changes) and KYC (provider
port, simulated and webhook providers, ledgered status per subject).

Ports: `SanctionsStore`, `KycStore`, `KycProvider` (ports.py). Imported by the composition
root (wiring.py), the API and CLI edges, and the payments decider it wraps.
"""
