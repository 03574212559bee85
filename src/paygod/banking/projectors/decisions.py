"""The decision index (`decision_index`) from the `decision` entries the decision service
seals: one row per decision, keyed by its id, pointing at the entry's seq."""

from __future__ import annotations

from typing import Any

from paygod.banking.projectors.base import Key, Projector, Row, Table
from paygod.decisions.measurements import request_amount
from paygod.decisions.stores.sql import COLUMNS
from paygod.ledger import Entry

INDEX = Table("decision_index", tuple(c.strip() for c in COLUMNS.split(",")), ("decision_id",))


class DecisionIndexProjector(Projector):
    name = "decisions"
    tables = (INDEX,)
    kinds = frozenset({"decision"})

    def __init__(self, resolve: Any) -> None:
        super().__init__(resolve)
        self._rows: dict[Key, Row] = {}

    def apply(self, entry: Entry) -> None:
        p = entry.payload
        # The payment decider's built-in threshold decisions (`verdict`, no input) are sealed
        # as decisions too, but never indexed: they are found through their payment.
        if "input_hash" not in p or "decision" not in p:
            return
        request_hash = str(p.get("request_hash") or "")
        key = (p["decision_id"],)
        self._rows[key] = (
            p["decision_id"],
            entry.tenant_id,
            p.get("idempotency_key"),
            request_hash.removeprefix("sha256:"),
            p["subject"],
            p["decision"],
            request_amount(p.get("input") or {}, p.get("context") or {}),
            p["decided_at"],
            entry.seq,
            p.get("requested_by"),
            p.get("pack"),
        )
        self.touch(INDEX.name, key)

    def rows(self, table: str) -> dict[Key, Row]:
        return dict(self._rows)
