"""The panic switch service: flips a switch and records every change in the ledger.

Two kinds of switch (see ports.PanicSwitch): the platform's (`tenant_id=None`), which
freezes every tenant, and each tenant's own. A tenant's change is recorded in that
tenant's part of the ledger, so no other tenant reads its reason or actor; a platform
change is recorded under the platform tenant `*`, which only platform admins read.
"""

from __future__ import annotations

from typing import Any

from paygod.executor.model import PanicState
from paygod.executor.ports import PanicSwitch
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.identifiers import identifier_problem

PANIC_SUBJECT = "panic-switch"
PLATFORM_TENANT = "*"  # identity's ALL_TENANTS: the executor must not import identity


def panic_subject(tenant_id: str | None) -> str:
    return PANIC_SUBJECT if tenant_id is None else f"{PANIC_SUBJECT}:tenant:{tenant_id}"


class PanicService:
    """`ledger` is a LedgerService (or None before it is wired); typed loosely on purpose so
    the executor does not import the ledger module at import time."""

    def __init__(self, switch: PanicSwitch, ledger: Any = None, tenant_id: str = "default") -> None:
        self.switch = switch
        self.ledger = ledger
        self.tenant_id = tenant_id  # the kernel's default tenant (kept for callers)

    def status(self, tenant_id: str | None = None) -> PanicState:
        """One switch: the platform's (None) or a tenant's own."""
        return self.switch.status(_checked(tenant_id))

    def is_on(self, tenant_id: str | None = None) -> bool:
        """Whether side effects are frozen for `tenant_id`: by the platform switch or by its
        own (None: the platform switch alone)."""
        if self.switch.status().on:
            return True
        return tenant_id is not None and self.switch.status(tenant_id).on

    def frozen_tenants(self) -> frozenset[str]:
        return self.switch.frozen_tenants()

    def turn_on(self, reason: str, actor: str, tenant_id: str | None = None) -> PanicState:
        reason = reason.strip()
        if not reason:
            raise InvalidInput(
                "a reason is required to turn the panic switch on",
                errors=[FieldError("/reason", "must not be empty")],
            )
        # Freeze first, record second: the switch must take effect even if the ledger is down.
        state = self.switch.turn_on(reason, actor, _checked(tenant_id))
        self._record(state)
        return state

    def turn_off(self, actor: str, tenant_id: str | None = None) -> PanicState:
        state = self.switch.turn_off(actor, _checked(tenant_id))
        self._record(state)
        return state

    def _record(self, state: PanicState) -> None:
        if self.ledger is None:
            return
        from paygod.ledger import EntryDraft  # deferred: the executor loads before the ledger

        self.ledger.append(
            EntryDraft(
                kind="panic",
                subject=panic_subject(state.tenant_id),
                payload=state.as_dict(),
                tenant_id=state.tenant_id or PLATFORM_TENANT,
                valid_from=state.since,
            )
        )


def _checked(tenant_id: str | None) -> str | None:
    """A tenant id names a file, a row and a Redis field: an identifier, and never `*`."""
    if tenant_id is None:
        return None
    problem = identifier_problem(tenant_id) if tenant_id != PLATFORM_TENANT else "is the platform"
    if problem:
        raise InvalidInput(
            f"not a tenant id: {problem}", errors=[FieldError("/tenant_id", problem)]
        )
    return tenant_id
