"""`paygod accounts close-period|prove` and `paygod verify-balance` as a holder runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_close_prove_verify_and_a_tampered_proof(paygod_home: Path, tmp_path: Path) -> None:
    for args in (
        ("accounts", "create", "--id", "bank", "--ledger", "EUR", "--code", "asset"),
        ("accounts", "create", "--id", "w", "--ledger", "EUR", "--code", "liability"),
        ("transfers", "create", "--id", "f", "--debit", "bank", "--credit", "w", "--amount", "42"),
    ):
        assert run_cli(*args).code == 0
    closed = run_cli("accounts", "close-period", "--period", "p1", "--json")
    assert closed.code == 0, closed.stderr
    assert json.loads(closed.stdout)["sums"] == {"EUR": ["42", "42"]}
    proof = tmp_path / "w.json"
    made = run_cli("accounts", "prove", "w", "--period", "p1", "--out", str(proof))
    assert made.code == 0, made.stderr
    ok = run_cli("verify-balance", str(proof), "--key", str(proof.with_suffix(".pem")), "--json")
    assert ok.code == 0, ok.stderr
    assert json.loads(ok.stdout) == {"valid": True, "reason": None, "signature_checked": True}
    doc = json.loads(proof.read_text())
    doc["statement"]["credits"] = "41"
    proof.write_text(json.dumps(doc))
    bad = run_cli("verify-balance", str(proof), "--key", str(proof.with_suffix(".pem")))
    assert bad.code == 1
    assert "do not lead to the root hash" in bad.stdout + bad.stderr
    (tmp_path / "junk.json").write_text("{}")
    junk = run_cli("verify-balance", str(tmp_path / "junk.json"))
    assert junk.code == 2 and "not a balance proof" in junk.stderr
    bad_period = run_cli("accounts", "close-period", "--period", "a/b")
    assert bad_period.code == 2
