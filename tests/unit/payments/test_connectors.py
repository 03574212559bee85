"""Rail connectors: simulated (counts, failures, callbacks), webhook (signed), SEPA (pain.001)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import httpx
import pytest

from paygod.payments.connectors.sepa import SepaFileRail
from paygod.payments.connectors.simulated import SimulatedRail
from paygod.payments.connectors.webhook import WebhookRail
from paygod.payments.model import (
    PaymentInstruction,
    RailRefused,
    RailUnavailable,
    SettlementNotice,
)
from paygod.payments.signing import SIGNATURE_HEADER, verify


def instruction(key: str = "pay-1", **kw: object) -> PaymentInstruction:
    values: dict[str, object] = {
        "payment_id": key,
        "rail": "ach",
        "amount": 12_500,
        "currency": "USD",
        "payee": {"name": "Vendor", "account_number": "1", "routing_number": "2"},
        "payer_account": "acct-1",
        "purpose": "invoice 42",
    }
    values.update(kw)
    return PaymentInstruction(**values)  # type: ignore[arg-type]


def test_simulated_rail_counts_accepted_calls_per_key(tmp_path: Path) -> None:
    for rail in (SimulatedRail("ach"), SimulatedRail("ach", state_path=tmp_path / "rail.db")):
        first = rail.send(instruction())
        again = rail.send(instruction())
        assert first.reference == again.reference  # the rail dedupes
        assert rail.calls("pay-1") == 2  # ...and the test sees the duplicate
        assert rail.lookup("pay-1") is not None
        assert rail.lookup("nope") is None


def test_simulated_failures_are_seeded_and_repeatable() -> None:
    def outcomes(seed: int) -> list[bool]:
        rail = SimulatedRail("ach", failure_rate=0.5, seed=seed)
        result = []
        for i in range(20):
            try:
                rail.send(instruction(f"p{i}"))
                result.append(True)
            except RailUnavailable:
                result.append(False)
        return result

    assert outcomes(3) == outcomes(3)
    assert True in outcomes(3) and False in outcomes(3)


def test_simulated_async_settlement_callback() -> None:
    rail = SimulatedRail("ach", settle_after=0.01)
    got: list[SettlementNotice] = []
    done = threading.Event()
    rail.on_settlement(lambda n: (got.append(n), done.set()))
    receipt = rail.send(instruction())
    assert receipt.status == "accepted"
    assert done.wait(5)
    assert got[0].status == "settled" and got[0].idempotency_key == "pay-1"
    assert rail.lookup("pay-1") is not None and rail.lookup("pay-1").status == "settled"  # type: ignore[union-attr]


def test_webhook_rail_signs_and_maps_answers() -> None:
    secret = b"s3cret"
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(404)
        key = request.headers["Idempotency-Key"]
        if key == "down":
            return httpx.Response(503)
        if key == "bad":
            return httpx.Response(422, text="unknown account")
        return httpx.Response(202, json={"status": "accepted", "reference": "ext-1"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    rail = WebhookRail("wire", "https://partner.example/pay", secret, client=client)
    receipt = rail.send(instruction())
    assert receipt.reference == "ext-1"
    request = seen[0]
    import time

    verify(secret, request.headers[SIGNATURE_HEADER], request.content, now=int(time.time()))
    with pytest.raises(RailUnavailable):
        rail.send(instruction("down"))
    with pytest.raises(RailRefused):
        rail.send(instruction("bad"))
    assert rail.lookup("pay-1") is None


SEPA_PAYEE = {"name": "Lieferant GmbH", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}


def sepa(tmp_path: Path) -> SepaFileRail:
    return SepaFileRail(
        tmp_path / "sepa",
        debtor_name="Paygod Treasury",
        debtor_iban="NL91ABNA0417164300",
        debtor_bic="ABNANL2A",
    )


def test_sepa_file_is_schema_valid_pain001_and_idempotent(tmp_path: Path) -> None:
    rail = sepa(tmp_path)
    order = instruction(rail="sepa_credit", currency="EUR", payee=SEPA_PAYEE)
    xml = rail.build(order, execution_date=date(2026, 1, 6))
    assert b"pain.001.001.03" in xml and b"DE89370400440532013000" in xml
    assert b'<InstdAmt Ccy="EUR">125.00</InstdAmt>' in xml
    first = rail.send(order)
    second = rail.send(order)
    assert first.reference == second.reference
    assert len(list((tmp_path / "sepa").glob("*.xml"))) == 1
    assert rail.lookup(order.key) is not None


@pytest.mark.parametrize(
    "payee",
    [
        {"name": "x", "iban": "DE00370400440532013000"},  # bad checksum
        {"name": "x", "iban": "DE89370400440532013000", "bic": "NOTABIC"},
    ],
)
def test_sepa_refuses_bad_iban_or_bic(tmp_path: Path, payee: dict[str, str]) -> None:
    with pytest.raises(RailRefused):
        sepa(tmp_path).send(instruction(currency="EUR", payee=payee))
    assert not (tmp_path / "sepa").exists() or not list((tmp_path / "sepa").glob("*.xml"))


def test_sepa_refuses_non_euro(tmp_path: Path) -> None:
    with pytest.raises(RailRefused):
        sepa(tmp_path).send(instruction(currency="USD", payee=SEPA_PAYEE))
