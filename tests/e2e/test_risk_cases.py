"""The risk demo path over HTTP: a card-testing burst and a structuring pattern raise
alerts, the alerts open cases, a compliance officer works and closes them, and the ledger
verifies. Also: maker-checker on cases, illegal transitions, bad input, fail closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from tests.support.http import principal_headers, unthrottled_client

TENANT = "acme"


@pytest.fixture
def kernel(tmp_path: Any) -> Iterator[Kernel]:
    built = build_kernel(load_settings(home=tmp_path / "home", database_url=None, redis_url=None))
    yield built
    built.close()


@pytest.fixture
def http(kernel: Kernel) -> TestClient:
    return unthrottled_client(kernel)


def _payment(amount: int, counterparty: str, rail: str = "card") -> dict[str, Any]:
    return {
        "amount_minor": amount,
        "currency": "USD",
        "rail": rail,
        "counterparty": {"ref": f"urn:merchant:{counterparty}", "verified": True},
    }


def _decide(
    http: TestClient,
    who: dict[str, str],
    subject: str,
    payment: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> Any:
    body = {"subject": subject, "input": {"payment": payment}, "context": context or {}}
    return http.post("/v1/decisions", json=body, headers={**who, "Idempotency-Key": uuid4().hex})


def _drain(kernel: Kernel) -> None:
    while kernel.executor.run_once().claimed:
        pass


def test_card_testing_and_structuring_open_cases_an_officer_closes(
    kernel: Kernel, http: TestClient
) -> None:
    agent = principal_headers(kernel, roles=["agent"], tenant_id=TENANT, kind="agent")
    officer = principal_headers(
        kernel, roles=["compliance_officer"], tenant_id=TENANT, kind="human", name="officer-1"
    )
    verdicts = []
    for k in range(8):  # probes of 0.99 at eight merchants within minutes
        made = _decide(http, agent, "card:4242", _payment(99, f"m{k}"))
        assert made.status_code == 201, made.text
        measures = {m["name"]: m["value"] for m in made.json()["measurements"]}
        verdicts.append((made.json()["decision"], measures["risk_band"]))
    assert verdicts[0] == ("allow", "low")
    assert verdicts[-1] == ("flag", "high")
    last = made.json()
    assert "card_testing" in {m["name"]: m["value"] for m in last["measurements"]}["risk_reasons"]
    assert last["rule"] == "flag-high-risk"
    for k in range(3):  # three amounts just under 10,000.00 the same day
        made = _decide(http, agent, "account:mule-1", _payment(985_000 - k, "s", rail="sepa"))
        assert made.status_code == 201, made.text
    assert made.json()["decision"] == "flag"

    _drain(kernel)
    cases = http.get("/v1/cases", headers=officer).json()["cases"]
    by_type = {c["alert_type"]: c for c in cases}
    assert set(by_type) == {"card_testing", "structuring"}
    burst = by_type["card_testing"]
    assert burst["status"] == "open" and burst["subject"] == "card:4242"
    assert len(burst["alerts"]) >= 4  # one case for the burst, every alert in it
    alert = burst["alerts"][0]
    assert alert["risk_score"] >= alert["threshold"] == 0.7
    assert alert["rule"] == "card_testing" and alert["correlation_id"]
    assert alert["decision_id"]

    me = http.get("/v1/identity/me", headers=officer).json()["principal_id"]
    for case in (burst, by_type["structuring"]):
        path = f"/v1/cases/{case['case_id']}"
        refused = http.post(
            f"{path}/close", headers=officer, json={"disposition": "false_positive", "note": "n"}
        )
        assert refused.status_code == 409, refused.text
        assert "assign it first" in refused.json()["detail"]
        assert (
            http.post(f"{path}/assign", headers=officer, json={"assignee": me}).status_code == 200
        )
        said = http.post(f"{path}/comments", headers=officer, json={"text": "probes, 8 shops"})
        assert said.status_code == 200
        closed = http.post(
            f"{path}/close",
            headers=officer,
            json={"disposition": "confirmed_fraud", "note": "card blocked"},
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "closed" and closed.json()["closed_by"] == me
        again = http.post(f"{path}/comments", headers=officer, json={"text": "late"})
        assert again.status_code == 409
        steps = [e.kind for e in kernel.ledger.history(f"case:{case['case_id']}")]
        assert steps[0] == "case.opened" and steps[-3:] == [
            "case.assigned",
            "case.commented",
            "case.closed",
        ]
        as_opened = http.get(
            path, headers=officer, params={"as_of": closed.json()["opened_at"]}
        ).json()
        assert as_opened["status"] == "open"
    report = kernel.ledger.verify()
    assert report.ok, report.findings
    assessments = [e for e in kernel.ledger.history("card:4242") if e.kind == "risk.assessment"]
    assert len(assessments) == 8 and assessments[-1].payload["contributions"]
    # The windows rebuild from the ledger to the same features.
    probe = {"subject": "card:4242", "input": {"payment": _payment(99, "m9")}}
    before = http.post("/v1/risk/score", headers=officer, json=probe).json()
    kernel.risk.rebuild()
    after = http.post("/v1/risk/score", headers=officer, json=probe).json()
    assert before["features"] == after["features"] and before["features"]["small_count_1h"] == 8


def test_who_raised_a_case_cannot_close_it(kernel: Kernel, http: TestClient) -> None:
    maker = principal_headers(
        kernel, roles=["compliance_officer"], tenant_id=TENANT, kind="human", name="maker"
    )
    checker = principal_headers(
        kernel, roles=["compliance_officer"], tenant_id=TENANT, kind="human", name="checker"
    )
    made = http.post(
        "/v1/cases",
        headers=maker,
        json={"subject": "account:x", "alert_type": "tip_off", "note": "call"},
    )
    assert made.status_code == 201, made.text
    path = f"/v1/cases/{made.json()['case_id']}"
    assert http.post(f"{path}/assign", headers=maker, json={"assignee": "maker"}).status_code == 200
    body = {"disposition": "sar_filed", "note": "filed"}
    refused = http.post(f"{path}/close", headers=maker, json=body)
    assert refused.status_code == 403 and "maker-checker" in refused.json()["detail"]
    assert http.post(f"{path}/close", headers=checker, json=body).status_code == 200
    other = principal_headers(kernel, roles=["compliance_officer"], tenant_id="globex")
    assert http.get(path, headers=other).status_code == 404


def test_cases_list_by_status_and_assignee(kernel: Kernel, http: TestClient) -> None:
    officer = principal_headers(
        kernel, roles=["compliance_officer"], tenant_id=TENANT, kind="human", name="officer"
    )
    ids = []
    for subject in ("account:a", "account:b", "account:c"):
        body = {"subject": subject, "alert_type": "tip_off", "note": "call"}
        made = http.post("/v1/cases", headers=officer, json=body)
        assert made.status_code == 201, made.text
        ids.append(made.json()["case_id"])
    for case_id, who in zip(ids[:2], ("ann", "bob"), strict=True):
        r = http.post(f"/v1/cases/{case_id}/assign", headers=officer, json={"assignee": who})
        assert r.status_code == 200, r.text

    def listed(**params: str) -> list[str]:
        answer = http.get("/v1/cases", headers=officer, params=params)
        assert answer.status_code == 200, answer.text
        return [c["case_id"] for c in answer.json()["cases"]]

    assert listed(assignee="ann") == [ids[0]]
    assert listed(assignee="-") == [ids[2]]  # the unassigned
    assert listed(status="assigned", assignee="bob") == [ids[1]]
    assert listed(status="open", assignee="bob") == []
    assert len(listed()) == 3


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"disposition": "maybe", "note": "x"}, "/disposition"),
        ({"disposition": "false_positive", "note": "card 4111 1111 1111 1111"}, "/note"),
    ],
)
def test_a_bad_closure_is_422_and_records_nothing(
    kernel: Kernel, http: TestClient, body: dict[str, Any], pointer: str
) -> None:
    officer = principal_headers(kernel, roles=["compliance_officer"], tenant_id=TENANT)
    made = http.post(
        "/v1/cases", headers=officer, json={"subject": "account:y", "alert_type": "t", "note": "n"}
    ).json()
    http.post(f"/v1/cases/{made['case_id']}/assign", headers=officer, json={"assignee": "a"})
    size = kernel.ledger.size
    refused = http.post(f"/v1/cases/{made['case_id']}/close", headers=officer, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == pointer
    assert kernel.ledger.size == size


@pytest.mark.parametrize(
    ("context", "pointer"),
    [
        ({"geo": {"lat": 91, "lon": 0}}, "/context/geo/lat"),
        ({"timezone": "Mars/Olympus"}, "/context/timezone"),
        ({"ip_country": "france"}, "/context/ip_country"),
        ({"device_ref": "iphone of bob"}, "/context/device_ref"),
    ],
)
def test_risk_facts_out_of_range_are_422_and_nothing_sealed(
    kernel: Kernel, http: TestClient, context: dict[str, Any], pointer: str
) -> None:
    agent = principal_headers(kernel, roles=["agent"], tenant_id=TENANT, kind="agent")
    size = kernel.ledger.size
    refused = _decide(http, agent, "card:1", _payment(100, "m"), context)
    assert refused.status_code == 422, refused.text
    assert pointer in [e["pointer"] for e in refused.json()["errors"]]
    assert kernel.ledger.size == size


def test_a_model_that_cannot_load_fails_closed(kernel: Kernel, http: TestClient) -> None:
    kernel.risk.register(b"not a model", {"note": "a broken artefact"})
    agent = principal_headers(kernel, roles=["agent"], tenant_id=TENANT, kind="agent")
    made = _decide(http, agent, "card:7", _payment(1000, "m1"))
    assert made.status_code == 201, made.text
    measures = {m["name"]: m["value"] for m in made.json()["measurements"]}
    assert (measures["risk_band"], measures["risk_score"]) == ("unavailable", None)
    assert made.json()["decision"] == "flag" and made.json()["rule"] == "flag-risk-unavailable"
