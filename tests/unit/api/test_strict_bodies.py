"""A JSON body that is not I-JSON (duplicate names, NaN, bad UTF-8) is 422 and records
nothing — on the hot path (decisions, payments) and on every FastAPI route alike."""

from __future__ import annotations

import pytest

from paygod.bootstrap import Kernel
from tests.support.http import api_client

DECISION = (
    b'{"subject":"urn:a:1","subject":"urn:a:2","input":{"payment":{"amount_minor":1,'
    b'"currency":"EUR","rail":"card","counterparty":{"ref":"urn:x","verified":true}}}}'
)


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/v1/decisions", DECISION, "duplicate member name 'subject'"),
        (
            "/v1/payments",
            b'{"payer_account":"a","payer_account":"b","payee":{"ref":"urn:x"},'
            b'"amount":1,"currency":"EUR","purpose":"p"}',
            "duplicate member name 'payer_account'",
        ),
        (
            "/v1/decisions",
            b'{"subject":"urn:a:1","input":{"payment":{"amount_minor":NaN}}}',
            "NaN is not a JSON number",
        ),
        ("/v1/accounts", b'{"id":"w","id":"v","ledger":"EUR","code":"asset"}', "duplicate"),
        ("/v1/identity/consents", b'{"subject":"s","subject":"t"}', "duplicate"),
        ("/v1/decisions", b'{"subject":"\xff"}', "not valid UTF-8"),
    ],
)
def test_non_ijson_bodies_are_refused_and_nothing_is_recorded(
    standalone_kernel: Kernel, path: str, body: bytes, reason: str
) -> None:
    size = standalone_kernel.ledger.size
    response = api_client(standalone_kernel).post(
        path,
        content=body,
        headers={"content-type": "application/json", "Idempotency-Key": "strict-1"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    assert standalone_kernel.ledger.size == size
