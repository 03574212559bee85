"""A real `paygod serve` on a free port with its own PAYGOD_HOME, seeded with principals of
every role, decisions and payments waiting for review; and headless Debian Chromium driven
by Playwright (never `playwright install`: the browser is the system's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.requests import decision_body

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "console"
PACK = "agent-payment-limits"
DIFFERING = 5  # decisions the shadow challenger decides differently
US_BANK = {"name": "Acme Supplies", "account_number": "000123456789", "routing_number": "021000021"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Person:
    principal_id: str
    key: str
    totp_secret: str | None = None

    def code(self, ahead: int = 0) -> str:
        """A TOTP code newer than any used before (the kernel refuses replays); `ahead`
        steps of 30 s on, for a second step-up within the same step (within the window)."""
        assert self.totp_secret is not None
        return pyotp.TOTP(self.totp_secret).at(datetime.now(UTC) + timedelta(seconds=30 * ahead))


@dataclass
class Server:
    url: str
    home: Path
    people: dict[str, Person] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    payments: list[str] = field(default_factory=list)

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"X-API-Key": self.people[who].key}, timeout=10
        )


def _seed(home: Path) -> dict[str, Person]:
    """Principals with keys; humans who act enrol TOTP, confirmed with the previous step's
    code so that the current step's code is still unused for the test."""
    from paygod.bootstrap import build_kernel
    from paygod.identity.model import ALL_TENANTS, PrincipalKind, Role
    from paygod.kernel.settings import load_settings
    from tests.support.accounts import open_funded_payer

    kernel = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    try:
        identity = kernel.identity
        people: dict[str, Person] = {}
        for name, kind, role, totp in [
            ("admin", PrincipalKind.SERVICE, Role.ADMIN, False),
            ("platform", PrincipalKind.HUMAN, Role.PLATFORM_ADMIN, True),
            ("platformbot", PrincipalKind.SERVICE, Role.PLATFORM_ADMIN, False),
            ("checker", PrincipalKind.HUMAN, Role.COMPLIANCE_OFFICER, True),
            ("checker2", PrincipalKind.HUMAN, Role.COMPLIANCE_OFFICER, False),
            ("operator", PrincipalKind.HUMAN, Role.OPERATOR, True),
            ("opsbot", PrincipalKind.SERVICE, Role.OPERATOR, False),
            ("auditor", PrincipalKind.HUMAN, Role.AUDITOR, False),
            ("agent", PrincipalKind.AGENT, Role.AGENT, False),
            ("agent2", PrincipalKind.AGENT, Role.AGENT, False),
        ]:
            tenant = ALL_TENANTS if role is Role.PLATFORM_ADMIN else "default"
            p = identity.create_principal(tenant, name, kind, {role})
            person = Person(p.principal_id, identity.issue_key(p.principal_id).token)
            if totp:
                # A human enrols with a one-time token from the host (issue 15, D10).
                token, _ = identity.totp.issue_enrolment(p, issued_by=None)
                secret, _ = identity.totp.enroll(p, token)
                earlier = datetime.now(UTC) - timedelta(seconds=30)
                assert identity.totp.confirm(p.principal_id, pyotp.TOTP(secret).at(earlier))
                person.totp_secret = secret
            people[name] = person
        open_funded_payer(kernel.accounting, amount=50_000_000)
        _seed_challenger(kernel, home, people["platform"].principal_id)
    finally:
        kernel.close()
    return people


def _seed_challenger(kernel: Any, home: Path, actor: str) -> None:
    """agent-payment-limits 1.2.0 (a lower SEPA cap) proposed and put in shadow through the
    service, so the packs page has a pipeline to show and decisions that differ."""
    import shutil

    from paygod.decisions.packs import DEFAULT_PACKS_DIR
    from paygod.governance.model import Stage

    draft = home / "challenger" / PACK
    shutil.copytree(DEFAULT_PACKS_DIR / PACK, draft)
    yaml = draft / "pack.yaml"
    text = yaml.read_text().replace('version: "1.1.0"', 'version: "1.2.0"')
    yaml.write_text(text.replace("amount_minor > 1500000)", "amount_minor > 1000000)"))
    kernel.governance.propose(draft, actor=actor)
    kernel.governance.promote(PACK, Stage.SHADOW, actor=actor)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("console-home")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PAYGOD_") or k in {"PAYGOD_TEST_DATABASE_URL"}
    }
    env.pop("PAYGOD_TEST_DATABASE_URL", None)
    env["PAYGOD_HOME"] = str(home)
    paygod = [sys.executable, "-m", "paygod"]
    subprocess.run([*paygod, "migrate"], env=env, check=True, capture_output=True)
    people = _seed(home)
    port = _free_port()
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen(
        [*paygod, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError((home / "serve.log").read_text())
            time.sleep(0.2)
        served = Server(url, home, people)
        _seed_over_http(served)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _seed_over_http(server: Server) -> None:
    with server.api("admin") as admin, server.api("agent") as agent:
        for i, (who, client, amount) in enumerate(
            [
                ("admin", admin, 1500),
                ("admin", admin, 99_999_999),
                ("agent", agent, 2500),
                *[("admin", admin, 1_200_000)] * DIFFERING,
            ]
        ):
            # Those of 12,000.00 each on a subject of its own (daily volume untouched): the
            # shadow challenger (a lower SEPA cap) decides them differently.
            extra = {"subject": f"urn:paygod:agent:treasury-{i}"} if amount == 1_200_000 else {}
            r = client.post(
                "/v1/decisions",
                json=decision_body(amount=amount, **extra),
                headers={"Idempotency-Key": f"seed-{i}"},
            )
            assert r.status_code == 201, r.text
            server.decisions[f"{who}-{i}"] = r.json()["decision_id"]
        for i in range(2):
            r = admin.post(
                "/v1/payments",
                json={
                    "payer_account": "agent-1",
                    "payee": US_BANK,
                    "amount": 1_500_000 + i,
                    "currency": "USD",
                    "purpose": f"supplier invoice {i}",
                    "rail_preference": "wire",
                    "metadata": {"counterparty_verified": True},
                },
                headers={"Idempotency-Key": f"pay-{i}"},
            )
            assert r.status_code == 201, r.text
            assert r.json()["decision"]["verdict"] == "review", r.text
            server.payments.append(r.json()["payment_id"])


# Module scope, not session: Playwright's sync API runs an event loop in this thread while
# it is open, and tests of other modules that run asyncio on the same worker must not
# find it running (pytest tears a module fixture down before the next module's test).
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def signed_in(browser: Any, server: Server) -> Iterator[Any]:
    """sign_in(role, width=1280, height=800) -> a page signed in as that role."""
    contexts: list[Any] = []

    def sign_in(role: str, width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{server.url}/")
        page.get_by_label("API key or token").fill(server.people[role].key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{server.url}/console/**")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.10.2 (MPL-2.0), vendored
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def audit(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA rules over the page as it stands: the violations, each with
    its rule, impact and offending nodes. Evaluated over the DevTools protocol, so the page's
    CSP (no inline script) needs no exception."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))",
        WCAG,
    )
    return list(result)
