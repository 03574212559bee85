"""The demo path of issue #18, end to end on a SQLite kernel: a card-testing burst and a
structuring pattern raise alerts, open cases, a compliance officer closes them; a
sanctioned payee (a transliterated alias of a sample SDN entry) is stopped for review;
every step is in the ledger and the ledger verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.cli.aml_demo import OFFICER, tour
from paygod.kernel.settings import load_settings
from tests.e2e.conftest import run_cli
from tests.support.http import principal_headers, unthrottled_client


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    settings = load_settings(
        home=tmp_path / "home", packs=tmp_path / "no-packs", database_url=None, redis_url=None
    )
    built = build_kernel(settings)
    yield built
    built.close()


def test_the_demo_path_raises_opens_closes_and_verifies(kernel: Kernel) -> None:
    out: dict[str, Any] = tour(kernel)
    assert out["verdicts"][0] == "allow" and out["verdicts"][-1] == "flag"
    assert ("structuring", "customer-7", 3) in out["aml_alerts"]
    # The structuring alert names the three transfers and the seqs they were sealed at.
    (alert,) = kernel.aml.alerts("default", "structuring")
    for txn in alert.payload["transactions"]:
        entry = kernel.ledger.get(txn["seq"])
        assert entry is not None and entry.kind == "transfer"
        assert entry.payload["transfer_id"] == txn["id"] and txn["id"].startswith("demo-split-")
    # The sanctioned payee went to review, with the SDN entry in its evidence.
    decision = out["sanctioned_decision"]
    assert decision["verdict"] == "review" and "sanctions screening hit" in decision["reason"]
    assert any(f.startswith("sanctions/ofac:") for f in decision["risk_flags"])
    assert out["sanctioned"].status.value == "rejected"
    # One case per alert kind, each worked and closed by the officer, every step sealed.
    opened = {alert_type for alert_type, _, _ in out["opened"]}
    assert opened == {
        "card_testing",
        "sanctions_hit",
        "aml.structuring",
        "aml.high_risk_jurisdiction",
    }
    for case in kernel.cases.list("default"):
        assert case.status.value == "closed" and case.as_dict()["closed_by"] == OFFICER
        steps = [e.kind for e in kernel.ledger.history(f"case:{case.case_id}")]
        assert steps[0] == "case.opened" and steps[-1] == "case.closed"
    assert out["verified"] and kernel.ledger.verify().ok


def test_an_officer_reads_the_aml_alerts_over_http_and_the_cli_runs_the_tour(
    kernel: Kernel, paygod_home: Path
) -> None:
    tour(kernel)
    http = unthrottled_client(kernel)
    officer = principal_headers(
        kernel, roles=["compliance_officer"], tenant_id="default", kind="human", name="o-2"
    )
    listed = http.get("/v1/aml/alerts", headers=officer)
    assert listed.status_code == 200, listed.text
    typologies = sorted(a["typology"] for a in listed.json()["alerts"])
    assert typologies == ["high_risk_jurisdiction", "structuring"]
    one = listed.json()["alerts"][0]
    got = http.get(f"/v1/aml/alerts/{one['alert_id']}", headers=officer).json()
    assert got["seq"] is not None and kernel.ledger.get(got["seq"]).kind == "aml.alert"
    agent = principal_headers(kernel, roles=["agent"], tenant_id="default", kind="agent")
    assert http.get("/v1/aml/alerts", headers=agent).status_code == 403
    bad = http.get("/v1/aml/alerts", headers=officer, params={"as_of": "yesterday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/as_of"
    for body, pointer in (({"from": 5}, "/from"), ({"dry_run": "yes"}, "/dry_run")):
        refused = http.post("/v1/aml/scan", headers=officer, json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == pointer
    size = kernel.ledger.size
    scanned = http.post("/v1/aml/scan", headers=officer, json={"dry_run": True}).json()
    assert len(scanned["hits"]) == 2 and scanned["raised"] == 0 and kernel.ledger.size == size
    result = run_cli("demo", env={"PAYGOD_LOG_LEVEL": "error", "COLUMNS": "200"})
    assert result.code == 0, result.stderr + result.stdout
    assert "AML structuring on customer-7, resting on 3 transactions" in result.stdout
    assert "sanctioned payment rejected" in result.stdout
