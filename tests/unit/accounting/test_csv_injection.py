"""CSV exports neutralise cells a spreadsheet would run as formulas (OWASP CSV injection):
a text cell starting with = + - @ tab or CR gets a leading apostrophe; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from paygod.accounting.reports import csv_cell
from paygod.bootstrap import Kernel
from tests.support.http import api_client

FORMULAS = ['=HYPERLINK("http://evil/","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_cell_is_text(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert csv_cell(-5) == -5 and csv_cell("plain") == "plain" and csv_cell("a=b") == "a=b"


def test_transfer_and_statement_exports_carry_no_live_formula(standalone_kernel: Kernel) -> None:
    http = api_client(standalone_kernel)
    for body in (
        {"id": "a", "ledger": "EUR", "code": "asset"},
        {"id": "b", "ledger": "EUR", "code": "liability"},
    ):
        assert http.post("/v1/accounts", json=body).status_code == 201
    for n, code in enumerate(FORMULAS[:4]):
        created = http.post(
            "/v1/transfers",
            json={"id": f"t{n}", "code": code, "debit_account_id": "a",
                  "credit_account_id": "b", "amount": 1},
        )  # fmt: skip
        assert created.status_code == 201, created.text
    exported = http.get("/v1/transfers", params={"format": "csv"}).text
    window = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "format": "csv"}
    statement = http.get("/v1/accounts/b/statement", params=window).text
    for document in (exported, statement):
        cells = [cell for row in csv.reader(io.StringIO(document)) for cell in row]
        assert not [c for c in cells if c[:1] in {"=", "+", "@", "\t", "\r"}], cells
        assert '\'=HYPERLINK("http://evil/","x")' in cells
