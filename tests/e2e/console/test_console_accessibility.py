"""Accessibility of every console view, checked by axe-core (WCAG 2.1 A and AA rules,
vendored: nothing is fetched) in the real browser, and keyboard-only use: the skip link, a
visible focus ring on every stop, and a case worked to a refusal without a pointer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.console.conftest import PACK, Server, audit

pytestmark = pytest.mark.xdist_group("console")


def _views(server: Server) -> list[tuple[str, str, str]]:
    """(role, path, a selector present once the view has its data)."""
    with server.api("checker") as api:
        case = api.post(
            "/v1/cases",
            json={"subject": "urn:paygod:agent:a11y-bot", "alert_type": "a11y", "note": "x"},
        ).json()["case_id"]
    decision = server.decisions["admin-0"]
    return [
        ("admin", "/console/", "#ledger-size"),
        ("admin", "/console/decisions", "#results table"),
        ("admin", f"/console/decisions/{decision}", "text=Rule outcomes and the values they read"),
        ("auditor", "/console/ledger", "#content table"),
        ("auditor", "/console/ledger/0", "text=Verify in the browser"),
        ("operator", "/console/payments", "#recent table"),
        ("admin", f"/console/payments/{server.payments[-1]}", "text=Timeline (from the ledger)"),
        ("auditor", "/console/accounts", "#trial-state"),
        ("auditor", "/console/access-log", "#content table"),
        ("checker2", "/console/cases", "#results table"),
        ("checker2", f"/console/cases/{case}", "#case-actions"),
        ("platform", "/console/packs", "#content table"),
        ("platform", f"/console/packs/{PACK}", "#champion-version"),
    ]


def test_every_view_passes_axe(signed_in: Any, server: Server, browser: Any) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    sign_in = context.new_page()
    sign_in.goto(f"{server.url}/console/sign-in")
    found["sign-in"] = audit(sign_in)
    context.close()
    pages: dict[str, Any] = {}
    for role, path, ready in _views(server):
        page = pages.get(role) or pages.setdefault(role, signed_in(role))
        page.goto(f"{server.url}{path}")
        page.wait_for_selector(ready)
        found[path] = audit(page)
    phone = signed_in("checker2", width=390, height=844)
    phone.goto(f"{server.url}/console/cases")
    phone.wait_for_selector("#results table")
    found["cases at phone width"] = audit(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    violations = {view: v for view, v in found.items() if v}
    assert not violations, violations


def test_keyboard_only_use(signed_in: Any, server: Server) -> None:
    with server.api("checker") as api:
        case = api.post(
            "/v1/cases",
            json={"subject": "urn:paygod:agent:keys-bot", "alert_type": "keys", "note": "x"},
        ).json()["case_id"]
    page = signed_in("checker")
    page.goto(f"{server.url}/console/cases/{case}")
    page.wait_for_selector("#case-actions")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    # Tab on until the assign button: every stop on the way shows a focus ring.
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
            return {tag: e.tagName, text: (e.textContent || e.id || '').trim().slice(0, 40),
                    ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }"""
        )
        stops.append(stop)
        if stop["tag"] == "BUTTON" and stop["text"] == "Assign":
            break
    assert stops[-1]["text"] == "Assign", stops
    assert all(s["ring"] for s in stops), [s for s in stops if not s["ring"]]
    page.keyboard.press("Enter")  # assign to myself, by keyboard
    page.wait_for_selector("#case-status >> text=assigned")
    # Close by keyboard: the opener is refused, and the refusal is announced (role=alert).
    page.locator("#x-note").focus()
    page.keyboard.type("closing by keyboard")
    page.keyboard.press("Enter")
    refusal = page.locator("#status .error")
    refusal.wait_for()
    assert "maker-checker" in refusal.inner_text()
    assert page.locator("#status").get_attribute("role") == "status"
