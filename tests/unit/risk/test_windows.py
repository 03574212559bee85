"""Window features: the incremental book equals the brute-force recomputation."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.risk.features import (
    DAY,
    FEATURES,
    Observation,
    WindowBook,
    haversine_km,
    recompute,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

observations = st.builds(
    Observation,
    tenant_id=st.sampled_from(["acme", "globex"]),
    subject=st.sampled_from(["account:a", "account:b", "account:c"]),
    at=st.floats(T0, T0 + 45 * DAY).map(lambda v: float(round(v))),
    amount_minor=st.integers(1, 2_000_000),
    payer=st.sampled_from([None, "urn:payer:1", "urn:payer:2"]),
    counterparty=st.sampled_from([None, "urn:cp:1", "urn:cp:2", "urn:cp:3"]),
    device=st.sampled_from([None, "urn:dev:1", "urn:dev:2"]),
    country=st.sampled_from([None, "FR", "DE"]),
    ip_country=st.sampled_from([None, "FR", "RU"]),
    lat=st.sampled_from([None, 48.85, 40.71, -33.86]),
    lon=st.sampled_from([None, 2.35, -74.0, 151.2]),
    timezone=st.sampled_from([None, "Europe/Paris", "America/New_York"]),
)


@settings(max_examples=150, deadline=None)
@given(
    history=st.lists(observations, max_size=40),
    query=observations,
    frauds=st.lists(
        st.tuples(st.sampled_from(["urn:cp:1", "urn:cp:2"]), st.floats(T0, T0 + 45 * DAY)),
        max_size=5,
    ),
    seed=st.integers(0, 2**16),
)
def test_incremental_equals_recomputed(
    history: list[Observation],
    query: Observation,
    frauds: list[tuple[str, float]],
    seed: int,
) -> None:
    # Arrival order is not time order (clocks of several processes, a rebuild).
    arrival = list(history)
    random.Random(seed).shuffle(arrival)
    book = WindowBook()
    for obs in arrival:
        book.add(obs)
    for counterparty, at in frauds:
        book.label_fraud(query.tenant_id, counterparty, at)
    latest = max((h.at for h in history), default=query.at)
    # The scored observation is the newest: the windows ending at it are all retained.
    query = Observation(**{**query.as_dict(), "at": max(query.at, latest)})
    assert book.features(query) == recompute(history, query, frauds)
    assert list(book.features(query)) == list(FEATURES)


def test_rebuilt_book_matches_the_live_one() -> None:
    live, history = WindowBook(), []
    for i in range(300):
        obs = Observation(
            "acme", f"account:{i % 7}", T0 + i * 997.0, 100 + i, counterparty=f"urn:cp:{i % 11}"
        )
        live.add(obs)
        history.append(obs)
    rebuilt = WindowBook()
    rebuilt.rebuild(history)
    probe = Observation("acme", "account:3", T0 + 300 * 997.0, 500, counterparty="urn:cp:4")
    assert live.features(probe) == rebuilt.features(probe) == recompute(history, probe)


def test_card_testing_burst_and_impossible_travel() -> None:
    book = WindowBook()
    for k in range(6):
        book.add(Observation("acme", "card:1", T0 + k * 30, 99, counterparty=f"urn:cp:{k}"))
    burst = book.features(Observation("acme", "card:1", T0 + 200, 99, counterparty="urn:cp:9"))
    assert burst["small_count_1h"] == 6 and burst["distinct_counterparties_1h"] == 6
    book.add(Observation("acme", "card:2", T0, 5000, lat=48.85, lon=2.35))
    far = book.features(Observation("acme", "card:2", T0 + 3600, 5000, lat=40.71, lon=-74.0))
    assert far["travel_speed_kmh"] > 5000  # Paris to New York in an hour
    assert round(haversine_km(48.85, 2.35, 40.71, -74.0)) in range(5830, 5850)


def test_hour_of_day_is_the_subjects_local_hour() -> None:
    book = WindowBook()
    noon_utc = T0 + 12 * 3600
    paris = book.features(Observation("acme", "s", noon_utc, 1, timezone="Europe/Paris"))
    tokyo = book.features(Observation("acme", "s", noon_utc, 1, timezone="Asia/Tokyo"))
    assert (paris["hour_of_day"], tokyo["hour_of_day"]) == (13, 21)


def test_round_and_just_below_threshold_amounts() -> None:
    book = WindowBook()
    f = book.features(Observation("acme", "s", T0, 950_000))
    assert (f["round_amount"], f["below_threshold"]) == (1, 1)
    f = book.features(Observation("acme", "s", T0, 1_000_001))
    assert (f["round_amount"], f["below_threshold"]) == (0, 0)


@given(st.floats(0, 4e9))
def test_utc_hour_and_weekday_arithmetic_matches_the_calendar(at: float) -> None:
    from datetime import UTC, datetime

    book = WindowBook()
    f = book.features(Observation("acme", "s", at, 1))
    when = datetime.fromtimestamp(at, UTC)
    assert (f["hour_of_day"], f["weekend"]) == (when.hour, int(when.weekday() >= 5))
