"""`paygod credit schedule|apr` as a user runs them: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli
from tests.unit.credit.appendix_j import EXAMPLES

SCHEDULE = (
    "credit",
    "schedule",
    "--principal",
    "500000",
    "--currency",
    "USD",
    "--annual-rate",
    "0.0969",
    "--payments",
    "24",
    "--frequency",
    "monthly",
    "--day-count",
    "30/360",
    "--start",
    "1978-01-10",
)


def test_schedule_json_shape() -> None:
    result = run_cli(*SCHEDULE, "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["level_payment", "rows", "totals"]
    assert data["level_payment"] == 23001
    assert list(data["rows"][0]) == ["n", "due_date", "payment", "interest", "principal", "balance"]
    assert data["rows"][0] == {
        "n": 1,
        "due_date": "1978-02-10",
        "payment": 23001,
        "interest": 4038,
        "principal": 18963,
        "balance": 481037,
    }
    assert data["totals"]["principal"] == 500000
    assert data["totals"]["payments"] == data["totals"]["interest"] + 500000
    assert data["rows"][-1]["balance"] == 0


@pytest.mark.parametrize(
    ("flag", "value", "needle"),
    [
        ("--annual-rate", "-0.1", "annual rate"),
        ("--annual-rate", "-6.5%", "annual rate"),
        ("--annual-rate", "1000.01", "1000 %"),
        ("--annual-rate", "1001%", "1000 %"),
        ("--annual-rate", "6,5", "annual rate"),
        ("--payments", "0", "payments"),
        ("--principal", "0", "principal"),
        ("--start", "2025-13-01", "2025-13-01"),
        ("--currency", "ZZZ", "ZZZ"),
        ("--frequency", "daily", "frequency"),
        ("--payments", "x", "payments"),
    ],
)
def test_schedule_refuses_bad_input_in_one_line(flag: str, value: str, needle: str) -> None:
    args = list(SCHEDULE)
    args[args.index(flag) + 1] = value
    result = run_cli(*args, "--json")
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr


def test_interest_only_payments_then_the_level_payment() -> None:
    result = run_cli(*SCHEDULE, "--interest-only", "6", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["principal"] for r in data["rows"][:6]] == [0] * 6
    assert {r["balance"] for r in data["rows"][:6]} == {500000}
    assert data["rows"][6]["payment"] == data["level_payment"] > 23001  # 18 payments, not 24
    assert data["totals"]["principal"] == 500000 and data["rows"][-1]["balance"] == 0
    refused = run_cli(*SCHEDULE, "--interest-only", "24", "--json")
    assert refused.code == 2 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1 and "interest_only" in refused.stderr


def test_a_percent_and_a_fraction_print_the_same_schedule() -> None:
    outputs = []
    for typed in ("9.69%", "9.69", "0.0969"):
        args = list(SCHEDULE)
        args[args.index("--annual-rate") + 1] = typed
        result = run_cli(*args, "--json")
        assert result.code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert json.loads(outputs[0])["level_payment"] == 23001


def test_apr_of_the_appendix_j_examples(tmp_path: Path) -> None:
    for name, document, published in EXAMPLES[:3] + EXAMPLES[-2:]:
        file = tmp_path / "case.json"
        file.write_text(json.dumps(document))
        result = run_cli("credit", "apr", "--file", str(file), "--json")
        assert result.code == 0, (name, result.stderr)
        assert json.loads(result.stdout) == {"apr": published}, name


def test_apr_refuses_a_bad_case(tmp_path: Path) -> None:
    file = tmp_path / "case.json"
    file.write_text(
        json.dumps(
            {
                "amount_financed": 100,
                "advance_date": "2024-01-01",
                "unit_period": "fortnight",
                "payments": [],
            }
        )
    )
    result = run_cli("credit", "apr", "--file", str(file), "--json")
    assert result.code == 2 and result.stdout == ""
    assert "/unit_period" in result.stderr or "unit period" in result.stderr
    file.write_text("{not json")
    assert run_cli("credit", "apr", "--file", str(file)).code == 2
    assert run_cli("credit", "apr", "--file", str(tmp_path / "missing.json")).code == 2
