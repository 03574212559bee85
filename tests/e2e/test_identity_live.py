from __future__ import annotations

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
