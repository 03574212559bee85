"""`paygod risk` and `paygod cases` as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_train_registers_a_verifiable_model(paygod_home: Path) -> None:
    made = run_cli("risk", "train", "--transactions", "5000", "--seed", "3", "--json")
    assert made.code == 0, made.stderr
    model = json.loads(made.stdout)
    assert model["version"] == 1 and model["artefact_digest"].startswith("sha256:")
    assert model["training_data"]["digest"].startswith("sha256:")
    assert {"roc_auc", "average_precision", "cp_at_100"} <= set(model["metrics"]["fraud"])
    listed = json.loads(run_cli("risk", "models", "--json").stdout)["models"]
    assert [m["version"] for m in listed] == [1] and listed[0]["active"] is True
    verified = run_cli("risk", "verify", "1")
    assert verified.code == 0 and "matches its sealed digest" in verified.stdout
    assert run_cli("ledger", "verify").code == 0


def test_bad_training_input_is_one_line_exit_2(paygod_home: Path) -> None:
    for args in (["--transactions", "10"], ["--patterns", "weird"], ["--transactions", "x"]):
        refused = run_cli("risk", "train", *args)
        assert refused.code == 2, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    missing = run_cli("risk", "verify", "7")
    assert missing.code == 2 and "no risk model version 7" in missing.stderr


def test_cases_from_the_command_line(paygod_home: Path) -> None:
    opened = run_cli(
        "cases",
        "open",
        "--subject",
        "account:a",
        "--type",
        "tip_off",
        "--note",
        "call from the bank",
        "--as",
        "alice",
        "--json",
    )
    assert opened.code == 0, opened.stderr
    case_id = json.loads(opened.stdout)["case_id"]
    early = run_cli(
        "cases", "close", case_id, "--disposition", "false_positive", "--note", "x", "--as", "bob"
    )
    assert early.code == 1 and "assign it first" in early.stderr
    assert run_cli("cases", "assign", case_id, "--to", "bob", "--as", "bob").code == 0
    assert run_cli("cases", "comment", case_id, "checked", "--as", "bob").code == 0
    own = run_cli(
        "cases", "close", case_id, "--disposition", "sar_filed", "--note", "filed", "--as", "alice"
    )
    assert own.code == 2 and "maker-checker" in own.stderr
    bad = run_cli("cases", "close", case_id, "--disposition", "maybe", "--note", "n", "--as", "bob")
    assert bad.code == 2 and "/disposition" in bad.stderr
    done = run_cli(
        "cases",
        "close",
        case_id,
        "--disposition",
        "sar_filed",
        "--note",
        "filed",
        "--as",
        "bob",
        "--json",
    )
    assert done.code == 0 and json.loads(done.stdout)["disposition"] == "sar_filed"
    shown = json.loads(run_cli("cases", "show", case_id, "--json").stdout)
    assert [h["step"] for h in shown["history"]] == [
        "case.opened",
        "case.alert_added",
        "case.assigned",
        "case.commented",
        "case.closed",
    ]
    assert run_cli("ledger", "verify").code == 0
