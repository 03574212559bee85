"""`paygod contauth` as a user drives it."""

from __future__ import annotations

import json
from pathlib import Path

from paygod.contauth import cmu, synthetic
from tests.e2e.conftest import run_cli


def test_train_from_a_cmu_layout_file_seals_a_model(paygod_home: Path) -> None:
    made = run_cli(
        "contauth", "train", "--data", str(synthetic.SHIPPED),
        "--principal", "s003", "--subject", "s003", "--json",
    )  # fmt: skip
    assert made.code == 0, made.stderr
    model = json.loads(made.stdout)["models"][0]
    assert model["version"] == 1 and model["artefact_digest"].startswith("sha256:")
    assert model["detector"] == "random_forest" and model["features"] == list(cmu.FEATURES)
    assert 0 <= model["metrics"]["eer"] < 0.5
    status = json.loads(run_cli("contauth", "status", "--principal", "s003", "--json").stdout)
    assert status["models"][0]["active"] and status["thresholds"] == {
        "step_up": 0.5, "terminate": 0.2,
    }  # fmt: skip
    assert run_cli("contauth", "thresholds", "--step-up", "0.6", "--terminate", "0.3").code == 0
    status = json.loads(run_cli("contauth", "status", "--json").stdout)
    assert status["thresholds"] == {"step_up": 0.6, "terminate": 0.3}
    assert run_cli("ledger", "verify").code == 0


def test_eval_reports_each_detector_beside_the_baseline(paygod_home: Path, tmp_path: Path) -> None:
    small = tmp_path / "three.csv"
    small.write_text(cmu.write(synthetic.generate(subjects=3, sessions=2, reps=10)))
    done = run_cli("contauth", "eval", "--data", str(small), "--json")
    assert done.code == 0, done.stderr
    found = {r["detector"]: r for r in json.loads(done.stdout)["results"]}
    assert set(found) == {"scaled_manhattan", "isolation_forest", "random_forest"}
    assert all(0 <= r["eer_mean"] <= 1 and r["subjects"] == 3 for r in found.values())


def test_bad_input_is_one_line_exit_2(paygod_home: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("subject,rep\ns1,1\n")
    for args in (
        ["train", "--data", str(tmp_path / "missing.csv")],
        ["train", "--data", str(wrong)],
        ["train", "--data", str(synthetic.SHIPPED), "--principal", "nobody"],
        ["train"],  # nothing recorded and no file
        ["train", "--subject", "s001"],  # a subject without a file
        ["thresholds", "--step-up", "0.2", "--terminate", "0.4"],
    ):
        refused = run_cli("contauth", *args)
        assert refused.code == 2, (args, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
