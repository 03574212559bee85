"""The panic switch service: flips the switch and records every change in the ledger."""

from __future__ import annotations

from typing import Any

from paygod.executor.model import PanicState
from paygod.executor.ports import PanicSwitch
from paygod.kernel.errors import FieldError, InvalidInput

PANIC_SUBJECT = "panic-switch"


class PanicService:
    """`ledger` is a LedgerService (or None before it is wired); typed loosely on purpose so
    the executor does not import the ledger module at import time."""

    def __init__(self, switch: PanicSwitch, ledger: Any = None, tenant_id: str = "default") -> None:
        self.switch = switch
        self.ledger = ledger
        self.tenant_id = tenant_id

    def status(self) -> PanicState:
        return self.switch.status()

    def is_on(self) -> bool:
        return self.switch.status().on

    def turn_on(self, reason: str, actor: str) -> PanicState:
        reason = reason.strip()
        if not reason:
            raise InvalidInput(
                "a reason is required to turn the panic switch on",
                errors=[FieldError("/reason", "must not be empty")],
            )
        # Freeze first, record second: the switch must take effect even if the ledger is down.
        state = self.switch.turn_on(reason, actor)
        self._record(state)
        return state

    def turn_off(self, actor: str) -> PanicState:
        state = self.switch.turn_off(actor)
        self._record(state)
        return state

    def _record(self, state: PanicState) -> None:
        if self.ledger is None:
            return
        from paygod.ledger import EntryDraft  # deferred: the executor loads before the ledger

        self.ledger.append(
            EntryDraft(
                kind="panic",
                subject=PANIC_SUBJECT,
                payload=state.as_dict(),
                tenant_id=self.tenant_id,
                valid_from=state.since,
            )
        )
