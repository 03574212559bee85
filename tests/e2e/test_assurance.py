"""Reports and OSCAL as users drive them: CLI exit codes, the HTTP route's roles and
errors, and the rendered HTML/PDF looked at as images (not blank, tables and charts)."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from paygod.api.app import create_app
from paygod.assurance.render import render
from paygod.cli.main import app
from tests.e2e.conftest import run_cli
from tests.integration.assurance.conftest import FROM, TO, Ledgered, ledgered  # noqa: F401


def test_reports_regenerate_byte_identically(ledgered: Ledgered) -> None:  # noqa: F811
    service = ledgered.kernel.assurance
    for kind in ("sox", "pci", "gdpr"):
        report = service.report(kind, "default", ledgered.period)
        assert report["tree_head"]["tree_size"] == ledgered.kernel.ledger.size
        for fmt in ("json", "html", "pdf"):
            again = service.report(kind, "default", ledgered.period)
            assert render(report, fmt) == render(again, fmt)
    pci = service.report("pci", "default", ledgered.period)
    assert pci["summary"]["pan_findings"] == 0


def test_pdf_pages_show_tables_and_charts(ledgered: Ledgered, tmp_path: Path) -> None:  # noqa: F811
    report = ledgered.kernel.assurance.report("sox", "default", ledgered.period)
    page = pdfium.PdfDocument(render(report, "pdf"))[0]
    image = page.render(scale=1).to_pil().convert("RGB")
    pixels = list(image.get_flattened_data())
    dark = sum(1 for p in pixels if sum(p) < 200)
    bar_blue = sum(1 for p in pixels if p[2] > 150 and p[0] < 100)
    assert dark > 2000, "the page is blank"
    assert bar_blue > 200, "no chart bars drawn"
    text = page.get_textpage().get_text_range()
    assert "Maker-checker on payments" in text and "root hash" in text


def test_html_has_tables_and_svg_charts(ledgered: Ledgered) -> None:  # noqa: F811
    report = ledgered.kernel.assurance.report("gdpr", "default", ledgered.period)
    html = render(report, "html").decode()
    assert html.count("<table") >= 4 and html.count("<svg") == 2 and "<rect" in html
    assert report["tree_head"]["root_hash"] in html


def test_cli_writes_documents_and_refuses_a_reversed_period(
    ledgered: Ledgered,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = ledgered.kernel.settings
    ledgered.kernel.close()
    monkeypatch.setenv("PAYGOD_HOME", str(settings.home))
    monkeypatch.setenv("PAYGOD_PACKS", str(settings.packs))
    runner = CliRunner()
    out = tmp_path / "ar.json"
    args = ["compliance", "oscal", "assessment-results", "--from", FROM, "--to", TO]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_bytes())["assessment-results"]["results"][0]["observations"]
    again = tmp_path / "ar2.json"
    assert runner.invoke(app, [*args, "--out", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()  # a new process, the same bytes
    pdf = tmp_path / "sox.pdf"
    result = runner.invoke(
        app, ["reports", "sox", "--from", FROM, "--to", TO, "--format", "pdf", "--out", str(pdf)]
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    env = {"PAYGOD_HOME": str(settings.home), "PAYGOD_PACKS": str(settings.packs)}
    target = tmp_path / "x.json"
    reversed_ = run_cli(
        "reports", "gdpr", "--from", TO, "--to", FROM, "--out", str(target), env=env
    )
    assert reversed_.code == 2, reversed_.stderr
    assert "/from" in reversed_.stderr and len(reversed_.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_ledger_head_record_stores_a_head(
    ledgered: Ledgered,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from paygod.ledger import EntryDraft

    settings = ledgered.kernel.settings
    ledgered.kernel.ledger.append(EntryDraft("note", "s", {"n": 1}))
    size = ledgered.kernel.ledger.size
    ledgered.kernel.close()
    env = {"PAYGOD_HOME": str(settings.home), "PAYGOD_PACKS": str(settings.packs)}
    result = run_cli("ledger", "head", "--record", "--json", env=env)
    assert result.code == 0, result.stderr
    from paygod.bootstrap import build_kernel

    ledgered.kernel = build_kernel(settings)
    assert size in {h.tree_size for h in ledgered.kernel.ledger.store.tree_heads()}


def test_http_route_roles_and_errors(ledgered: Ledgered) -> None:  # noqa: F811
    kernel = ledgered.kernel
    http = TestClient(create_app(kernel))
    headers = {"Authorization": f"Bearer {_key(kernel, 'auditor')}"}
    query = {"from": FROM, "to": TO}
    ok = http.get("/v1/compliance/reports/sox", params=query, headers=headers)
    assert ok.status_code == 200 and ok.json()["report"] == "sox"
    pdf = http.get("/v1/compliance/reports/pci", params={**query, "format": "pdf"}, headers=headers)
    assert pdf.headers["content-type"] == "application/pdf"
    bad = http.get("/v1/compliance/reports/sox", params={"from": TO, "to": FROM}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/from"
    assert (
        http.get("/v1/compliance/reports/hipaa", params=query, headers=headers).status_code == 404
    )
    from paygod.ledger.signing import TreeHeadSigner

    head = kernel.ledger.store.tree_heads()[-1]
    forged = TreeHeadSigner.generate().sign(head.tree_size - 1, head.root_hash, head.timestamp)
    kernel.ledger.store.save_tree_head(forged)
    size = kernel.ledger.size
    unverified = http.get(
        "/v1/compliance/reports/gdpr",
        params={**query, "tree_size": forged.tree_size},
        headers=headers,
    )
    assert unverified.status_code == 422
    assert unverified.json()["errors"][0]["pointer"] == "/tree_head"
    assert "does not verify" in unverified.json()["detail"]
    assert kernel.ledger.size == size + 1  # only the auditor's read was recorded (access audit)
    operator = {"Authorization": f"Bearer {_key(kernel, 'operator')}"}
    denied = http.get("/v1/compliance/reports/sox", params=query, headers=operator)
    assert denied.status_code == 403


def _key(kernel: object, role: str) -> str:
    from paygod.identity.model import PrincipalKind, Role

    identity = kernel.identity  # type: ignore[attr-defined]
    principal = identity.create_principal(
        tenant_id="default", kind=PrincipalKind.HUMAN, name=f"{role}-1", roles=[Role(role)]
    )
    return str(identity.issue_key(principal.principal_id).token)
