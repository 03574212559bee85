"""One rule for every field of every write (kernel/written.py): raw personal data, NUL,
invisible characters in member names and bidirectional controls are refused with the
request's own JSON pointer (422), and nothing is recorded, whichever route it is."""

from __future__ import annotations

from typing import Any

import pytest

from paygod.bootstrap import Kernel
from paygod.kernel.written import written_problems
from tests.support.http import api_client

PII = {
    "pan": "4111 1111 1111 1111",
    "iban": "DE89370400440532013000",
    "email": "alice.smith@example.com",
    "phone": "+49 30 1234 5678",
}


@pytest.fixture
def kernel(standalone_kernel: Kernel) -> Kernel:
    return standalone_kernel


def _funded_wallet(kernel: Kernel) -> None:
    http = api_client(kernel)
    bank = {"id": "bank", "ledger": "EUR", "code": "asset"}
    wallet = {"id": "wallet", "ledger": "EUR", "code": "liability"}
    for body in (bank, wallet):
        assert http.post("/v1/accounts", json=body).status_code in (200, 201)
    fund = {"id": "fund", "debit_account_id": "bank", "credit_account_id": "wallet"}
    assert http.post("/v1/transfers", json={**fund, "amount": 5000}).status_code == 201


def payment(**changes: Any) -> dict[str, Any]:
    body = {
        "payer_account": "wallet",
        "payee": {"name": "B", "iban": PII["iban"]},  # vaulted: sealed as its digest
        "amount": 10,
        "currency": "EUR",
        "purpose": "supplies",
        "metadata": {"counterparty_verified": True},
    }
    body.update(changes)
    return body


