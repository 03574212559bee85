"""`paygod sanctions ...` and `POST /v1/screening` as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel
from paygod.compliance.service import SAMPLES
from tests.e2e.conftest import run_cli
from tests.support.http import principal_headers, unthrottled_client


def test_screen_prints_exactly_decision_and_hits(paygod_home: Path) -> None:
    result = run_cli("sanctions", "screen", "--name", "Wladimir Putin", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"decision", "hits"} and data["decision"] == "hit"
    assert all(set(h) == {"list", "entry_id", "reference", "name", "score"} for h in data["hits"])
    assert {h["list"] for h in data["hits"]} == {"ofac", "eu", "uk"}
    assert "bundled sample lists" in result.stderr
    clean = run_cli("sanctions", "screen", "--name", "Jane Q Public", "--json")
    assert json.loads(clean.stdout) == {"decision": "no-hit", "hits": []}


def test_import_then_screen_uses_the_snapshot_and_names_its_ids(paygod_home: Path) -> None:
    imported = run_cli(
        "sanctions", "import", str(SAMPLES / "un_consolidated.xml"), "--format", "un-xml", "--json"
    )
    assert imported.code == 0, imported.stderr
    snapshot = json.loads(imported.stdout)
    assert snapshot["list"] == "un" and snapshot["entry_count"] == 13
    assert snapshot["digest"].startswith("sha256:") and snapshot["version"] == 1
    screened = run_cli(
        "sanctions",
        "screen",
        "--name",
        "Aiman al-Zawahiri",
        "--dob",
        "1951",
        "--country",
        "EG",
        "--json",
    )
    assert screened.code == 0 and "bundled" not in screened.stderr
    (hit,) = json.loads(screened.stdout)["hits"]
    assert hit["list"] == "un" and hit["reference"] == "QDi.006" and hit["entry_id"].isdigit()
    listed = json.loads(run_cli("sanctions", "snapshots", "--json").stdout)["snapshots"]
    assert [(s["list"], s["active"]) for s in listed] == [("un", True)]


def test_bad_input_is_one_line_exit_2_and_nothing_recorded(
    paygod_home: Path, tmp_path: Path
) -> None:
    unknown = run_cli("sanctions", "import", str(SAMPLES / "eu_fsf.xml"), "--format", "eu-json")
    assert unknown.code == 2 and unknown.stderr.count("\n") == 1
    assert "unknown list format 'eu-json'" in unknown.stderr
    broken = tmp_path / "eu.xml"
    text = (SAMPLES / "eu_fsf.xml").read_text(encoding="utf-8")
    second = text.split("<sanctionEntity ")[2]
    logical = second.split('logicalId="')[1].split('"')[0]
    broken.write_text(text.replace(f'logicalId="{logical}"', 'logicalId="x"', 1), encoding="utf-8")
    failed = run_cli("sanctions", "import", str(broken), "--format", "eu-xml")
    assert failed.code == 2 and "entry 2" in failed.stderr and failed.stderr.count("\n") == 1
    assert json.loads(run_cli("sanctions", "snapshots", "--json").stdout) == {"snapshots": []}
    for args in (["--dob", "1990-13"], ["--country", "XX"], ["--name", " "]):
        options = ["--name", "Jane Doe", *args] if args[0] != "--name" else args
        bad = run_cli("sanctions", "screen", *options, "--json")
        assert bad.code == 2 and bad.stderr.startswith("error:") and bad.stdout == ""


def test_http_screening_is_sealed_and_bad_fields_are_pointed_at(
    standalone_kernel: Kernel,
) -> None:
    http: TestClient = unthrottled_client(standalone_kernel)
    officer = principal_headers(standalone_kernel, roles=["compliance_officer"], tenant_id="acme")
    agent = principal_headers(standalone_kernel, roles=["agent"], tenant_id="acme", kind="agent")
    body = {"name": "Usama bin Ladin", "dob": "1957", "country": "SA", "subject": "customer:9"}
    made = http.post("/v1/screening", json=body, headers=officer)
    assert made.status_code == 200, made.text
    data = made.json()
    assert data["decision"] == "hit" and data["hits"][0]["score"] >= data["threshold"]
    again = http.get(f"/v1/screening/{data['screening_id']}", headers=officer).json()
    assert again["decision"] == "hit" and again["seq"] == data["seq"]
    assert http.post("/v1/screening", json=body, headers=agent).status_code == 403
    bad = http.post(
        "/v1/screening", json={"name": 7, "dob": "1957-02-30", "extra": 1}, headers=officer
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    pointers = {e["pointer"] for e in bad.json()["errors"]}
    assert pointers == {"/name", "/dob", "/extra"}
