"""`paygod mandates` as a user drives it: a human makes a key, registers it, grants an agent
a mandate signed on their own machine, reads and revokes it; bad input is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def _principal(kind: str, name: str) -> str:
    made = run_cli(kind, "create", name, "--json")
    assert made.code == 0, made.stderr
    return str(json.loads(made.stdout)["principal_id"])


def test_grant_show_list_revoke(paygod_home: Path, tmp_path: Path) -> None:
    human, agent = _principal("users", "alice"), _principal("agents", "shopper")
    key = tmp_path / "alice.pem"
    made = run_cli("mandates", "keygen", "--out", str(key), "--json")
    assert made.code == 0, made.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    jwk = tmp_path / "alice.jwk"
    jwk.write_text(made.stdout)
    added = run_cli("mandates", "keys", "add", human, "--key-id", "alice-1", "--jwk", str(jwk))
    assert added.code == 0, added.stderr
    granted = run_cli(
        "mandates",
        "grant",
        "--grantor",
        human,
        "--grantee",
        agent,
        "--key-id",
        "alice-1",
        "--sign-with",
        str(key),
        "--currency",
        "EUR",
        "--budget",
        "19.99",
        "--merchant",
        "m-1",
        "--json",
    )
    assert granted.code == 0, granted.stderr
    mandate = json.loads(granted.stdout)
    assert mandate["constraints"]["budget_minor"] == 1999
    assert mandate["allowance"]["remaining_minor"] == 1999
    shown = json.loads(run_cli("mandates", "show", mandate["mandate_id"], "--json").stdout)
    assert shown["digest"] == mandate["digest"] and shown["status"] == "active"
    listed = json.loads(run_cli("mandates", "list", "--json").stdout)["mandates"]
    assert [m["mandate_id"] for m in listed] == [mandate["mandate_id"]]
    revoked = run_cli("mandates", "revoke", mandate["mandate_id"], "--reason", "lost", "--json")
    assert revoked.code == 0 and json.loads(revoked.stdout)["status"] == "revoked"
    past = run_cli(
        "mandates", "show", mandate["mandate_id"], "--as-of", mandate["granted_at"], "--json"
    )
    assert json.loads(past.stdout)["status"] == "active"
    assert run_cli("ledger", "verify").code == 0


def test_bad_input_is_one_line_exit_2(paygod_home: Path, tmp_path: Path) -> None:
    human, agent = _principal("users", "bob"), _principal("agents", "bot")
    key = tmp_path / "bob.pem"
    jwk = tmp_path / "bob.jwk"
    jwk.write_text(run_cli("mandates", "keygen", "--out", str(key), "--json").stdout)
    assert (
        run_cli("mandates", "keys", "add", human, "--key-id", "bob-1", "--jwk", str(jwk)).code == 0
    )
    base = [
        "mandates",
        "grant",
        "--grantor",
        human,
        "--grantee",
        agent,
        "--key-id",
        "bob-1",
        "--sign-with",
        str(key),
        "--currency",
        "EUR",
    ]
    for extra in (
        ["--budget", "19.999"],
        ["--budget", "0"],
        [
            "--budget",
            "10.00",
            "--not-before",
            "2030-01-02T00:00:00Z",
            "--not-after",
            "2030-01-01T00:00:00Z",
        ],
    ):
        refused = run_cli(*base, *extra)
        assert refused.code == 2, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    not_agent = run_cli(
        "mandates",
        "grant",
        "--grantor",
        human,
        "--grantee",
        human,
        "--key-id",
        "bob-1",
        "--sign-with",
        str(key),
        "--budget",
        "5.00",
    )
    assert not_agent.code == 2 and "agent" in not_agent.stderr
    missing = run_cli("mandates", "show", "md-nothing")
    assert missing.code == 2 and "no mandate" in missing.stderr
    assert json.loads(run_cli("mandates", "list", "--json").stdout)["mandates"] == []
