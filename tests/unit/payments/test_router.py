"""Rail router: fees in integer minor units, eligibility reasons, ranking, fallback order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygod.executor.breaker import BreakerBoard
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import InvalidInput, Rejected
from paygod.payments.rail_ranking import RailRouter, require_selection
from paygod.payments.rails import DEFAULT_RAILS, RailCatalog

MONDAY_NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
US_BANK = {"account_number": "000123456789", "routing_number": "021000021"}


def router(breakers: BreakerBoard | None = None) -> RailRouter:
    return RailRouter(RailCatalog(), breakers)


def test_card_fee_rounds_half_up_in_minor_units() -> None:
    card = RailCatalog().by_name["card"]
    assert card.fee(12_345) == 30 + 358  # 358.005 → 358
    assert card.fee(50) == 30 + 1  # 1.45 → 1
    assert card.fee(1_000) == 30 + 29
    instant = RailCatalog().by_name["instant"]
    assert instant.fee(10_000_000) == 500  # capped


@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_fee_is_exact_integer_arithmetic(amount: int, bps: int) -> None:
    from dataclasses import replace

    spec = replace(DEFAULT_RAILS[0], fixed_fee=7, fee_bps=Decimal(bps))
    fee = spec.fee(amount)
    exact = Decimal(amount * bps) / 10_000
    assert isinstance(fee, int)
    assert abs(Decimal(fee - 7) - exact) <= Decimal("0.5")


def test_cheapest_prefers_ach_for_a_us_bank_payee() -> None:
    quote = router().quote(amount=10_000, currency="USD", now=MONDAY_NOON, payee=US_BANK)
    assert quote.selected is not None and quote.selected.rail == "ach"
    assert quote.fallback_order == ["ach", "instant", "wire"]
    reasons = {o.rail: o.reason for o in quote.options}
    assert reasons["sepa_credit"].startswith("currency USD not supported")
    assert reasons["card"] == "payee lacks card_token"
    assert reasons["instant"].startswith("fallback #2: costs")


def test_fastest_prefers_instant() -> None:
    quote = router().quote(
        amount=10_000, currency="USD", now=MONDAY_NOON, payee=US_BANK, preference="fastest"
    )
    assert quote.selected is not None and quote.selected.rail == "instant"
    assert quote.selected.eta_seconds == 10


def test_named_rail_first_then_cheapest_fallback() -> None:
    quote = router().quote(
        amount=10_000, currency="USD", now=MONDAY_NOON, payee=US_BANK, preference="wire"
    )
    assert quote.fallback_order == ["wire", "ach", "instant"]
    assert quote.options[0].reason == "selected: the requested rail"


def test_limits_exclude_a_rail() -> None:
    quote = router().quote(amount=60_000_000, currency="USD", now=MONDAY_NOON, payee=US_BANK)
    reasons = {o.rail: o.reason for o in quote.options}
    assert "above the per-transaction maximum" in reasons["instant"]


def test_cut_off_moves_the_eta_to_the_next_window() -> None:
    friday_late = datetime(2026, 1, 9, 21, 0, tzinfo=UTC)
    quote = router().quote(amount=10_000, currency="USD", now=friday_late, payee=US_BANK)
    ach = next(o for o in quote.options if o.rail == "ach")
    assert ach.eta_at == datetime(2026, 1, 13, 0, 0, tzinfo=UTC)  # Monday 00:00 + 1 day
    assert "cut-off" in ach.reason


def test_open_circuit_makes_a_rail_ineligible() -> None:
    breakers = BreakerBoard(ManualClock(MONDAY_NOON), failure_threshold=1)
    breakers.get("ach").record_failure()
    quote = router(breakers).quote(amount=10_000, currency="USD", now=MONDAY_NOON, payee=US_BANK)
    assert quote.fallback_order[0] == "instant"
    ach = next(o for o in quote.options if o.rail == "ach")
    assert ach.eligible is False and ach.reason.startswith("circuit open")


def test_no_eligible_rail_is_rejected_with_every_reason() -> None:
    quote = router().quote(amount=10, currency="JPY", now=MONDAY_NOON, payee={"name": "x"})
    with pytest.raises(Rejected) as info:
        require_selection(quote)
    assert info.value.instance_code == "no-eligible-rail"
    assert len(info.value.extra["alternatives"]) == 6


def test_unknown_preference_points_at_the_field() -> None:
    with pytest.raises(InvalidInput) as info:
        router().quote(amount=1, currency="USD", now=MONDAY_NOON, preference="pigeon")
    assert info.value.errors[0].pointer == "/rail_preference"


def test_catalog_overrides_from_configuration() -> None:
    catalog = RailCatalog.from_mapping({"rails": {"ach": {"fixed_fee": 5_000, "enabled": True}}})
    assert catalog.by_name["ach"].fixed_fee == 5_000
    with pytest.raises(InvalidInput):
        RailCatalog.from_mapping({"rails": {"ach": {"fee_bps": 1.5}}})
    with pytest.raises(InvalidInput):
        RailCatalog.from_mapping({"rails": {"zelle": {}}})


@given(
    st.integers(min_value=1, max_value=2 * 10**11),
    st.sampled_from(["USD", "EUR", "GBP", "JPY"]),
    st.sampled_from(["cheapest", "fastest"]),
    st.fixed_dictionaries(
        {},
        optional={
            "account_number": st.just("1"),
            "routing_number": st.just("2"),
            "iban": st.just("DE89370400440532013000"),
            "card_token": st.just("tok"),
            "account": st.just("acct"),
        },
    ),
)
def test_the_selection_is_the_best_eligible_rail(
    amount: int, currency: str, preference: str, payee: dict[str, str]
) -> None:
    quote = router().quote(
        amount=amount, currency=currency, now=MONDAY_NOON, payee=payee, preference=preference
    )
    eligible = [o for o in quote.options if o.eligible]
    assert [o.rank for o in eligible] == list(range(1, len(eligible) + 1))
    assert all(not o.eligible for o in quote.options[len(eligible) :])
    for option in eligible:
        spec = RailCatalog().by_name[option.rail]
        assert spec.accepts_currency(currency) and spec.min_amount <= amount <= spec.max_amount
    if eligible:
        best = eligible[0]
        key = "fee" if preference == "cheapest" else "eta_seconds"
        assert all(getattr(best, key) <= getattr(o, key) for o in eligible)
    else:
        with pytest.raises(Rejected):
            require_selection(quote)
