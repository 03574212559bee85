"""Hostile input gets a 4xx problem+json with a pointer (CLI: exit 2, one stderr line),
never a 500 or a traceback, and nothing is recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paygod.bootstrap import Kernel
from paygod.kernel.jsonio import MAX_DEPTH
from tests.e2e.conftest import run_cli
from tests.support.http import api_client

PAYMENT = {
    "amount_minor": 4999,
    "currency": "EUR",
    "rail": "card",
    "counterparty": {"ref": "urn:paygod:cp:acme", "verified": True},
}


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def assert_refused(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["errors"], problem
    return problem


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # jsonschema-rs stopped at ~400 levels inside a validated pack input: a 500.
        ("/v1/decisions", b'{"subject":"s","input":{"payment":' + nested(500) + b"}}"),
        # orjson stops at 255 levels writing the outbox envelope: a 500 after deciding.
        (
            "/v1/decisions",
            b'{"subject":"s","context":{"x":' + nested(300) + b'},"input":{"payment":'
            b'{"amount_minor":1,"currency":"EUR","rail":"card",'
            b'"counterparty":{"ref":"urn:x:1","verified":true}}}}',
        ),
        (
            "/v1/transfers",
            b'{"id":"t","debit_account_id":"a","credit_account_id":"b","amount":1,'
            b'"metadata":{"a":' + nested(200) + b"}}",
        ),
        ("/v1/accounts", b'{"ledger":"EUR","code":"asset","metadata":{"a":' + nested(100) + b"}}"),
    ],
)
def test_a_body_nested_too_deeply_is_422_with_its_pointer(
    standalone_kernel: Kernel, path: str, body: bytes
) -> None:
    client = api_client(standalone_kernel)  # its principal and key are sealed entries
    size = standalone_kernel.ledger.size
    response = client.post(
        path, content=body, headers={"content-type": "application/json", "Idempotency-Key": "d"}
    )
    problem = assert_refused(response)
    assert f"more than {MAX_DEPTH} levels" in problem["detail"]
    pointer = problem["errors"][0]["pointer"]
    assert pointer.count("/") == MAX_DEPTH, pointer  # the first container too deep
    assert standalone_kernel.ledger.size == size


def test_nesting_within_the_limit_is_still_decided(standalone_kernel: Kernel) -> None:
    context = {"x": [[[["deep but fine"]]]]}
    response = api_client(standalone_kernel).post(
        "/v1/decisions",
        json={"subject": "urn:paygod:agent:1", "context": context, "input": {"payment": PAYMENT}},
        headers={"Idempotency-Key": "fine"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["context"] == context


def test_an_integer_too_long_to_convert_names_the_limit_not_the_interpreter(
    standalone_kernel: Kernel,
) -> None:
    client = api_client(standalone_kernel)
    size = standalone_kernel.ledger.size
    body = b'{"subject":"s","input":{"payment":{"amount_minor":' + b"9" * 5000 + b"}}}"
    response = client.post(
        "/v1/decisions",
        content=body,
        headers={"content-type": "application/json", "Idempotency-Key": "digits"},
    )
    problem = assert_refused(response)
    assert "integer has more than 4300 digits" in problem["detail"]
    assert "sys.set_int_max_str_digits" not in response.text
    assert standalone_kernel.ledger.size == size


@pytest.mark.parametrize(
    "path",
    [
        "/v1/accounts/bank/statement?from=0001-01-01T00:00:00%2B23:59&to=2030-01-01T00:00:00Z",
        "/v1/accounts/bank/statement?from=2020-01-01T00:00:00Z&to=9999-12-31T23:59:59-23:59",
        "/v1/accounts/bank/balance?at=0001-01-01T00:00:00%2B23:59",
        "/v1/ledger/subjects/x?recorded_at=0001-01-01T00:00:00%2B23:59",
        "/v1/ledger/subjects/x?valid_at=9999-12-31T23:59:59-23:59",
        "/v1/identity/access-log?since=0001-01-01T00:00:00%2B23:59",
    ],
)
def test_an_instant_outside_years_1_to_9999_in_utc_is_422(
    standalone_kernel: Kernel, path: str
) -> None:
    client = api_client(standalone_kernel)
    opened = client.post("/v1/accounts", json={"id": "bank", "ledger": "EUR", "code": "asset"})
    assert opened.status_code in (200, 201), opened.text
    problem = assert_refused(client.get(path))
    assert problem["errors"][0]["pointer"].startswith("#query/")


def test_a_non_json_content_type_is_refused_with_the_header_pointer(
    standalone_kernel: Kernel,
) -> None:
    client = api_client(standalone_kernel)
    for account in ("bank", "wallet"):
        opened = client.post("/v1/accounts", json={"id": account, "ledger": "EUR", "code": "asset"})
        assert opened.status_code == 201, opened.text
    size = standalone_kernel.ledger.size
    transfer = b'{"id":"t1","debit_account_id":"bank","credit_account_id":"wallet","amount":5}'
    # POST /v1/transfers parses its own body: a text/plain one was decided and recorded.
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = client.post(
            "/v1/transfers", content=transfer, headers={"content-type": content_type}
        )
        problem = assert_refused(response)
        assert problem["errors"][0]["pointer"] == "#header/content-type"
    account = b'{"id":"w2","ledger":"EUR","code":"asset"}'
    response = client.post("/v1/accounts", content=account, headers={"content-type": "text/plain"})
    assert assert_refused(response)["errors"][0]["pointer"] == "#header/content-type"
    assert standalone_kernel.ledger.size == size
    accepted = client.post(
        "/v1/transfers", content=transfer, headers={"content-type": "application/json"}
    )
    assert accepted.status_code == 201, accepted.text


# -- the CLI ------------------------------------------------------------------------------


def one_error_line(result: Any) -> str:
    assert result.code == 2, (result.code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return str(lines[0])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("ledger", "show", "abc"), "'seq'"),
        (("ledger", "show", "99999999999999999999999"), "9223372036854775807"),
        (("ledger", "prove", "99999999999999999999999"), "9223372036854775807"),
        (("ledger", "show"), "Missing argument 'seq'"),
        (("accounts", "create", "--ledger", "EUR", "--code", "bogus"), "'--code'"),
        (("payments", "quote", "--amount", "-1", "--currency", "USD"), "'--amount'"),
        (("no-such-command",), "No such command"),
        (("ledger", "at", "x", "--recorded", "0001-01-01T00:00:00+23:59"), "--recorded"),
    ],
)
def test_cli_usage_errors_are_one_line_and_exit_2(
    paygod_home: Path, args: tuple[str, ...], says: str
) -> None:
    env = {"PAYGOD_HOME": str(paygod_home)}
    assert run_cli("migrate", env=env).code == 0
    line = one_error_line(run_cli(*args, env=env))
    assert says in line, line
    assert "╭" not in line and "Usage:" not in line


def test_cli_decide_with_a_deeply_nested_input_file_is_exit_2(
    paygod_home: Path, tmp_path: Path
) -> None:
    env = {"PAYGOD_HOME": str(paygod_home)}
    assert run_cli("migrate", env=env).code == 0
    deep = tmp_path / "deep.json"
    deep.write_bytes(b'{"payment":' + nested(500) + b"}")
    line = one_error_line(run_cli("decide", "--input", str(deep), "--subject", "s", env=env))
    assert "nested too deeply" in line, line


def test_cli_error_lines_are_not_wrapped_at_80_columns(tmp_path: Path) -> None:
    binary = tmp_path / ("a-rather-long-file-name-so-the-line-exceeds-eighty-columns" + ".json")
    binary.write_bytes(b"\x00\x01\xff")
    result = run_cli("ledger", "check-proof", str(binary), env={"COLUMNS": "80"})
    line = one_error_line(result)
    assert len(line) > 80 and str(binary) in line


@pytest.mark.parametrize(
    "path",
    [
        "/v1/accounts?limit=2.0",
        "/v1/transfers?limit=1e1",
        "/v1/identity/access-log?since=2026-01-01T00:00:00Z&limit=10.5",
        "/v1/ledger/entries?limit=2.0",
        "/v1/ledger/proofs/consistency?from=1.0",
    ],
)
def test_an_integer_parameter_written_as_a_float_is_422_not_rounded(
    standalone_kernel: Kernel, path: str
) -> None:
    problem = assert_refused(api_client(standalone_kernel).get(path))
    assert problem["errors"][0]["pointer"].startswith("#query/"), problem
    assert "integer written in digits" in problem["errors"][0]["message"], problem


def assert_nul_refused_and_nothing_recorded(kernel: Kernel) -> None:
    """U+0000 in a path, a query or a stored text field: 422 with the pointer, nothing
    recorded. PostgreSQL text cannot hold NUL, so each of these was a 500 there (and a
    webhook for rail %00 failed the ledger writer's whole batch); SQLite recorded the
    subject as given and answered 404 for the paths."""
    client = api_client(kernel)
    size = kernel.ledger.size
    reads = {
        "/v1/accounts/acc%00": "#path",
        "/v1/decisions/abc%00": "#path",
        "/v1/accounts?after=%00&limit=2": "#query/after",
        "/v1/identity/keys?principal_id=x%00": "#query/principal_id",
        "/v1/ledger/subjects/x?tenant_id=%00": "#query/tenant_id",
    }
    for url, pointer in reads.items():
        assert assert_refused(client.get(url))["errors"][0]["pointer"] == pointer, url
    posts: list[tuple[str, dict[str, Any], str]] = [
        (
            "/v1/decisions",
            {"subject": "urn:paygod:agent:1\x00", "input": {"payment": PAYMENT}},
            "/subject",
        ),
        (
            "/v1/payments",
            {"payer_account": "acc\x00", "payee": {"ref": "urn:x:y"}, "amount": 100,
             "currency": "EUR", "purpose": "x"},
            "/payer_account",
        ),
        ("/v1/identity/tenants", {"tenant_id": "t1", "name": "x\x00"}, "/name"),
        ("/v1/admin/panic", {"on": True, "reason": "r\x00"}, "/reason"),
        ("/v1/payments/webhooks/%00", {}, "#path"),
    ]  # fmt: skip
    for path, body, pointer in posts:
        response = client.post(path, json=body, headers={"Idempotency-Key": "nul"})
        assert assert_refused(response)["errors"][0]["pointer"] == pointer, path
    assert kernel.ledger.size == size
    assert kernel.panic.is_on() is False
    decided = client.post(
        "/v1/decisions",
        json={"subject": "urn:paygod:agent:1", "input": {"payment": PAYMENT}},
        headers={"Idempotency-Key": "ok"},
    )
    assert decided.status_code == 201, decided.text


def test_nul_in_a_path_query_or_stored_field_is_422(standalone_kernel: Kernel) -> None:
    assert_nul_refused_and_nothing_recorded(standalone_kernel)


# A decision subject becomes the ledger subject and is printed in audit output: characters
# that hide or reorder text are refused as they are in account ids (kernel/identifiers.py).
INVISIBLE_SUBJECTS = [
    ("urn:paygod:agent:1\nurn:paygod:agent:2", "U+000A"),
    ("urn:paygod:agent:\u202e1tnega", "U+202E"),
    ("urn:paygod:agent:\u200b1", "U+200B"),
    # pydantic refuses a lone surrogate in a body before the route does (the CLI test
    # below reaches the subject rule with one).
    ("urn:paygod:agent:1\ud800", "unicode string"),
    ("urn:paygod:agent:\t1", "U+0009"),
]


@pytest.mark.parametrize(("subject", "code_point"), INVISIBLE_SUBJECTS)
def test_a_decision_subject_with_an_invisible_character_is_422_and_records_nothing(
    standalone_kernel: Kernel, subject: str, code_point: str
) -> None:
    client = api_client(standalone_kernel)
    size = standalone_kernel.ledger.size
    # json.dumps writes the lone surrogate as the escape \ud800, as a client would.
    body = json.dumps({"subject": subject, "input": {"payment": PAYMENT}})
    response = client.post(
        "/v1/decisions",
        content=body.encode(),
        headers={"content-type": "application/json", "Idempotency-Key": "invisible"},
    )
    problem = assert_refused(response)
    assert problem["errors"][0]["pointer"] == "/subject", problem
    assert code_point in problem["errors"][0]["message"]
    assert standalone_kernel.ledger.size == size
    # The key was not taken: the same key with a readable subject is decided now.
    decided = client.post(
        "/v1/decisions",
        json={"subject": "urn:paygod:agent:1", "input": {"payment": PAYMENT}},
        headers={"Idempotency-Key": "invisible"},
    )
    assert decided.status_code == 201, decided.text


def test_cli_decide_with_an_invisible_subject_is_exit_2_one_line_nothing_recorded(
    tmp_path: Path,
) -> None:
    env = {"PAYGOD_HOME": str(tmp_path / "home"), "PAYGOD_PACKS": str(tmp_path / "none")}
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"payment": PAYMENT}))
    by_option = run_cli("decide", "--input", str(request), "--subject", "urn:x:\u202eevil", env=env)
    in_file = tmp_path / "body.json"
    in_file.write_text(json.dumps({"subject": "urn:x:1\nurn:x:2", "input": {"payment": PAYMENT}}))
    by_file = run_cli("decide", "--input", str(in_file), env=env)
    surrogate = tmp_path / "surrogate.json"
    surrogate.write_text(json.dumps({"subject": "urn:x:\ud800", "input": {"payment": PAYMENT}}))
    by_escape = run_cli("decide", "--input", str(surrogate), env=env)
    results = ((by_option, "U+202E"), (by_file, "U+000A"), (by_escape, "U+D800"))
    for result, code_point in results:
        assert result.code == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "/subject" in lines[0] and code_point in lines[0], lines
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    kernel = build_kernel(load_settings(home=tmp_path / "home"))
    try:
        assert kernel.ledger.size == 0
    finally:
        kernel.close()


def test_subject_like_identifiers_with_invisible_characters_are_422(
    standalone_kernel: Kernel,
) -> None:
    client = api_client(standalone_kernel)
    size = standalone_kernel.ledger.size
    tenant = standalone_kernel.settings.tenant
    # The payer account is an account id, and the payment decision's subject.
    payment = {
        "payer_account": "wal\u202elet",
        "payee": {"ref": "urn:x:y"},
        "amount": 100,
        "currency": "EUR",
        "purpose": "x",
    }
    response = client.post("/v1/payments", json=payment, headers={"Idempotency-Key": "p"})
    error = assert_refused(response)["errors"][0]
    assert error["pointer"] == "/payer_account" and "U+202E" in error["message"], error
    # A data subject's consent is recorded under the subject and shown in the access audit.
    consent = {"subject": "urn:person:\u200b42", "purpose": "marketing", "tenant_id": tenant}
    error = assert_refused(client.post("/v1/identity/consents", json=consent))["errors"][0]
    assert error["pointer"] == "/subject" and "U+200B" in error["message"], error
    revoke = client.delete(
        f"/v1/identity/consents/urn:person:%E2%80%AE42/marketing?tenant_id={tenant}"
    )
    assert assert_refused(revoke)["errors"][0]["pointer"] == "#path/subject"
    read = client.get(f"/v1/identity/consents/urn:person:%0A42?tenant_id={tenant}")
    assert assert_refused(read)["errors"][0]["pointer"] == "#path/subject"
    assert standalone_kernel.ledger.size == size
    # Payee and counterparty references are free data of the payment, not identifiers.
    accepted = client.post(
        "/v1/decisions",
        json={
            "subject": "urn:paygod:agent:1",
            "input": {
                "payment": {**PAYMENT, "counterparty": {"ref": "urn:cp:\u202e", "verified": True}}
            },
        },
        headers={"Idempotency-Key": "free-ref"},
    )
    assert accepted.status_code == 201, accepted.text


# Every route that reads Idempotency-Key, with a body that is otherwise fine.
KEYED_ROUTES: dict[str, dict[str, Any]] = {
    "/v1/decisions": {"subject": "urn:paygod:agent:1", "input": {"payment": PAYMENT}},
    "/v1/payments": {
        "payer_account": "wallet",
        "payee": {"ref": "urn:x:y"},
        "amount": 100,
        "currency": "EUR",
        "purpose": "x",
    },
    "/v1/credits/purchase": {"amount": 10},
    "/v1/credits/consume": {"amount": 1},
    "/v1/credits/reservations": {"amount": 1},
    "/v1/credit/applications": {
        "product_id": "personal-term-loan",
        "applicant_ref": "urn:applicant:prime",
        "amount": 500_000,
        "currency": "USD",
        "payments": 24,
        "monthly_income": 800_000,
    },
    # The header is checked before the loan is looked up: no loan is needed to see it refused.
    "/v1/credit/loans/{loan_id}/repayments": {"amount": 100, "currency": "USD"},
    "/v1/credit/lines/{line_id}/draws": {"amount": 100, "currency": "USD"},
    "/v1/credit/lines/{line_id}/repayments": {"amount": 100, "currency": "USD"},
}


def test_the_routes_that_read_idempotency_key_are_the_ones_tested(
    standalone_kernel: Kernel,
) -> None:
    # Read from the OpenAPI document, so a new route taking the header is noticed here.
    spec = api_client(standalone_kernel).get("/openapi.json").json()
    keyed = {
        path
        for path, item in spec["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key"
    }
    assert keyed == set(KEYED_ROUTES)


@pytest.mark.parametrize("path", sorted(KEYED_ROUTES))
def test_a_repeated_idempotency_key_header_is_422_and_records_nothing(
    standalone_kernel: Kernel, path: str
) -> None:
    client = api_client(standalone_kernel)
    size = standalone_kernel.ledger.size
    balance = client.get("/v1/credits/balance").json()
    response = client.post(
        path,
        content=json.dumps(KEYED_ROUTES[path]).encode(),
        headers=[
            ("content-type", "application/json"),
            ("Idempotency-Key", "z1"),
            ("Idempotency-Key", "z2"),
        ],
    )
    problem = assert_refused(response)
    assert problem["errors"][0]["pointer"] == "#header/idempotency-key", problem
    assert standalone_kernel.ledger.size == size
    assert client.get("/v1/credits/balance").json() == balance
    if path == "/v1/decisions":  # neither key was taken
        for key in ("z1", "z2"):
            again = client.post(path, json=KEYED_ROUTES[path], headers={"Idempotency-Key": key})
            assert again.status_code == 201, again.text


@pytest.mark.parametrize("path", sorted(KEYED_ROUTES))
@pytest.mark.parametrize("merged", ["z1, z2", "z1,z2", "z1 ,z2,"])
def test_two_idempotency_keys_merged_into_one_line_are_422_and_record_nothing(
    standalone_kernel: Kernel, path: str, merged: str
) -> None:
    # What a proxy sends on after combining two Idempotency-Key lines (RFC 9110 5.3).
    client = api_client(standalone_kernel)
    size = standalone_kernel.ledger.size
    balance = client.get("/v1/credits/balance").json()
    response = client.post(path, json=KEYED_ROUTES[path], headers={"Idempotency-Key": merged})
    problem = assert_refused(response)
    assert problem["errors"][0]["pointer"] == "#header/idempotency-key", problem
    assert standalone_kernel.ledger.size == size
    assert client.get("/v1/credits/balance").json() == balance


def test_a_quoted_idempotency_key_with_a_comma_is_one_key(standalone_kernel: Kernel) -> None:
    client = api_client(standalone_kernel)
    body = KEYED_ROUTES["/v1/decisions"]
    first = client.post("/v1/decisions", json=body, headers={"Idempotency-Key": '"z1,z2"'})
    assert first.status_code == 201, first.text
    again = client.post("/v1/decisions", json=body, headers={"Idempotency-Key": '"z1,z2"'})
    assert again.status_code == 200 and again.json()["decision_id"] == first.json()["decision_id"]


@pytest.mark.parametrize(
    ("number", "pointer"),
    [
        (b"1e20", "/input/payment/amount_minor"),
        (b"9007199254740993.0", "/input/payment/amount_minor"),
        (b"-1.0e300", "/input/payment/amount_minor"),
        (b"9007199254740993", "/input/payment/amount_minor"),
    ],
)
def test_a_number_beyond_2_53_is_422_however_it_is_written(
    standalone_kernel: Kernel, number: bytes, pointer: str
) -> None:
    client = api_client(standalone_kernel)
    size = standalone_kernel.ledger.size
    body = (
        b'{"subject":"urn:paygod:agent:1","input":{"payment":{"amount_minor":' + number + b","
        b'"currency":"EUR","rail":"card","counterparty":{"ref":"urn:x:1","verified":true}}}}'
    )
    response = client.post(
        "/v1/decisions",
        content=body,
        headers={"content-type": "application/json", "Idempotency-Key": "big"},
    )
    problem = assert_refused(response)
    assert [e["pointer"] for e in problem["errors"]] == [pointer], problem
    assert "2^53" in problem["errors"][0]["message"]
    assert standalone_kernel.ledger.size == size
