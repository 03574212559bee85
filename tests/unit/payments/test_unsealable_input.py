"""A value with no RFC 8785 form is bad input (422, pointer), never a 500; nothing recorded."""

from __future__ import annotations

import pytest

from paygod.bootstrap import Kernel
from tests.support.http import api_client


@pytest.fixture
def kernel(standalone_kernel: Kernel) -> Kernel:
    return standalone_kernel


def test_unsafe_integer_in_metadata_is_422_and_nothing_recorded(kernel: Kernel) -> None:
    before = kernel.ledger.size
    response = api_client(kernel).post(
        "/v1/payments",
        json={
            "payer_account": "wallet",
            "payee": {"ref": "urn:paygod:vendor:1"},
            "amount": 3222,
            "currency": "EUR",
            "purpose": "supplies",
            "metadata": {"order": 14956267102514280},
        },
        headers={"Idempotency-Key": "unsafe-int"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "/metadata/order"
    assert kernel.ledger.size == before
