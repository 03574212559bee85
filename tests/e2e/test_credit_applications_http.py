"""Listing and withdrawing credit applications through the real HTTP app: an applicant
(scope `own`) sees and withdraws only its own, the lender and its auditors see the tenant's,
another tenant sees none; a withdrawal is sealed once, with its receipt, and ends the
application (no acceptance after it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from paygod.kernel.clock import isoformat
from paygod.ledger import verifier
from tests.e2e.test_credit_loans_http import T0, TENANT, Desk, _application, desk
from tests.support.http import principal_headers

__all__ = ["desk"]  # the fixture, shared with the loans tests
LIST = "/v1/credit/applications"


def apply(desk: Desk, who: dict[str, str], ref: str = "urn:applicant:prime") -> dict[str, Any]:
    made = desk.ok(desk.call(who, "POST", LIST, _application(ref)), 201)
    desk.at(desk.clock.now() + timedelta(minutes=1))
    return made


def listed(desk: Desk, who: dict[str, str], **query: Any) -> list[str]:
    r = desk.http.get(LIST, params=query, headers=who)
    assert r.status_code == 200, r.text
    return [a["application_id"] for a in r.json()["applications"]]


def test_each_caller_lists_what_it_may_see(desk: Desk) -> None:
    globex = principal_headers(desk.kernel, roles=["admin"], tenant_id="globex", name="gx")
    officer = principal_headers(
        desk.kernel, roles=["compliance_officer"], tenant_id=TENANT, name="officer"
    )
    a1 = apply(desk, desk.alice)["application_id"]
    b1 = apply(desk, desk.bob, "urn:applicant:subprime")["application_id"]
    a2 = apply(desk, desk.alice, "urn:applicant:near-prime")["application_id"]
    g1 = apply(desk, globex)["application_id"]
    size = desk.kernel.ledger.size

    assert listed(desk, desk.alice) == [a1, a2]  # an agent applicant: its own only
    assert listed(desk, desk.bob) == [b1]
    for lender in (desk.admin, desk.auditor, officer):  # the tenant's, oldest first
        assert listed(desk, lender) == [a1, b1, a2]
    assert listed(desk, globex) == [g1]  # never acme's
    assert listed(desk, desk.alice, status="declined") == []
    assert listed(desk, desk.admin, status="declined") == [b1]
    assert listed(desk, desk.admin, status="offered") == [a1, a2]
    # As recorded by a past time: before bob applied, only alice's first existed.
    assert listed(desk, desk.admin, at=isoformat(T0 + timedelta(seconds=30))) == [a1]
    # Pages of `limit`, continued `after` the last id; `next_after` null on the last page.
    first = desk.ok(desk.http.get(LIST, params={"limit": 2}, headers=desk.admin))
    assert [a["application_id"] for a in first["applications"]] == [a1, b1]
    assert first["next_after"] == b1
    rest = desk.ok(desk.http.get(LIST, params={"after": b1, "limit": 2}, headers=desk.admin))
    assert [a["application_id"] for a in rest["applications"]] == [a2]
    assert rest["next_after"] is None
    for who, query, pointer in [
        (desk.admin, {"status": "bogus"}, "#query/status"),
        (desk.alice, {"status": "OFFERED"}, "#query/status"),
        (desk.admin, {"at": "yesterday"}, "#query/at"),
        (desk.admin, {"limit": 0}, "#query/limit"),
        (desk.admin, {"limit": 1001}, "#query/limit"),
        (desk.admin, {"after": g1}, "#query/after"),  # globex's: not in this list
        (desk.alice, {"after": b1}, "#query/after"),  # bob's: not in hers
    ]:
        bad = desk.http.get(LIST, params=query, headers=who)
        assert bad.status_code == 422, (query, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["errors"][0]["pointer"] == pointer, bad.text
    assert desk.kernel.ledger.size == size  # reads seal nothing


def test_withdraw_by_the_applicant_or_the_lender_once(desk: Desk) -> None:
    globex = principal_headers(desk.kernel, roles=["admin"], tenant_id="globex", name="gx")
    officer = principal_headers(
        desk.kernel, roles=["compliance_officer"], tenant_id=TENANT, name="officer"
    )
    mine = apply(desk, desk.alice)["application_id"]
    bobs = apply(desk, desk.bob)["application_id"]
    path = f"{LIST}/{mine}/withdraw"
    size = desk.kernel.ledger.size
    # Another applicant and another tenant: no such application; a reader may not write.
    assert desk.call(desk.bob, "POST", path).status_code == 404
    assert desk.call(globex, "POST", path).status_code == 404
    assert desk.call(officer, "POST", path).status_code == 403
    for body, pointer in [
        ({"reason": ""}, "/reason"),
        ({"reason": "x" * 201}, "/reason"),
        ({"reason": "ok\u202e"}, "/reason"),
        ({"reason": 3}, "/reason"),
        ({"why": "x"}, "/why"),
        ([], ""),
    ]:
        bad = desk.call(desk.alice, "POST", path, body)
        assert bad.status_code == 422, bad.text
        assert bad.json()["errors"][0]["pointer"] == pointer, bad.text
    assert desk.kernel.ledger.size == size  # nothing recorded for any of them

    done = desk.ok(desk.call(desk.alice, "POST", path, {"reason": "found a better rate"}), 200)
    assert done["status"] == "withdrawn"
    assert done["withdrawal"]["from_status"] == "offered"
    assert done["withdrawal"]["withdrawn_by"] == desk.alice_id
    assert done["withdrawal"]["reason"] == "found a better rate"
    receipt = done["receipt"]
    assert receipt["seq"] == receipt["first_seq"] == size  # one entry: the new version
    assert verifier.check_inclusion(receipt["inclusion_proof"]) is None
    assert desk.kernel.ledger.size == size + 1
    [event] = desk.events("CreditApplicationWithdrawn")
    assert event["payload"]["application_id"] == mine
    assert event["payload"]["principal_id"] == desk.alice_id

    size = desk.kernel.ledger.size
    twice = desk.call(desk.alice, "POST", path)
    assert twice.status_code == 409 and twice.json()["type"].endswith("/application-withdrawn")
    accept = desk.call(desk.alice, "POST", f"{LIST}/{mine}/accept")
    assert accept.status_code == 409 and accept.json()["type"].endswith("/application-withdrawn")
    assert desk.kernel.ledger.size == size
    shown = desk.ok(desk.call(desk.alice, "GET", f"{LIST}/{mine}"))
    assert [h["transition"] for h in shown["history"]][-2:] == ["offered", "withdrawn"]
    assert listed(desk, desk.alice, status="withdrawn") == [mine]

    # The lender withdraws any application of its tenant, without a body.
    by_lender = desk.ok(desk.call(desk.admin, "POST", f"{LIST}/{bobs}/withdraw"))
    assert by_lender["withdrawal"]["reason"] is None and by_lender["status"] == "withdrawn"
    # Accepted: too late, nothing recorded.
    signed = apply(desk, desk.alice)["application_id"]
    desk.ok(desk.call(desk.alice, "POST", f"{LIST}/{signed}/accept"))
    size = desk.kernel.ledger.size
    late = desk.call(desk.alice, "POST", f"{LIST}/{signed}/withdraw")
    assert late.status_code == 409 and late.json()["type"].endswith("/application-accepted")
    assert desk.kernel.ledger.size == size
    assert desk.kernel.ledger.verify().ok


def test_a_past_time_lists_the_state_then(desk: Desk) -> None:
    made = apply(desk, desk.alice)["application_id"]
    offered_at = desk.clock.now()
    desk.at(offered_at + timedelta(hours=1))
    desk.ok(desk.call(desk.alice, "POST", f"{LIST}/{made}/withdraw"))
    now = desk.ok(desk.http.get(LIST, headers=desk.alice))["applications"]
    then = desk.ok(desk.http.get(LIST, params={"at": isoformat(offered_at)}, headers=desk.alice))
    assert [a["status"] for a in now] == ["withdrawn"]
    assert [a["status"] for a in then["applications"]] == ["offered"]
    before = isoformat(datetime(2020, 1, 1, tzinfo=UTC))
    assert listed(desk, desk.alice, at=before) == []
