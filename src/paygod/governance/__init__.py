"""Policy governance: the stages a pack version moves through (draft → shadow → canary →
active → retired), the statistics that gate a promotion, and the automatic rollback of a
canary that breaches its SLO. Owns no storage of its own: every transition is a ledger
entry (subject `policy:<pack>`), and the live statistics are recomputed from sealed
decisions. May import `decisions` and `ledger`; nothing in the kernel imports it back.
"""
