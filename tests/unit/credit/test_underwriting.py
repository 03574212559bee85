"""Underwriting is a sealed decision of the kernel's decision service: the pack
`credit-underwriting` (scorecard, knock-outs, adverse-action reasons) with the risk module's
score, which the application names so that an auditor can follow application → decision
→ ledger seq."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paygod.credit.bureau import SimulatedBureau
from paygod.credit.model import Application, ApplicationStatus
from paygod.credit.products import CATALOG
from paygod.credit.service import CreditService
from paygod.credit.underwriting import PACK, decision_request
from paygod.decisions.packs import DEFAULT_PACKS_DIR
from paygod.decisions.service import DecisionService
from paygod.kernel.clock import ManualClock
from paygod.ledger import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore
from tests.unit.credit.test_applications import NOW, body, decisions


def world(packs: Path = DEFAULT_PACKS_DIR, *, risk: bool = True) -> CreditService:
    clock = ManualClock(NOW)
    ledger = LedgerService(MemoryLedgerStore(), clock)
    runtime = decisions(ledger, clock, packs, risk=risk)
    return CreditService(ledger, clock, SimulatedBureau(), decisions=runtime)


def apply(service: CreditService, **kw: Any) -> Application:
    application, _ = service.submit(body(**kw), tenant_id="t1", applicant="agent-a")
    return application


def sealed(service: CreditService, application: Application) -> dict[str, Any]:
    """The decision the application names, read back from the decision service."""
    underwriting = application.underwriting or {}
    decisions = service.saga.decisions
    assert isinstance(decisions, DecisionService)
    found = decisions.get(underwriting["decision_id"])
    assert found["ledger"]["seq"] == underwriting["decision"]["seq"]
    entry = service.ledger.get(underwriting["decision"]["seq"])
    assert entry is not None and entry.kind == "decision"
    assert entry.payload["decision_id"] == underwriting["decision_id"]
    return found


def processed(service: CreditService, application: Application) -> dict[str, Any]:
    events = [
        e["envelope"]["payload"]
        for e in service.ledger.outbox
        if e["event_type"] == "ApplicationProcessed"
        and e["envelope"]["aggregate_id"] == application.application_id
    ]
    assert len(events) == 1
    payload: dict[str, Any] = events[0]
    return payload


def told(decision: dict[str, Any]) -> dict[str, str]:
    """The reasons the decision's explanation names: each a measurement of the pack,
    its code in the name, its text the band, when it cost points or knocked out."""
    pack = next(p for p in decision["explanation"]["packs"] if p["pack"] == PACK)
    return {
        m["name"].split("_")[0].upper(): m["band"]
        for m in pack["measurements"]
        if m.get("unit") in ("knockout", "points_lost") and m["value"] > 0
    }


def test_an_approval_is_the_packs_allow_with_the_risk_score() -> None:
    service = world()
    application = apply(service)
    assert application.status is ApplicationStatus.OFFERED
    underwriting = application.underwriting or {}
    assert underwriting["approved"] and underwriting["points"] == 310
    assert underwriting["grade"] == "A"
    decision = sealed(service, application)
    assert decision["decision"] == "allow" and decision["rule"] == "allow-graded"
    assert decision["subject"] == "urn:applicant:prime"
    assert decision["packs"][0]["name"] == PACK and decision["packs"][0]["version"] == "1.0.0"
    # The risk module scored the application; its score is a measurement of the decision.
    kernel = {m["name"]: m["value"] for m in decision["measurements"]}
    assert kernel["risk_score"] == 0 and kernel["risk_band"] == "low"  # no risk rule held
    assert underwriting["risk"]["score"] == kernel["risk_score"]
    assert processed(service, application)["decision_id"] == decision["decision_id"]
    assert told(decision) == {}
    assert service.ledger.verify().ok


def test_a_decline_names_four_reasons_in_regulation_b_order() -> None:
    service = world()
    application = apply(service, applicant_ref="urn:applicant:thin-file")
    assert application.status is ApplicationStatus.DECLINED and application.offer is None
    reasons = (application.underwriting or {})["reasons"]
    # Points lost: score 90, utilisation 60, history 40, inquiries 25 (no knock-out).
    assert reasons == [
        {"code": "R01", "text": "Credit score too low"},
        {"code": "R02", "text": "Proportion of revolving balances to limits too high"},
        {"code": "R05", "text": "Length of credit history too short"},
        {"code": "R04", "text": "Too many recent credit inquiries"},
    ]
    decision = sealed(service, application)
    assert decision["decision"] == "deny" and decision["rule"] == "deny-below-cutoff"
    # Every reason told is in the sealed explanation, with its text.
    assert {r["code"]: r["text"] for r in reasons}.items() <= told(decision).items()
    event = processed(service, application)
    assert event["reasons"] == ["R01", "R02", "R05", "R04"]
    assert event["reason_texts"] == [r["text"] for r in reasons]
    assert event["decision_id"] == decision["decision_id"]


def test_knock_outs_come_first() -> None:
    service = world()
    application = apply(service, applicant_ref="urn:applicant:subprime", monthly_income=300_000)
    codes = [r["code"] for r in (application.underwriting or {})["reasons"]]
    # Bankruptcy and DTI knock out; then score (120 lost), utilisation and delinquency (60
    # each: code order on the tie).
    assert codes == ["R07", "R06", "R01", "R02"]
    assert sealed(service, application)["rule"] == "deny-bankruptcy"


def test_the_kernels_risk_score_knocks_out() -> None:
    """Three applications just under the reporting threshold in a day: the risk module's
    structuring rule scores the third 0.8, and the pack declines it for that alone."""
    service = world()
    first = apply(service, amount=950_000)
    second = apply(service, amount=950_000)
    assert first.status is second.status is ApplicationStatus.OFFERED
    third = apply(service, amount=950_000)
    assert third.status is ApplicationStatus.DECLINED
    underwriting = third.underwriting or {}
    assert underwriting["reasons"][0] == {
        "code": "R09",
        "text": "Application risk assessment too high",
    }
    assert underwriting["risk"]["score"] >= 0.7 and "structuring" in underwriting["risk"]["reasons"]
    decision = sealed(service, third)
    assert decision["rule"] == "deny-risk-score"
    assert told(decision)["R09"] == "Application risk assessment too high"


def test_without_a_risk_score_the_application_is_declined_fail_closed() -> None:
    service = world(risk=False)
    application = apply(service)
    assert application.status is ApplicationStatus.DECLINED
    assert (application.underwriting or {})["reasons"][0]["code"] == "R10"
    assert sealed(service, application)["decision"] == "flag"


def test_a_new_pack_version_is_named_by_the_decisions_it_makes(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(DEFAULT_PACKS_DIR / PACK, packs / PACK)
    service = world(packs)
    before = apply(service, applicant_ref="urn:applicant:near-prime")
    assert before.status is ApplicationStatus.OFFERED  # 180 points: grade C
    pack_file = packs / PACK / "pack.yaml"
    source = pack_file.read_text()
    pack_file.write_text(
        source.replace('version: "1.0.0"', 'version: "1.1.0"').replace(
            'condition: "measure.points < 130"', 'condition: "measure.points < 200"'
        )
    )
    after = apply(service, applicant_ref="urn:applicant:near-prime")
    assert after.status is ApplicationStatus.DECLINED
    old, new = sealed(service, before), sealed(service, after)
    assert old["packs"][0]["version"] == "1.0.0" and new["packs"][0]["version"] == "1.1.0"
    assert old["packs"][0]["digest"] != new["packs"][0]["digest"]
    assert (after.underwriting or {})["decision"]["pack"]["version"] == "1.1.0"
    # Each version's source is sealed once, so either decision replays as it was made.
    decisions = service.saga.decisions
    assert isinstance(decisions, DecisionService)
    assert decisions.replay(old["ledger"]["seq"])["identical"]
    assert decisions.replay(new["ledger"]["seq"])["identical"]


@pytest.mark.parametrize("ref", ["urn:applicant:prime", "urn:applicant:subprime"])
def test_a_step_run_again_gets_the_same_decision(ref: str) -> None:
    """A crash after the decision was sealed and before the assessment: the step runs
    again from `checked` and the decision service replays what its key sealed."""
    service = world()
    application = apply(service, applicant_ref=ref)
    underwriting = application.underwriting or {}
    history = service.ledger.history(f"credit-application:{application.application_id}")
    checked = Application.from_dict(
        next(e for e in history if e.payload["transition"] == "checked").payload["application"]
    )
    request = decision_request(checked, CATALOG[checked.product_id], Decimal(underwriting["dti"]))
    again = service.saga.decisions.decide(**request, receipt=False)
    assert again["replayed"] and again["decision_id"] == underwriting["decision_id"]
