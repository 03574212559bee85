"""Builds the credit services from the ledger, accounting and payments they lend through,
and registers the application saga's steps with the executor's worker.

Providers default to the simulated ones (credit/bureau.py); the saga screens the verified
name through compliance's screening and keeps raw provider answers in the PII vault."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from paygod.compliance.model import ScreeningQuery
from paygod.credit.bureau import ProviderBureau, SimulatedBureau
from paygod.credit.loans import LoanService
from paygod.credit.provider_settings import load_providers
from paygod.credit.service import CreditService
from paygod.executor.breaker import BreakerBoard

if TYPE_CHECKING:
    from paygod.accounting import AccountingService
    from paygod.compliance.service import ScreeningService
    from paygod.credit.ports import CreditBureau, DecisionRuntime
    from paygod.credit.providers import Provider
    from paygod.credit.saga import RawVault
    from paygod.executor import Worker
    from paygod.kernel.clock import Clock
    from paygod.ledger import LedgerService
    from paygod.payments.service import PaymentService


class ComplianceScreening:
    """The saga's `Screening` port over compliance's sanctions screening."""

    def __init__(self, screening: ScreeningService) -> None:
        self.screening = screening

    def screen_name(self, tenant_id: str, name: str) -> dict[str, Any]:
        result = self.screening.screen(tenant_id, ScreeningQuery(name))
        return {"decision": result.decision, "hits": len(result.hits)}


def build_credit(
    ledger: LedgerService,
    clock: Clock,
    accounting: AccountingService,
    payments: PaymentService,
    decisions: DecisionRuntime,
    *,
    worker: Worker | None = None,
    screening: ScreeningService | None = None,
    vault: RawVault | None = None,
    bureau: CreditBureau | None = None,
    kyc: Provider | None = None,
    account: Provider | None = None,
    inline: bool = True,
    home: Path | None = None,
    breakers: BreakerBoard | None = None,
) -> tuple[CreditService, LoanService]:
    """`home`: read `credit-providers.yaml` there (provider_settings.py); explicit
    providers win over it."""
    configured = load_providers(home, breakers or BreakerBoard(clock)) if home else {}
    if bureau is None and "bureau" in configured:
        bureau = ProviderBureau(configured["bureau"])
    lending = CreditService(
        ledger,
        clock,
        bureau or SimulatedBureau(),
        decisions=decisions,
        kyc=kyc or configured.get("kyc"),
        account=account or configured.get("account"),
        screening=ComplianceScreening(screening) if screening is not None else None,
        vault=vault,
        inline=inline,
    )
    if worker is not None:
        lending.saga.register(worker)
    return lending, LoanService(ledger, clock, lending, accounting, payments)
