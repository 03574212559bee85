from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx

from tests.e2e.conftest import start_server


def test_keys_and_secrets_never_reach_the_logs(paygod_home: Path) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    server = start_server(paygod_home, {"PAYGOD_LOG_LEVEL": "debug"})
    try:
        dev_key = server.headers["Authorization"].removeprefix("Bearer ")
        key_file = paygod_home / "dev-api-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        with server.client() as http:
            agent = http.post(
                "/v1/identity/principals",
                json={"name": "bot", "kind": "agent", "roles": ["agent"], "tenant_id": "acme"},
            ).json()
            issued = http.post(f"/v1/identity/principals/{agent['principal_id']}/keys", json={})
            agent_key = issued.json()["api_key"]
            totp_secret = http.post("/v1/identity/me/totp").json()["secret"]
            agent_http = httpx.Client(base_url=server.url, headers={"X-API-Key": agent_key})
            assert agent_http.get("/v1/identity/me").json()["name"] == "bot"
            forged = agent_key[:-6] + "AAAAAA"
            anonymous = httpx.Client(base_url=server.url)
            assert (
                anonymous.get(
                    "/v1/identity/me", headers={"Authorization": f"Bearer {forged}"}
                ).status_code
                == 401
            )
            # Revocation takes effect on the very next request.
            revoked = http.delete(f"/v1/identity/keys/{issued.json()['key_id']}")
            assert revoked.status_code == 200
            assert agent_http.get("/v1/identity/me").status_code == 401
    finally:
        server.process.terminate()
        server.process.wait(10)
    log = next(paygod_home.parent.glob("server-*.log")).read_text()
    assert '"http_request"' in log or "http_request" in log  # the log did capture requests
    assert "audit.auth_failure" in log
    lines = [line for line in log.splitlines() if "dev API key (shown once" not in line]
    body = "\n".join(lines)
    for secret in (dev_key, agent_key, forged, totp_secret, dev_key.split("_", 2)[2]):
        assert secret not in body


def test_forwarded_for_cannot_reset_the_failure_budget(paygod_home: Path) -> None:
    """Issue 15, D9: a local client rotating X-Forwarded-For is still one client."""
    paygod_home.mkdir(parents=True, exist_ok=True)
    server = start_server(paygod_home)
    try:
        bad = {"Authorization": "Bearer pg_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}
        with httpx.Client(base_url=server.url) as http:
            statuses = [
                http.get(
                    "/v1/identity/me", headers={**bad, "X-Forwarded-For": f"198.51.100.{i}"}
                ).status_code
                for i in range(14)
            ]
        assert statuses[:10] == [401] * 10 and statuses[-1] == 429
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_init_after_the_first_dev_start(paygod_home: Path) -> None:
    """Issue 16: `make run` (dev mode) minted the dev key; `paygod init` still just works."""
    from tests.e2e.conftest import run_cli

    paygod_home.mkdir(parents=True, exist_ok=True)
    server = start_server(paygod_home)
    try:
        made = run_cli("init", "--tenant", "acme", "--admin", "alice", "--json")
        assert made.code == 0, made.stderr
        data = json.loads(made.stdout)
        assert data["principal"]["tenant_id"] == "acme"
        assert data["enrolment_token"].startswith("pgenrol_")
        alice = {"Authorization": f"Bearer {data['api_key']}"}
        with httpx.Client(base_url=server.url, headers=alice) as http:
            assert http.get("/v1/identity/me").json()["name"] == "alice"
            started = http.post(
                "/v1/identity/me/totp", json={"enrolment_token": data["enrolment_token"]}
            )
            assert started.status_code == 201, started.text
        again = run_cli("init", "--tenant", "acme", "--admin", "ann")
        assert again.code == 1 and "already has an admin" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_no_dev_key_outside_dev_mode(paygod_home: Path) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    server = start_server(paygod_home, {"PAYGOD_DEV_MODE": "false"})
    try:
        assert server.headers == {}
        assert not (paygod_home / "dev-api-key").exists()
        ready = httpx.get(server.url + "/readyz").json()
        assert "dev_mode" not in {c["name"] for c in ready["checks"]}
        db = paygod_home / "paygod.db"
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    finally:
        server.process.terminate()
        server.process.wait(10)
    log = next(paygod_home.parent.glob("server-*.log")).read_text()
    assert "pg_" not in log and "PAYGOD_DEV_MODE is on" not in log
