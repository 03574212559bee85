from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_demo_runs_and_verifies(tmp_path: Path) -> None:
    result = run_cli("demo", env={"PAYGOD_HOME": str(tmp_path / "unused")})
    assert result.code == 0, result.stderr
    assert "verification passed" in result.stdout
    assert "refused" in result.stdout
    assert "6/6 decisions replay identically" in result.stdout


def test_decide_then_replay_against_the_local_kernel(tmp_path: Path) -> None:
    env = {"PAYGOD_HOME": str(tmp_path / "home"), "PAYGOD_PACKS": str(tmp_path / "none")}
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "subject": "urn:paygod:agent:cli",
                "context": {},
                "input": {
                    "payment": {
                        "amount_minor": 600000,
                        "currency": "EUR",
                        "rail": "card",
                        "counterparty": {"ref": "urn:paygod:cp:1", "verified": True},
                    }
                },
            }
        )
    )
    decided = run_cli(
        "decide", "--input", str(request), "--pack", "agent-payment-limits", "--json", env=env
    )
    assert decided.code == 0, decided.stderr
    sealed = json.loads(decided.stdout)
    assert (sealed["decision"], sealed["rule"]) == ("deny", "deny-over-rail-limit")
    seq = sealed["ledger"]["seq"]
    replayed = run_cli("decisions", "replay", str(seq), "--json", env=env)
    assert replayed.code == 0, replayed.stderr
    assert json.loads(replayed.stdout)["identical"] is True
    not_a_decision = run_cli("decisions", "replay", "0", env=env)
    assert not_a_decision.code == 2
    assert "not a sealed decision" in not_a_decision.stderr


def test_decide_invalid_input_is_exit_2_and_records_nothing(tmp_path: Path) -> None:
    env = {"PAYGOD_HOME": str(tmp_path / "home"), "PAYGOD_PACKS": str(tmp_path / "none")}
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"payment": {"amount_minor": "5"}}))
    result = run_cli("decide", "--input", str(request), env=env)
    assert result.code == 2
    assert "/input/payment" in result.stderr
    assert "Traceback" not in result.stderr
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    kernel = build_kernel(load_settings(home=tmp_path / "home"))
    try:
        assert kernel.ledger.size == 0
    finally:
        kernel.close()
