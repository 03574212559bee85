from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_init_users_agents_keys_and_access_audit(paygod_home: Path) -> None:
    first = run_cli("init", "--tenant", "acme", "--admin", "alice", "--json")
    assert first.code == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["api_key"].startswith("pg_") and data["principal"]["roles"] == ["admin"]
    again = run_cli("init", "--tenant", "acme", "--admin", "alice")
    assert again.code == 1 and "already has an admin" in again.stderr

    agent = json.loads(run_cli("agents", "create", "bot", "--tenant", "acme", "--json").stdout)
    assert agent["kind"] == "agent" and agent["roles"] == ["agent"]
    user = run_cli("users", "create", "ann", "--tenant", "acme", "--role", "auditor", "--json")
    assert json.loads(user.stdout)["roles"] == ["auditor"]
    bad_role = run_cli("users", "create", "bob", "--role", "wizard")
    assert bad_role.code == 2 and "unknown role" in bad_role.stderr

    key = json.loads(
        run_cli(
            "keys", "create", agent["principal_id"], "--scope", "payments:create", "--json"
        ).stdout
    )
    listed = json.loads(run_cli("keys", "list", "--tenant", "acme", "--json").stdout)["keys"]
    assert key["key_id"] in {k["key_id"] for k in listed}
    assert key["api_key"] not in json.dumps(listed)  # secrets are never listed
    rotated = json.loads(run_cli("keys", "rotate", key["key_id"], "--json").stdout)
    assert rotated["api_key"] != key["api_key"] and rotated["scopes"] == ["payments:create"]
    revoked = json.loads(run_cli("keys", "revoke", rotated["key_id"], "--json").stdout)
    assert revoked["revoked_at"] is not None

    audit = run_cli("audit", "access", "--since", "1h", "--json")
    assert audit.code == 0 and json.loads(audit.stdout) == {"records": []}
    assert run_cli("audit", "access", "--since", "yesterday").code == 2
