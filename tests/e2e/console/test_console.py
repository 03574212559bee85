"""The console in headless Chromium against a real `paygod serve`: each role signs in and
walks its main paths; what the page shows is checked against what the API recorded."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.console.conftest import Server, shot

# One worker runs them all, so the server and browser start once.
pytestmark = pytest.mark.xdist_group("console")


def test_root_shows_sign_in_with_a_strict_policy(server: Server, browser: Any) -> None:
    response = httpx.get(f"{server.url}/", follow_redirects=True)
    assert response.status_code == 200 and "Sign in" in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server.url)
    page.get_by_label("API key or token").fill("pg_wrong_key")
    page.get_by_role("button", name="Sign in").click()
    assert "not accepted" in page.locator("#sign-in-error").inner_text()
    shot(page, "sign-in")
    context.close()


def test_session_cookie_is_httponly_strict_and_expires(signed_in: Any, server: Server) -> None:
    page = signed_in("auditor")
    cookie = next(c for c in page.context.cookies() if c["name"] == "paygod_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    assert page.evaluate("document.cookie").find("paygod_session") == -1


def test_overview_shows_what_the_api_reports(signed_in: Any, server: Server) -> None:
    page = signed_in("admin")
    assert page.url.endswith("/console/")
    page.wait_for_selector("#ledger-size")
    with server.api("admin") as api:
        reported = api.get("/v1/overview").json()
    # A tenant's admin sees its own activity, never the shared tree's or outbox's size
    # (they would show other tenants' volume): the API says null, the page says so.
    assert reported["ledger"]["size"] is None and reported["outbox"] is None
    assert page.locator("#ledger-size").inner_text() == "—"
    assert "platform" in page.locator("#ledger-size + p").inner_text()
    assert page.locator("svg.chart").count() >= 2
    assert page.locator("#panic-state").inner_text() in {"off", "ON"}
    shot(page, "overview")
    phone = signed_in("admin", width=390, height=844)
    phone.wait_for_selector("#ledger-size")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the overview scrolls sideways at phone width ({width}px)"
    shot(phone, "overview-phone")


def test_decision_page_and_replay(signed_in: Any, server: Server) -> None:
    page = signed_in("admin")
    page.goto(f"{server.url}/console/decisions?verdict=allow")
    page.wait_for_selector("#results table")
    with server.api("admin") as api:
        listed = api.get("/v1/decisions", params={"verdict": "allow"}).json()["decisions"]
    assert page.locator("#results tbody tr").count() == len(listed) > 0
    decision_id = server.decisions["admin-0"]
    page.goto(f"{server.url}/console/decisions/{decision_id}")
    page.wait_for_selector("text=Rule outcomes and the values they read")
    assert page.locator(".badge.v-allow").first.is_visible()
    assert page.locator("text=allow-within-limits").first.is_visible()
    assert page.locator("text=velocity_1h").first.is_visible()
    page.get_by_role("button", name="Replay: would today's packs decide the same?").click()
    assert "Same decision" in page.locator("#replay-result").inner_text()
    shot(page, "decision")


def test_verify_an_entry_in_the_browser(signed_in: Any, server: Server) -> None:
    with server.api("admin") as api:
        seq = api.get(f"/v1/decisions/{server.decisions['admin-0']}").json()["ledger"]["seq"]
    page = signed_in("auditor")
    verified_by_server: list[str] = []
    page.on(
        "request",
        lambda r: (
            verified_by_server.append(r.url) if "/v1/" in r.url and "verif" in r.url else None
        ),
    )
    page.goto(f"{server.url}/console/ledger/{seq}")
    page.get_by_role("button", name="Verify in the browser").click()
    result = page.locator("#verify-result")
    result.wait_for()
    assert result.get_attribute("data-verdict") == "valid", result.inner_text()
    assert "VERIFIED" in result.inner_text()
    assert not verified_by_server  # the browser checked; the server was not asked to
    shot(page, "ledger-verified")


def test_a_tampered_proof_fails_visibly(signed_in: Any, server: Server) -> None:
    with server.api("admin") as api:
        seq = api.get(f"/v1/decisions/{server.decisions['admin-0']}").json()["ledger"]["seq"]
    page = signed_in("auditor")

    def tamper(route: Any) -> None:
        proof = route.fetch().json()
        first = proof["audit_path"][0]
        proof["audit_path"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        route.fulfill(json=proof)

    page.route("**/v1/ledger/proofs/inclusion/*", tamper)
    page.goto(f"{server.url}/console/ledger/{seq}")
    page.get_by_role("button", name="Verify in the browser").click()
    result = page.locator("#verify-result")
    result.wait_for()
    assert result.get_attribute("data-verdict") == "invalid"
    assert "VERIFICATION FAILED" in result.inner_text()
    assert "computed root does not match root_hash" in result.inner_text()
    shot(page, "ledger-tampered")


def test_a_forged_head_signature_fails_visibly(signed_in: Any, server: Server) -> None:
    page = signed_in("auditor")

    def forge(route: Any) -> None:
        # An auditor's proof carries the signed head that covers the entry (the global head
        # is the platform's): that head's signed bytes no longer match.
        proof = route.fetch().json()
        proof["tree_head"]["timestamp"] = "2000-01-01T00:00:00.000000Z"
        route.fulfill(json=proof)

    page.route("**/v1/ledger/proofs/inclusion/*", forge)
    page.goto(f"{server.url}/console/ledger/0")
    page.get_by_role("button", name="Verify in the browser").click()
    result = page.locator("#verify-result")
    result.wait_for()
    assert result.get_attribute("data-verdict") == "invalid"
    assert "tree head signature is invalid" in result.inner_text()


def test_checker_approves_with_totp(signed_in: Any, server: Server) -> None:
    payment_id = server.payments[0]
    page = signed_in("checker")
    page.goto(f"{server.url}/console/payments")
    row = page.locator("#queue tbody tr", has_text=payment_id)
    row.wait_for()
    row.get_by_label(f"note for {payment_id}").fill("known supplier")
    row.get_by_role("button", name="Approve").click()
    dialog = page.locator("#totp-dialog")
    dialog.wait_for(state="visible")
    assert "second factor" in dialog.inner_text()
    page.get_by_label("6-digit code").fill(server.people["checker"].code())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector(f"#status >> text=Payment {payment_id} approved")
    with server.api("admin") as api:
        recorded = api.get(f"/v1/payments/{payment_id}").json()
    assert recorded["status"] in {"held", "dispatching", "dispatched", "settled"}
    assert recorded["approvals"][0]["by"] == server.people["checker"].principal_id
    assert recorded["approvals"][0]["note"] == "known supplier"
    assert "approved" in [h["transition"] for h in recorded["history"]]
    page.goto(f"{server.url}/console/payments/{payment_id}")
    page.wait_for_selector("text=Timeline (from the ledger)")
    shot(page, "payment")


def test_auditor_cannot_approve(signed_in: Any, server: Server) -> None:
    payment_id = server.payments[1]
    page = signed_in("auditor")
    page.goto(f"{server.url}/console/payments")
    row = page.locator("#queue tbody tr", has_text=payment_id)
    row.wait_for()
    row.get_by_role("button", name="Approve").click()
    status = page.locator("#status .error")
    status.wait_for()
    assert "403" in status.inner_text()
    with server.api("admin") as api:
        recorded = api.get(f"/v1/payments/{payment_id}").json()
    assert recorded["status"] == "decided" and not recorded["approvals"]


def test_operator_turns_panic_on_with_a_reason_and_totp(signed_in: Any, server: Server) -> None:
    page = signed_in("operator")
    page.goto(f"{server.url}/console/payments")
    page.get_by_label("reason for the panic switch").fill("rail incident 42")
    page.locator("#panic-on").click()
    page.get_by_label("6-digit code").fill(server.people["operator"].code())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("#status >> text=Panic switch ON")
    with server.api("admin") as api:
        state = api.get("/v1/admin/panic").json()
        assert state["on"] and state["reason"] == "rail incident 42"
        assert state["actor"] == server.people["operator"].principal_id
    page.goto(f"{server.url}/console/")
    page.wait_for_selector("#panic-banner")
    shot(page, "overview-panic")
    with server.api("opsbot") as api:  # leave the switch as other tests expect it
        assert api.post("/v1/admin/panic", json={"on": False}).status_code == 200


def test_agent_sees_only_its_own_objects(signed_in: Any, server: Server) -> None:
    page = signed_in("agent")
    nav = page.get_by_role("navigation", name="Console").inner_text()
    assert "Decisions" in nav and "Overview" not in nav and "Ledger" not in nav
    page.goto(f"{server.url}/console/decisions")
    page.wait_for_selector("#results table")
    text = page.locator("#results").inner_text()
    assert server.decisions["agent-2"] in text
    assert server.decisions["admin-0"] not in text
    page.goto(f"{server.url}/console/decisions/{server.decisions['admin-0']}")
    assert "404" in page.locator("#content .error").inner_text()
    for path in ("/console/", "/console/ledger/0", "/console/access-log"):
        page.goto(f"{server.url}{path}")
        assert "403" in page.locator("#content .error").first.inner_text(), path
    page.goto(f"{server.url}/console/payments")
    page.wait_for_selector("#recent table")
    assert server.payments[0] not in page.locator("#recent").inner_text()


def test_auditor_reads_accounts_and_the_access_log(signed_in: Any, server: Server) -> None:
    page = signed_in("auditor")
    page.goto(f"{server.url}/console/accounts")
    page.wait_for_selector("#trial-state")
    assert "agent-1" in page.locator("#content").inner_text()
    link = page.get_by_role("link", name="CSV (30 days)").first
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".csv")
    shot(page, "accounts")
    page.goto(f"{server.url}/console/access-log")
    page.wait_for_selector("#content table")
    assert "console:sign-in" in page.locator("#content").inner_text()
    shot(page, "access-log")


def test_posts_without_the_csrf_token_are_refused(signed_in: Any, server: Server) -> None:
    page = signed_in("operator")
    session = next(c for c in page.context.cookies() if c["name"] == "paygod_session")
    cookies = {"paygod_session": session["value"]}
    with httpx.Client(base_url=server.url, cookies=cookies) as raw:
        refused = raw.post("/v1/admin/panic", json={"on": True, "reason": "csrf"})
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/csrf-failed")
        wrong = raw.post(
            "/v1/admin/panic", json={"on": True, "reason": "x"}, headers={"X-CSRF-Token": "nope"}
        )
        assert wrong.status_code == 403
        assert raw.post("/console/sign-out", data={}).status_code == 403
        assert raw.get("/v1/identity/me").status_code == 200  # reads need no token
    with server.api("admin") as api:
        assert api.get("/v1/admin/panic").json()["on"] is False
    no_nonce = httpx.post(
        f"{server.url}/console/sign-in",
        data={"credential": server.people["admin"].key, "csrf_token": "guess"},
    )
    assert no_nonce.status_code == 403 and "paygod_session" not in no_nonce.cookies
    # In the page itself the token is sent: the same call through fetch() succeeds as a
    # refusal for the operator's role (no TOTP given), not as a CSRF failure.
    status = page.evaluate(
        """async () => { const r = await fetch('/v1/admin/panic', {method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token':
        document.querySelector('meta[name=csrf-token]').content},
        body: JSON.stringify({on: true, reason: 'x'})}); return [r.status, await r.text()]; }"""
    )
    assert status[0] == 401 and "step-up-required" in json.loads(status[1])["type"]


def test_signing_out_ends_the_session(signed_in: Any, server: Server) -> None:
    page = signed_in("auditor")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/sign-in")
    page.goto(f"{server.url}/console/decisions")
    assert "/console/sign-in" in page.url