def _refused(kernel: Kernel, method: str, url: str, body: Any, pointer: str) -> None:
    before = kernel.ledger.size
    response = api_client(kernel).request(
        method, url, json=body, headers={"Idempotency-Key": f"k-{abs(hash(str(body)))}"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json()["errors"]], response.json()
    assert kernel.ledger.size == before


@pytest.mark.parametrize("kind", sorted(PII))
def test_personal_data_in_payment_metadata_is_refused_at_its_pointer(
    kernel: Kernel, kind: str
) -> None:
    _funded_wallet(kernel)
    body = payment(metadata={"counterparty_verified": True, "note": {"x": [PII[kind]]}})
    _refused(kernel, "POST", "/v1/payments", body, "/metadata/note/x/0")


def test_a_payment_with_its_payee_iban_is_still_accepted(kernel: Kernel) -> None:
    _funded_wallet(kernel)
    response = api_client(kernel).post(
        "/v1/payments", json=payment(), headers={"Idempotency-Key": "ok-1"}
    )
    assert response.status_code in (200, 201, 202), response.text
    sealed = [e.payload for e in kernel.ledger.entries(limit=1000)]
    assert PII["iban"] not in str(sealed)


def test_personal_data_in_a_payment_purpose_points_at_the_request(kernel: Kernel) -> None:
    _funded_wallet(kernel)
    _refused(kernel, "POST", "/v1/payments", payment(purpose=f"for {PII['email']}"), "/purpose")


@pytest.mark.parametrize(
    ("key", "pointer"),
    [
        ("k\u0000", "/metadata/k\u0000"),
        ("a\u202eb", "/metadata/a\u202eb"),
        ("\u200b", "/metadata/\u200b"),
    ],
)
def test_invisible_characters_in_member_names_are_refused(
    kernel: Kernel, key: str, pointer: str
) -> None:
    _funded_wallet(kernel)
    body = payment(metadata={"counterparty_verified": True, key: 1})
    _refused(kernel, "POST", "/v1/payments", body, pointer)
    transfer = {
        "id": "t-meta",
        "debit_account_id": "wallet",
        "credit_account_id": "bank",
        "amount": 1,
        "metadata": {key: 1},
    }
    _refused(kernel, "POST", "/v1/transfers", transfer, pointer)


@pytest.mark.parametrize("value", ["a\u0000b", "refund\u202e", "x\u2066y"])
def test_nul_and_bidi_controls_in_any_value_are_refused(kernel: Kernel, value: str) -> None:
    _funded_wallet(kernel)
    _refused(kernel, "POST", "/v1/payments", payment(metadata={"note": value}), "/metadata/note")
    account = {"id": "acct-x", "ledger": "EUR", "code": "asset", "metadata": {"n": value}}
    _refused(kernel, "POST", "/v1/accounts", account, "/metadata/n")


ACCOUNT = {"id": "a", "ledger": "EUR", "code": "asset", "metadata": {"o": PII["pan"]}}
TRANSFER = {"id": "t", "debit_account_id": "wallet", "credit_account_id": "bank", "amount": 1}
DECISION = {"subject": "urn:paygod:agent:1", "input": {"payment": {"purpose": PII["iban"]}}}


@pytest.mark.parametrize(
    ("url", "body", "pointer"),
    [
        ("/v1/accounts", ACCOUNT, "/metadata/o"),
        ("/v1/transfers", {**TRANSFER, "code": PII["email"]}, "/code"),
        ("/v1/credits/purchase", {"amount": 5, "metadata": {"who": PII["phone"]}}, "/metadata/who"),
        ("/v1/decisions", DECISION, "/input/payment/purpose"),
    ],
)
def test_every_write_route_holds_the_same_rule(
    kernel: Kernel, url: str, body: dict[str, Any], pointer: str
) -> None:
    _funded_wallet(kernel)
    _refused(kernel, "POST", url, body, pointer)


def test_a_transfer_code_holds_the_identifier_characters(kernel: Kernel) -> None:
    _funded_wallet(kernel)
    body = {"id": "t-rlo", "debit_account_id": "wallet", "credit_account_id": "bank"}
    _refused(
        kernel, "POST", "/v1/transfers", {**body, "amount": 1, "code": "refund\u202e"}, "/code"
    )
    # The same rule from the service (the CLI's path), not only at the HTTP edge.
    from paygod.accounting import TransferRequest

    result = kernel.accounting.create_transfers(
        "default", [TransferRequest("t-rlo2", "wallet", "bank", 1, "EUR", "refund\u202e")]
    )
    assert result[0].error is not None and result[0].error.code == "code_invalid"


def test_the_detector_names_each_offender_once_and_spares_references() -> None:
    doc = {
        "ref": "urn:paygod:cp:alice@example.com",
        "digest": "sha256:" + "a" * 64,
        "payee": {"iban": PII["iban"]},
        "list": [PII["pan"], "ok"],
        "tab\tok": "line\nbreaks and\ttabs are text",
    }
    problems = written_problems(doc, vaulted=("/payee",))
    assert [(p.pointer, p.message.split(";")[0]) for p in problems] == [
        ("/list/0", "looks like a card number"),
        ("/tab\tok", "member name must not contain U+0009 (character 3)"),
    ]


def test_generated_hex_ids_are_not_card_numbers() -> None:
    import random
    import uuid

    from paygod.kernel.pii import pii_kind

    rng = random.Random(15)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(50_000)]
    # An id whose first groups are all decimal digits passing Luhn, as one in ~20,000 is.
    ids.append("41111111-1111-4115-a111-111111111111")
    # ... and inside an identifier built from one (an account named after its owner).
    ids += [f"wallet-{i}" for i in ids[:20_000]] + ["wallet-01932e44-5911-7d12-8000-00000000abcd"]
    # A mandate's id: `md-` and 32 hex digits of its credential's digest.
    ids += [f"md-{rng.getrandbits(128):032x}" for _ in range(50_000)]
    ids += ["md-4111111111111111a0b1c2d3e4f5a6b7"]
    assert [i for i in ids if pii_kind(i) is not None] == []
    assert pii_kind("card 4111-1111-1111-1111 on file") == "a card number"
    assert pii_kind("md-4111111111111111") == "a card number"  # no generated id around it


def test_ids_keep_their_modules_specific_codes(kernel: Kernel) -> None:
    _funded_wallet(kernel)
    http = api_client(kernel)
    one = {"id": "x\u202ey", "debit_account_id": "wallet", "credit_account_id": "bank", "amount": 1}
    for body, pointer in (
        (one, "/id"),
        ({"transfers": [{**one, "id": "ok"}, one]}, "/transfers/1/id"),
    ):
        response = http.post("/v1/transfers", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/id_invalid")
        assert response.json()["errors"][0]["pointer"] == pointer
    account = http.post("/v1/accounts", json={"id": "x\u202ey", "ledger": "EUR", "code": "asset"})
    assert account.json()["type"].endswith("/id_invalid")
    # Personal data in an id is still refused by the write rule.
    refused = http.post("/v1/transfers", json={**one, "id": "alice@example.com"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/id"
