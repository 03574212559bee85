"""Every CLI error is one line on stderr and exit 2, output paths included: an --out that
is a file, a full device, an unwritable place (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli

PACK = (
    Path(__file__).parents[2]
    / "src"
    / "paygod"
    / "decisions"
    / "default_packs"
    / "agent-payment-limits"
)
INPUT = {
    "payment": {
        "amount_minor": 4999,
        "currency": "EUR",
        "rail": "card",
        "counterparty": {"ref": "urn:paygod:cp:acme", "verified": True},
    }
}


def one_line(result: object) -> str:
    code, stdout, stderr = result.code, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert code == 2, (code, stderr)
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return str(lines[0])


@pytest.fixture
def input_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(INPUT))
    return path


def test_run_into_an_existing_file(tmp_path: Path, input_file: Path) -> None:
    existing = tmp_path / "f"
    existing.write_text("keep")
    line = one_line(
        run_cli("run", "--pack", str(PACK), "--input", str(input_file), "--out", str(existing))
    )
    assert line == f"error: {existing} exists and is not a directory"
    assert existing.read_text() == "keep"


@pytest.mark.parametrize("out", ["/dev/full", "/proc/paygod-out", "/proc/version/x"])
def test_run_into_an_unwritable_place(input_file: Path, out: str) -> None:
    line = one_line(run_cli("run", "--pack", str(PACK), "--input", str(input_file), "--out", out))
    assert out.split("/x")[0] in line


@pytest.mark.parametrize("out", ["/proc/version", "/proc/nope/ledger.jsonl"])
def test_ledger_export_to_an_unwritable_place(paygod_home: Path, tmp_path: Path, out: str) -> None:
    payload = tmp_path / "p.json"
    payload.write_text("{}")
    appended = run_cli(
        "ledger", "append", "--kind", "note", "--subject", "s", "--payload", str(payload)
    )
    assert appended.code == 0, appended.stderr
    line = one_line(run_cli("ledger", "export", "--out", out))
    assert line.startswith(f"error: cannot write {out}: ")


def test_ledger_export_into_a_directory(paygod_home: Path, tmp_path: Path) -> None:
    line = one_line(run_cli("ledger", "export", "--out", str(tmp_path)))
    assert line == f"error: cannot write {tmp_path}: it is a directory"


def test_credits_group_mirrors_the_http_routes(paygod_home: Path) -> None:
    def credits(*args: str) -> dict[str, object]:
        result = run_cli("credits", *args, "--json")
        assert result.code == 0, result.stderr
        return dict(json.loads(result.stdout))

    assert credits("balance")["balance"] == 0
    assert credits("purchase", "100", "--idempotency-key", "buy-1")["balance"]["available"] == 100  # type: ignore[index]
    again = credits("purchase", "100", "--idempotency-key", "buy-1")
    assert again["balance"]["balance"] == 100  # type: ignore[index]
    assert credits("consume", "30")["balance"]["balance"] == 70  # type: ignore[index]
    held = credits("reserve", "20", "--ttl-seconds", "60")
    reservation = held["transfer"]["id"]  # type: ignore[index]
    assert held["balance"]["available"] == 50  # type: ignore[index]
    committed = credits("commit", str(reservation), "--amount", "5")
    assert committed["balance"]["balance"] == 65 and committed["balance"]["reserved"] == 0  # type: ignore[index]
    other = credits("reserve", "10")["transfer"]["id"]  # type: ignore[index]
    assert credits("cancel", str(other))["balance"]["available"] == 65  # type: ignore[index]
    assert credits("threshold", "40")["low_balance_threshold"] == 40
    assert credits("threshold", "--clear")["low_balance_threshold"] is None
    short = run_cli("credits", "consume", "1000")
    assert short.code == 1 and len(short.stderr.strip().splitlines()) == 1
    pii = one_line(run_cli("credits", "purchase", "5", "--metadata", '{"who": "a@example.com"}'))
    assert "/metadata/who" in pii
    assert credits("balance")["balance"] == 65
