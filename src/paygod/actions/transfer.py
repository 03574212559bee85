"""The built-in `transfer` action: a double-entry transfer through the accounting service.

`payload`: `debit_account_id`, `credit_account_id`, `ledger` (the asset), optional `code`
and `amount`. The amount is the decision's own (`amount_minor`, the figure the pack
judged); a payload amount must equal it. The transfer's id is derived from the decision,
and it commits in the same ledger transaction as the sealed result, so it happens once
however often the executor runs the message; balance limits and holds apply as for any
transfer, and a refusal (insufficient funds, closed account) dead-letters the action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paygod.actions.model import ActionRefused, ActionRun, ActionSpec
from paygod.kernel.errors import FieldError

ACCOUNT_FIELDS = ("debit_account_id", "credit_account_id", "ledger")


def transfer_id(decision_id: str) -> str:
    return f"action-{decision_id}"


class TransferAction:
    type = "transfer"

    def __init__(self, accounting: Any) -> None:
        self.accounting = accounting

    def check(
        self, tenant_id: str, spec: ActionSpec, pointer: str, amount_minor: int | None
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        payload = spec.payload
        for name in ACCOUNT_FIELDS:
            value = payload.get(name)
            if not isinstance(value, str) or not value:
                errors.append(
                    FieldError(f"{pointer}/payload/{name}", "expected a non-empty string")
                )
        code = payload.get("code", "action")
        if not isinstance(code, str) or not code:
            errors.append(FieldError(f"{pointer}/payload/code", "expected a non-empty string"))
        amount = payload.get("amount")
        if amount_minor is None:
            errors.append(
                FieldError(
                    f"{pointer}/payload/amount",
                    "a transfer needs the decision's amount (input.payment.amount_minor "
                    "or context.amount_minor)",
                )
            )
        elif amount is not None and (type(amount) is not int or amount <= 0):
            errors.append(FieldError(f"{pointer}/payload/amount", "expected a positive integer"))
        elif amount is not None and amount_minor is not None and amount != amount_minor:
            errors.append(
                FieldError(
                    f"{pointer}/payload/amount",
                    f"must equal the decision's amount_minor ({amount_minor}), the amount judged",
                )
            )
        elif amount is None and amount_minor is not None and amount_minor <= 0:
            errors.append(
                FieldError(f"{pointer}/payload/amount", "the decision's amount is not positive")
            )
        return errors

    def perform(self, run: ActionRun) -> Mapping[str, Any]:
        results = self.accounting.create_transfers(run.tenant_id, [self._request(run)])
        return self._result(results[0])

    def perform_in(self, conn: Any, run: ActionRun) -> tuple[Mapping[str, Any], list[Any]]:
        results, drafts = self.accounting.create_transfers_in(
            conn, run.tenant_id, [self._request(run)]
        )
        return self._result(results[0]), list(drafts)

    def _request(self, run: ActionRun) -> Any:
        from paygod.accounting.model import TransferRequest

        errors = self.check(run.tenant_id, run.spec, "/action", run.amount_minor)
        if errors:
            raise ActionRefused(f"{errors[0].pointer}: {errors[0].message}")
        payload = run.spec.payload
        amount = payload.get("amount", run.amount_minor)
        return TransferRequest(
            id=transfer_id(run.decision_id),
            debit_account_id=str(payload["debit_account_id"]),
            credit_account_id=str(payload["credit_account_id"]),
            amount=int(amount),
            ledger=str(payload["ledger"]),
            code=str(payload.get("code", "action")),
            metadata={"decision_id": run.decision_id, "action_id": run.action_id},
        )

    @staticmethod
    def _result(outcome: Any) -> Mapping[str, Any]:
        if outcome.error is not None:
            raise ActionRefused(f"transfer refused: {outcome.error.code}: {outcome.error.message}")
        transfer = outcome.transfer
        return {
            "transfer_id": transfer.id,
            "amount": transfer.amount,
            "ledger": transfer.ledger,
            "created": outcome.created,
        }
