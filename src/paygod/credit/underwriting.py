"""Underwriting: affordability here, the decision in the kernel's decision service.

The scorecard (points per attribute band, the grade the total earns), the knock-outs
(bankruptcy, debt-to-income above the product's maximum, amount above the grade's limit,
the kernel's risk score) and the adverse-action reasons are the paygod/v1 pack
`credit-underwriting` (decisions/default_packs/credit-underwriting/pack.yaml), evaluated and
sealed by `paygod.decisions` with the risk module's score of the application. This module
states what the pack is asked (`decision_request`) and reads the sealed decision back
(`read_decision`): the verdict, the grade, and the reasons a declined applicant is told.

Reasons: each is a measurement of the pack named by its code (`r01_credit_score` ...) and
banded by its text. A decline names at most four: the knock-outs that hold (unit
`knockout`, in the pack's order), then the attributes that cost the most points (unit
`points_lost`, most first, the code's order on a tie) — the order Regulation B's
adverse-action notice asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paygod.credit.model import Application
from paygod.credit.products import Product

PACK = "credit-underwriting"
INPUT = "credit_application"
KNOCKOUT, POINTS_LOST = "knockout", "points_lost"
# What a pack verdict other than allow or deny becomes: there is no manual-review state in
# the saga, so a flag (the risk model could not score) or an error declines, fail closed.
NOT_ASSESSED = ("R10", "The application could not be assessed automatically")
MAX_REASONS = 4


@dataclass(frozen=True, slots=True)
class Underwriting:
    approved: bool
    points: int | None
    grade: str | None
    dti: Decimal
    reasons: tuple[dict[str, str], ...]
    decision: Mapping[str, Any]  # the sealed decision's id, seq, verdict, rule and pack
    risk: Mapping[str, Any]  # the kernel's risk score of the application, with its band

    def as_dict(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "points": self.points,
            "grade": self.grade,
            "dti": str(self.dti),
            "reasons": list(self.reasons),
            "decision_id": self.decision["decision_id"],
            "decision": dict(self.decision),
            "risk": dict(self.risk),
        }


def debt_to_income(income: int, declared_debt: int, bureau_debt: int, new_payment: int) -> Decimal:
    """Monthly obligations (the larger of declared and bureau debt, plus the new payment)
    over declared monthly income, to 4 places."""
    obligations = max(declared_debt, bureau_debt) + new_payment
    return (Decimal(obligations) / Decimal(income)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def decision_request(application: Application, product: Product, dti: Decimal) -> dict[str, Any]:
    """The decision service's request: the pack, the application's facts (features, no
    personal data), and a context the risk module scores (the amount, the applicant).

    The subject is the applicant reference, so the risk windows and the decision index
    see an applicant's applications together; the idempotency key is the application's,
    so a step run again (a crash, a redelivery) gets the decision sealed the first time."""
    bureau = dict(application.bureau or {})
    checks = application.checks or {}
    refs = [bureau.get("raw_digest"), (checks.get("kyc") or {}).get("digest")]
    return {
        "subject": application.applicant_ref,
        "packs": [PACK],
        "input": {
            INPUT: {
                "product": {
                    "id": product.product_id,
                    "max_dti": str(product.max_dti),
                    "grades": list(product.rates),
                    "limits": dict(product.limits_by_grade),
                },
                "amount": application.amount,
                "currency": application.currency,
                "payments": application.payments,
                "dti": str(dti),
                "bureau": {
                    key: bureau[key]
                    for key in (
                        "score",
                        "utilization",
                        "delinquencies_24m",
                        "inquiries_6m",
                        "months_on_file",
                        "bankruptcy",
                    )
                },
            }
        },
        "context": {
            "channel": "credit",
            "amount_minor": application.amount,
            "payer_ref": application.applicant_ref,
            "evidence_refs": [r for r in refs if isinstance(r, str)],
        },
        "idempotency_key": f"credit-underwriting:{application.application_id}",
        "tenant_id": application.tenant_id,
        "requested_by": application.applicant,
    }


def read_decision(sealed: Mapping[str, Any], dti: Decimal) -> Underwriting:
    """The underwriting a sealed decision of the pack gives: allow → the grade the points
    earn; deny → the reasons its measurements name; anything else → declined, fail closed."""
    verdict = str(sealed.get("decision"))
    mine: Mapping[str, Any] = next(
        (p for p in sealed.get("packs") or () if p.get("name") == PACK), {}
    )
    measured = {m["name"]: m for m in mine.get("measurements") or () if "value" in m}
    kernel = {m["name"]: m.get("value") for m in sealed.get("measurements") or ()}
    points = measured.get("points", {})
    approved = verdict == "allow" and points.get("band") in ("A", "B", "C", "D")
    reasons: list[tuple[str, str]] = []
    if not approved:
        reasons = adverse_reasons(list(measured.values()))
        if verdict not in ("allow", "deny"):
            reasons = [NOT_ASSESSED, *reasons]
    return Underwriting(
        approved=approved,
        points=points.get("value"),
        grade=str(points["band"]) if approved else None,
        dti=dti,
        reasons=tuple({"code": c, "text": t} for c, t in reasons[:MAX_REASONS]),
        decision={
            "decision_id": sealed["decision_id"],
            "seq": (sealed.get("ledger") or {}).get("seq"),
            "verdict": verdict,
            "rule": sealed.get("rule"),
            "reason": sealed.get("reason"),
            "pack": {k: mine.get(k) for k in ("name", "version", "digest")},
        },
        risk={
            "score": kernel.get("risk_score"),
            "band": kernel.get("risk_band"),
            "reasons": kernel.get("risk_reasons") or [],
        },
    )


def adverse_reasons(measurements: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Knock-outs that hold in the pack's order, then points lost, most first."""

    def told(m: Mapping[str, Any]) -> tuple[str, str]:
        return str(m["name"]).split("_", 1)[0].upper(), str(m["band"])

    held = [m for m in measurements if m.get("value", 0) > 0 and "band" in m]
    knockouts = [told(m) for m in held if m.get("unit") == KNOCKOUT]
    lost = sorted(
        (m for m in held if m.get("unit") == POINTS_LOST),
        key=lambda m: (-m["value"], m["name"]),
    )
    return [*knockouts, *(told(m) for m in lost)][:MAX_REASONS]
