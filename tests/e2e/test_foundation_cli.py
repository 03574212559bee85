from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_version() -> None:
    result = run_cli("version", "--json")
    assert result.code == 0
    assert json.loads(result.stdout)["version"]


def test_canonical_prints_rfc8785_form(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text('{"b": [1.0, 2e-3, "\\u20ac"], "a": 18446744073709551616}')
    result = run_cli("canonical", str(source))
    assert result.code == 0, result.stderr
    assert result.stdout == '{"a":18446744073709552000,"b":[1,0.002,"€"]}'
    hashed = run_cli("canonical", str(source), "--hash")
    assert hashed.stdout.strip().startswith("sha256:")
    assert len(hashed.stdout.strip()) == 71


def test_canonical_invalid_json_is_exit_2_and_one_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"a": [1, 2')
    result = run_cli("canonical", str(source))
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "bad.json is not valid JSON" in lines[0]


def test_canonical_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("canonical", str(tmp_path / "absent.json"))
    assert result.code == 2
    assert "cannot read" in result.stderr


def test_bad_setting_is_exit_2_not_traceback() -> None:
    result = run_cli("doctor", env={"PAYGOD_DATABASE_URL": "nonsense"})
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        "error: PAYGOD_DATABASE_URL: unsupported scheme '(none)'; "
        "use sqlite:///PATH or postgresql://HOST[:PORT]/DB"
    ]
    assert "Traceback" not in result.stderr


def test_doctor_json_reports_the_store(tmp_path: Path) -> None:
    result = run_cli("doctor", "--json", env={"PAYGOD_HOME": str(tmp_path / "home")})
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "pass"
    assert report["checks"][0]["name"] == "store"


def test_unknown_command_is_usage_error() -> None:
    assert run_cli("frobnicate").code == 2


def test_migrate_on_a_fresh_home_keeps_it_to_its_owner(tmp_path: Path) -> None:
    # `make run` runs `migrate` first: the home it creates must already be 0700, or the
    # server it starts next warns about its own data folder.
    home = tmp_path / "fresh" / "paygod-data"
    result = run_cli("migrate", env={"PAYGOD_HOME": str(home)})
    assert result.code == 0, result.stderr
    assert home.stat().st_mode & 0o777 == 0o700
    assert (home / "paygod.db").stat().st_mode & 0o777 == 0o600
