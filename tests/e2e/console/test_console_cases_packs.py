"""The cases and packs pages in headless Chromium: an officer works a case to its close,
the case's opener is refused closing it (maker-checker, enforced by the API), a case is read
as of a past time; a platform admin reads a pack's pipeline and moves its challenger with
TOTP. What the page shows is checked against what the API recorded."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.console.conftest import DIFFERING, PACK, Server, shot

pytestmark = pytest.mark.xdist_group("console")


def _wait_for_next_step() -> None:
    time.sleep(30 - time.time() % 30 + 0.5)


def _open_case(server: Server, who: str, subject: str) -> dict[str, Any]:
    with server.api(who) as api:
        r = api.post(
            "/v1/cases",
            json={"subject": subject, "alert_type": "manual_review", "note": "odd pattern"},
        )
        assert r.status_code == 201, r.text
        return dict(r.json())


def _case(server: Server, case_id: str, **params: str) -> dict[str, Any]:
    with server.api("auditor") as api:
        r = api.get(f"/v1/cases/{case_id}", params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())


def test_an_officer_works_a_case_to_its_close(signed_in: Any, server: Server) -> None:
    opened = _open_case(server, "checker", "urn:paygod:agent:billing-bot")
    case_id = opened["case_id"]
    time.sleep(0.05)  # the as-of instant below lies strictly between opening and assigning
    before_assign = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.05)
    page = signed_in("checker2")
    page.goto(f"{server.url}/console/cases?status=open")
    page.wait_for_selector("#results table")
    assert case_id in page.locator("#results").inner_text()
    page.get_by_role("link", name=case_id).click()
    page.wait_for_selector("#case-actions")
    assert page.locator("#case-status").inner_text() == "open"
    assert "odd pattern" in page.locator("#content").inner_text()  # the alert's note
    me = server.people["checker2"].principal_id
    assert page.get_by_label("Assign to (principal id)").input_value() == me
    page.get_by_role("button", name="Assign").click()
    page.wait_for_selector("#status >> text=Assigned to")
    page.wait_for_selector("#case-status >> text=assigned")
    page.get_by_label("Comment (no personal data)").fill("counterparty confirmed by phone")
    page.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_selector("#comments >> text=counterparty confirmed by phone")
    page.get_by_label("Disposition").select_option("false_positive")
    page.get_by_label("Closing note").fill("known supplier, regular pattern")
    page.get_by_role("button", name="Close case").click()
    page.wait_for_selector("#status >> text=Closed as false_positive")
    page.wait_for_selector("#case-status >> text=closed")
    assert page.locator("#case-actions").count() == 0  # nothing more to do on a closed case
    recorded = _case(server, case_id)
    assert recorded["status"] == "closed" and recorded["disposition"] == "false_positive"
    assert recorded["closed_by"] == me and recorded["assignee"] == me
    assert recorded["comments"][0]["text"] == "counterparty confirmed by phone"
    steps = [s["step"] for s in recorded["history"]]
    assert steps == [
        "case.opened",
        "case.alert_added",
        "case.assigned",
        "case.commented",
        "case.closed",
    ] or steps == ["case.opened", "case.assigned", "case.commented", "case.closed"]
    page.wait_for_selector("text=Steps (sealed in the ledger)")
    shot(page, "case")
    # As of before the assignment: rebuilt from the ledger, it was open, with no assignee.
    page.get_by_label("As of (RFC 3339; rebuilt from the ledger)").fill(before_assign)
    page.get_by_role("button", name="View").click()
    page.wait_for_selector("#as-of-note")
    assert page.locator("#case-status").inner_text() == "open"
    assert _case(server, case_id, as_of=before_assign)["status"] == "open"
    assert page.locator("#case-actions").count() == 0  # the past is read, never worked


def test_the_opener_of_a_case_cannot_close_it(signed_in: Any, server: Server) -> None:
    case_id = _open_case(server, "checker", "urn:paygod:agent:refund-bot")["case_id"]
    page = signed_in("checker")
    page.goto(f"{server.url}/console/cases/{case_id}")
    page.wait_for_selector("#maker-note")
    page.get_by_role("button", name="Assign").click()
    page.wait_for_selector("#case-status >> text=assigned")
    page.get_by_label("Disposition").select_option("confirmed_fraud")
    page.get_by_label("Closing note").fill("closing my own case")
    page.get_by_role("button", name="Close case").click()
    refusal = page.locator("#status .error")
    refusal.wait_for()
    assert "403" in refusal.inner_text() and "maker-checker" in refusal.inner_text()
    shot(page, "case-maker-refused")
    recorded = _case(server, case_id)
    assert recorded["status"] == "assigned" and recorded["closed_by"] is None


def test_cases_filter_by_status_and_assignee(signed_in: Any, server: Server) -> None:
    mine = _open_case(server, "checker", "urn:paygod:agent:filter-bot")["case_id"]
    other = _open_case(server, "checker", "urn:paygod:agent:filter-bot-2")["case_id"]
    with server.api("checker2") as api:
        me = server.people["checker2"].principal_id
        assert api.post(f"/v1/cases/{mine}/assign", json={"assignee": me}).status_code == 200
    page = signed_in("checker2")
    page.goto(f"{server.url}/console/cases")
    page.get_by_label("Assigned to").select_option(label="me")
    page.get_by_label("Status").select_option("assigned")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/console/cases?status=assigned&assignee=*")
    page.wait_for_selector("#results table")
    text = page.locator("#results").inner_text()
    assert mine in text and other not in text
    with server.api("checker2") as api:
        listed = api.get("/v1/cases", params={"status": "assigned", "assignee": me}).json()
    assert page.locator("#results tbody tr").count() == len(listed["cases"])
    page.get_by_label("Assigned to").select_option(label="nobody (unassigned)")
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/console/cases?status=&assignee=-")
    page.wait_for_selector("#results table")
    text = page.locator("#results").inner_text()
    assert other in text and mine not in text
    shot(page, "cases")


def test_an_auditor_reads_cases_but_the_api_refuses_its_writes(
    signed_in: Any, server: Server
) -> None:
    case_id = _open_case(server, "checker", "urn:paygod:agent:audit-bot")["case_id"]
    page = signed_in("auditor")
    page.goto(f"{server.url}/console/cases/{case_id}")
    page.wait_for_selector("text=Steps (sealed in the ledger)")
    assert page.locator("#case-actions").count() == 0
    # The form is only hidden: the API is what refuses, even with a valid CSRF token.
    status = page.evaluate(
        """async (id) => (await fetch(`/v1/cases/${id}/assign`, {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRF-Token":
              document.querySelector('meta[name="csrf-token"]').content},
            body: JSON.stringify({assignee: "me"})})).status""",
        case_id,
    )
    assert status == 403
    assert _case(server, case_id)["status"] == "open"


def test_a_platform_admin_reads_the_pipeline_and_moves_it_with_totp(
    signed_in: Any, server: Server
) -> None:
    page = signed_in("platform")
    page.goto(f"{server.url}/console/packs")
    page.wait_for_selector("#content table")
    with server.api("platform") as api:
        loaded = api.get("/v1/packs").json()["packs"]
    assert page.locator("#content tbody tr").count() == len(loaded)
    row = page.locator("tbody tr", has_text=PACK)
    assert "1.1.0" in row.inner_text() and "1.2.0" in row.inner_text()
    assert "shadow" in row.inner_text()
    shot(page, "packs")
    page.get_by_role("link", name=PACK).click()
    page.wait_for_selector("#confusion")
    assert page.locator("#champion-version").inner_text() == "1.1.0"
    assert page.locator("#stage").inner_text() == "shadow"
    with server.api("platform") as api:
        row_api = api.get(f"/v1/packs/{PACK}/pipeline").json()
    shadow = row_api["challenger"]["shadow"]
    assert shadow["compared"] >= DIFFERING and len(shadow["differing"]) >= DIFFERING, shadow
    differing = page.locator("#differing").inner_text()
    assert shadow["differing"][0]["decision_id"] in differing
    assert page.locator("#confusion td.differs").count() >= 1
    page.wait_for_selector("#diff table")
    assert "1.1.0 → 1.2.0" in page.locator("#diff").inner_text()
    shot(page, "pack")
    # One test, in order: the moves below retire the challenger the reads above need.
    _promote_and_roll_back(page, server)


def _promote_and_roll_back(page: Any, server: Server) -> None:
    platform = server.people["platform"]
    page.wait_for_selector("#moves")
    page.get_by_label("Promote to").select_option("canary")
    page.get_by_label("Canary share (%)").fill("10")
    page.get_by_label("Minimum reviewed sample").fill(str(DIFFERING))
    # No reviewed outcomes yet: the gate refuses (409) and the page says why.
    page.get_by_role("button", name="Promote").click()
    page.locator("#totp-dialog").wait_for(state="visible")
    page.get_by_label("6-digit code").fill(platform.code())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("#status p")
    refused = page.locator("#status").inner_text()
    assert "409" in refused and "promotion gate did not pass" in refused, refused
    assert page.locator("#stage").inner_text() == "shadow"
    # A reviewer (a platform service: no step-up) finds the challenger right each time.
    with server.api("platformbot") as api:
        differing = api.get(f"/v1/packs/{PACK}/pipeline").json()["challenger"]["shadow"]
        for d in differing["differing"][:DIFFERING]:
            body = {"decision_id": d["decision_id"], "correct": d["challenger"]["decision"]}
            r = api.post(f"/v1/packs/{PACK}/outcomes", json=body)
            assert r.status_code == 200, r.text
    page.reload()
    page.wait_for_selector("#moves")
    assert f"{DIFFERING} (challenger right {DIFFERING}" in page.locator("#content").inner_text()
    page.get_by_label("Promote to").select_option("canary")
    page.get_by_label("Canary share (%)").fill("10")
    page.get_by_label("Minimum reviewed sample").fill(str(DIFFERING))
    page.get_by_role("button", name="Promote").click()
    page.locator("#totp-dialog").wait_for(state="visible")
    page.get_by_label("6-digit code").fill(platform.code(ahead=1))  # a newer code
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("#status >> text=challenger now canary")
    with server.api("platform") as api:
        moved = api.get(f"/v1/packs/{PACK}/pipeline").json()["challenger"]
    assert moved["stage"] == "canary" and moved["canary_percent"] == 10
    assert page.locator("#stage").inner_text() == "canary"
    shot(page, "pack-canary")
    page.get_by_label("Why roll back").fill("console test: back to the champion")
    page.get_by_role("button", name="Roll back").click()
    page.locator("#totp-dialog").wait_for(state="visible")
    # Two codes of the window used: the next one comes with the next 30-second step.
    _wait_for_next_step()
    page.get_by_label("6-digit code").fill(platform.code(ahead=1))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("#status >> text=Rolled back")  # replaces the line above
    with server.api("platform") as api:
        assert api.get(f"/v1/packs/{PACK}/pipeline").json()["challenger"] is None
        history = api.get("/v1/ledger/subjects/policy:" + PACK).json()
    stages = [e["payload"]["stage"] for e in history["entries"] if e["kind"] == "policy.stage"]
    assert stages[-2:] == ["canary", "retired"]


def test_a_tenant_principal_sees_pack_statistics_without_moves(
    signed_in: Any, server: Server
) -> None:
    page = signed_in("auditor")
    page.goto(f"{server.url}/console/packs/{PACK}")
    page.wait_for_selector("#champion-version")
    assert page.locator("#moves").count() == 0  # no packs:activate
    page.goto(f"{server.url}/console/packs")
    page.wait_for_selector("#content table")
    assert PACK in page.locator("#content").inner_text()


def test_accounts_as_of_a_past_instant(signed_in: Any, server: Server) -> None:
    """Balances read back in time (the API replays transfer history), beside today's."""
    at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    with server.api("auditor") as api:
        r = api.get("/v1/accounts/agent-1/balance", params={"at": at})
        assert r.status_code == 200, r.text
        then = r.json()
        early = api.get("/v1/accounts/agent-1/balance", params={"at": "2000-01-01T00:00:00Z"})
    page = signed_in("auditor")
    page.goto(f"{server.url}/console/accounts")
    page.get_by_label("Balances as of (RFC 3339)").fill(at)
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector(".as-of")
    row = page.locator("tbody tr", has_text="agent-1").first
    assert f"{then['balance'] / 100:.2f}" in row.locator(".as-of").inner_text()
    page.goto(f"{server.url}/console/accounts?at=2000-01-01T00:00:00Z")
    if early.status_code == 200:
        page.wait_for_selector(".as-of")
        expected = f"{early.json()['balance'] / 100:.2f}"
        assert expected in page.locator("tbody tr", has_text="agent-1").first.inner_text()
    else:  # the account did not exist yet: the page shows the API's refusal
        page.wait_for_selector("#content .error")
        assert str(early.status_code) in page.locator("#content .error").first.inner_text()
    shot(page, "accounts-as-of")
