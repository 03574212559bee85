"""Ports the actions module owns: an action handler and the destination allowlist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from paygod.actions.model import ActionRun, ActionSpec, Destination
from paygod.kernel.errors import FieldError


class ActionHandler(Protocol):
    """Performs one type of action.

    `check` runs when the decision is requested (bad input is a 422 then, never a dead
    letter later); `amount_minor` is the decision's amount. `perform` runs in the
    executor and must be idempotent by `run.action_id`: it returns the result to seal,
    raises `ActionRefused` when no retry can help and any other exception to be retried."""

    type: str

    def check(
        self, tenant_id: str, spec: ActionSpec, pointer: str, amount_minor: int | None
    ) -> list[FieldError]: ...

    def perform(self, run: ActionRun) -> Mapping[str, Any]: ...


class TransactionalHandler(ActionHandler, Protocol):
    """A handler whose side effect is a ledger write: performed inside the transaction
    that seals its result, so both commit or neither does (exactly once by construction)."""

    def perform_in(self, conn: Any, run: ActionRun) -> tuple[Mapping[str, Any], list[Any]]: ...


class DestinationStore(Protocol):
    def put(self, destination: Destination) -> None: ...

    def get(self, tenant_id: str, name: str) -> Destination | None: ...

    def list(self, tenant_id: str) -> list[Destination]: ...

    def delete(self, tenant_id: str, name: str) -> bool: ...
