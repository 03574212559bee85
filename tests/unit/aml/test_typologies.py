"""Each typology: a pattern that must raise it and a near miss that must not."""

from __future__ import annotations

from dataclasses import replace
from itertools import count

from paygod.aml.model import Hit, Movement, Thresholds
from paygod.aml.typologies import HOUR, Monitor

T = "t1"
SEQ = count(1)


def mv(
    src: str, dst: str, amount: int, hours: float, kind: str = "transfer", **kw: str
) -> Movement:
    seq = next(SEQ)
    return Movement(T, kind, f"x{seq}", seq, hours * HOUR, src, dst, amount, kw.get("country"))


def run(moves: list[Movement], thresholds: Thresholds | None = None) -> list[Hit]:
    monitor = Monitor()
    if thresholds is not None:
        monitor.set_thresholds(T, thresholds)
    return [h for m in moves for h in monitor.observe(m)]


def typologies(hits: list[Hit]) -> list[str]:
    return [h.typology for h in hits]


# Distinct counterparties and non-round amounts keep each pattern to its own typology.
def test_structuring_three_just_under_the_threshold_within_the_window() -> None:
    moves = [mv("acc-a", f"bank-{i}", 960_001 + i * 10_001, i * 20.0) for i in range(3)]
    hits = run(moves)
    assert typologies(hits) == ["structuring"]
    hit = hits[0]
    assert hit.subject == "acc-a"
    assert [m.txn_id for m in hit.movements] == [m.txn_id for m in moves]
    assert hit.detail["count"] == 3 and hit.detail["reporting_threshold"] == 1_000_000


def test_structuring_near_misses_do_not_raise() -> None:
    # Spread over more than 72 hours.
    spread = [mv("acc-a", f"b{i}", 950_001 + i, i * 37.0) for i in range(3)]
    # One at the threshold itself (reportable, so not structuring).
    at_threshold = [mv("acc-b", f"c{i}", (950_003, 1_000_000, 960_007)[i], i) for i in range(3)]
    # Below the 10 % margin.
    too_low = [mv("acc-c", f"d{i}", 899_999 - i, i) for i in range(3)]
    assert "structuring" not in typologies(run(spread + at_threshold + too_low))


def test_structuring_follows_the_tenants_thresholds() -> None:
    moves = [mv("acc-a", f"b{i}", 480_001 + i, i) for i in range(2)]
    stricter = replace(Thresholds(), reporting_threshold=500_000, structuring_count=2)
    assert typologies(run(moves, stricter)) == ["structuring"]
    assert typologies(run(moves)) == []


def test_rapid_in_and_out_above_the_fraction_within_the_window() -> None:
    arrive = mv("payer", "mule", 500_003, 0.0)
    leave1 = mv("mule", "out-1", 250_001, 3.0)
    leave2 = mv("mule", "out-2", 160_007, 5.0)  # 82 % gone within 5 hours
    hits = run([arrive, leave1, leave2])
    assert typologies(hits) == ["rapid_in_out"]
    assert hits[0].subject == "mule"
    assert [m.txn_id for m in hits[0].movements] == [arrive.txn_id, leave1.txn_id, leave2.txn_id]
    assert hits[0].detail["fraction"] >= 0.8


def test_rapid_in_and_out_near_misses() -> None:
    # 78 % leaves (under 80 %).
    under = [mv("p", "m1", 500_003, 0.0), mv("m1", "o", 390_001, 2.0)]
    # All of it leaves, but after 25 hours.
    late = [mv("p", "m2", 500_003, 0.0), mv("m2", "o", 500_003, 25.0)]
    # Funds that left before they arrived do not count.
    before = [mv("m3", "o", 500_003, 0.0), mv("p", "m3", 500_003, 1.0)]
    assert typologies(run(under + late + before)) == []


def test_fan_in_ten_distinct_payers_in_a_day() -> None:
    moves = [mv(f"payer-{i}", "collector", 10_007 + i, i * 2.0) for i in range(10)]
    hits = run(moves)
    assert typologies(hits) == ["fan_in"]
    assert hits[0].subject == "collector" and hits[0].detail["distinct_counterparties"] == 10


def test_fan_in_near_miss_nine_payers_or_one_payer_ten_times() -> None:
    nine = [mv(f"payer-{i}", "c1", 10_007, i) for i in range(9)]
    same = [mv("payer-x", "c2", 10_007, i) for i in range(10)]
    spread = [mv(f"q-{i}", "c3", 10_007, i * 3.0) for i in range(10)]  # 27 hours
    assert typologies(run(nine + same + spread)) == []


def test_fan_out_ten_distinct_payees_in_a_day() -> None:
    moves = [mv("distributor", f"payee-{i}", 10_007 + i, i * 2.0) for i in range(10)]
    assert typologies(run(moves)) == ["fan_out"]


def test_round_amounts_three_in_a_week() -> None:
    moves = [mv("acc", f"to-{i}", 300_000, i * 48.0) for i in range(3)]
    hits = run(moves)
    assert typologies(hits) == ["round_amounts"]


def test_round_amounts_near_misses() -> None:
    not_round = [mv("a1", f"t{i}", 300_001, i) for i in range(3)]
    too_small = [mv("a2", f"u{i}", 50_000, i) for i in range(3)]
    too_slow = [mv("a3", f"v{i}", 300_000, i * 100.0) for i in range(3)]
    assert typologies(run(not_round + too_small + too_slow)) == []


def test_a_payment_to_a_listed_country_raises_with_the_lists_source() -> None:
    hits = run([mv("payer", "payee-ref", 10_000, 0.0, kind="payment", country="IR")])
    assert typologies(hits) == ["high_risk_jurisdiction"]
    assert hits[0].detail["list"] == "call_for_action"
    assert hits[0].detail["list_published"] == "2025-06-13"
    grey = run([mv("payer", "payee-ref", 10_000, 0.0, kind="payment", country="KE")])
    assert grey[0].detail["list"] == "increased_monitoring"


def test_jurisdiction_near_misses_and_a_tenant_that_watches_only_the_call_for_action() -> None:
    fine = [mv("payer", "r", 10_000, 0.0, kind="payment", country="FR")]
    unknown = [mv("payer", "r", 10_000, 0.0, kind="payment")]
    assert run(fine + unknown) == []
    only_black = replace(Thresholds(), jurisdiction_lists=("call_for_action",))
    assert run([mv("payer", "r", 1, 0.0, kind="payment", country="KE")], only_black) == []


def test_one_burst_raises_once_and_a_hits_key_is_stable() -> None:
    moves = [mv("acc", f"b{i}", 950_001 + i, i) for i in range(5)]
    first, second = run(moves), run(moves)
    assert typologies(first) == ["structuring"]  # 3 raise; the next 2 wait for a third
    assert [h.key for h in first] == [h.key for h in second]
