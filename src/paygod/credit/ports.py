"""Ports the credit module owns: the credit bureau (a simulated adapter by default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class BureauReport:
    """The features underwriting reads. The raw response stays with the provider (or the
    PII vault); only these features and the response's digest reach the ledger."""

    applicant_ref: str
    score: int  # 300..850
    monthly_debt: int  # minor units of existing obligations a month
    utilization: int  # percent of revolving limits used
    delinquencies_24m: int
    inquiries_6m: int
    months_on_file: int
    bankruptcy: bool
    raw_digest: str
    # The provider's raw answer: for the PII vault only, never the ledger.
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def features(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "monthly_debt": self.monthly_debt,
            "utilization": self.utilization,
            "delinquencies_24m": self.delinquencies_24m,
            "inquiries_6m": self.inquiries_6m,
            "months_on_file": self.months_on_file,
            "bankruptcy": self.bankruptcy,
            "raw_digest": self.raw_digest,
        }


class BureauUnavailable(Exception):
    """The bureau did not answer (timeout, outage): the application is not decided."""


class CreditBureau(Protocol):
    def report(self, applicant_ref: str) -> BureauReport: ...


class DecisionRuntime(Protocol):
    """The kernel's decision service (`paygod.decisions.DecisionService.decide`): seals a
    decision of the named packs, with its measurements (the risk score among them), and
    returns the sealed record; the same idempotency key returns the same decision."""

    def decide(self, **request: Any) -> dict[str, Any]: ...
