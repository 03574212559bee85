"""The ledger's read API on a real server, fed by the real CLI (SQLite under PAYGOD_HOME)."""

from __future__ import annotations

from pathlib import Path

from paygod.ledger.verifier import check_consistency, check_inclusion, check_tree_head
from tests.e2e.conftest import LiveServer, run_cli


def test_cli_appends_are_served_and_provable(live_server: LiveServer, tmp_path: Path) -> None:
    payload = tmp_path / "p.json"
    payload.write_text('{"limit": 100}')
    env = {"PAYGOD_HOME": str(live_server.home)}
    for subject in ("acct-1", "acct-2", "acct-1"):
        result = run_cli(
            "ledger", "append", "--kind", "observation", "--subject", subject,
            "--payload", str(payload), env=env,
        )  # fmt: skip
        assert result.code == 0, result.stderr
    with live_server.client() as http:
        listing = http.get("/v1/ledger/entries", params={"limit": 1000})
        assert listing.status_code == 200, listing.text
        mine = [e for e in listing.json()["entries"] if e["subject"] in ("acct-1", "acct-2")]
        assert len(mine) == 3
        seq = mine[-1]["seq"]
        head = http.get("/v1/ledger/head").json()
        assert head["tree_size"] >= seq + 1
        public_key = run_cli("ledger", "head", "--public-key", env=env).stdout.encode()
        assert check_tree_head(head, public_key) is None
        proof = http.get(f"/v1/ledger/proofs/inclusion/{seq}").json()
        assert check_inclusion(proof) is None
        cons = http.get(
            "/v1/ledger/proofs/consistency", params={"from": 1, "to": head["tree_size"]}
        ).json()
        assert check_consistency(cons) is None
        subject = http.get("/v1/ledger/subjects/acct-1").json()
        assert len(subject["entries"]) == 2
        bad = http.get("/v1/ledger/proofs/consistency", params={"from": "x"})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
