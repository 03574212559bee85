"""A signal batch: impossible timings, oversized batches and unknown members are refused
whole, each with its JSON pointer; device attributes are kept only as digests."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygod.contauth.cmu import FEATURES
from paygod.contauth.signals import MAX_SAMPLES, parse_batch
from paygod.contauth.synthetic import generate
from paygod.kernel.errors import InvalidInput

GOOD = generate(subjects=1, sessions=1, reps=1)[0].as_features()
POINTER = {
    "speed_mean": 800.0, "speed_std": 120.0, "acceleration_mean": 15.0,
    "acceleration_std": 300.0, "curvature_mean": 0.02, "curvature_std": 0.01,
    "duration_seconds": 1.4, "events": 60,
}  # fmt: skip


def _pointers(body: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_batch(body, "acme")
    return [e.pointer for e in caught.value.errors]


def test_a_cmu_sample_pointer_summary_and_device_parse() -> None:
    batch = parse_batch(
        {"keystrokes": [GOOD], "pointer": [POINTER],
         "device": {"attributes": {"user_agent": "Firefox/140", "tz": "Europe/Paris"}}},
        "acme",
    )  # fmt: skip
    assert batch.keystrokes == (GOOD,) and set(GOOD) == set(FEATURES)
    assert batch.pointer[0]["speed_mean"] == 800.0
    assert all(v.startswith("sha256:") for v in batch.device_attributes.values())
    assert "Firefox/140" not in repr(batch) and batch.device is not None
    # The same browser in another tenant has another digest: not linkable across tenants.
    other = parse_batch({"device": {"attributes": {"user_agent": "Firefox/140"}}}, "beta")
    assert other.device_attributes["user_agent"] != batch.device_attributes["user_agent"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("H.t", -0.01), ("H.t", 0.0), ("H.t", 9.0), ("DD.t.i", -0.2), ("DD.t.i", 30.0),
     ("UD.t.i", -3.0), ("H.t", math.nan), ("H.t", math.inf), ("H.t", "0.1"), ("H.t", True)],
)  # fmt: skip
def test_impossible_timings_are_refused_with_their_pointer(name: str, value: Any) -> None:
    sample = {**GOOD, name: value}
    assert f"/keystrokes/1/{name}" in _pointers({"keystrokes": [GOOD, sample]})


def test_ud_must_agree_with_dd_and_the_first_keys_hold() -> None:
    sample = {**GOOD, "UD.t.i": GOOD["DD.t.i"] - GOOD["H.t"] + 0.05}
    assert _pointers({"keystrokes": [sample]}) == ["/keystrokes/0/UD.t.i"]


def test_text_is_not_a_feature_name() -> None:
    assert _pointers({"keystrokes": [{"typed": 0.1}]}) == ["/keystrokes/0/typed"]
    assert _pointers({"keystrokes": [{"H.hello world": 0.1}]}) == ["/keystrokes/0/H.hello world"]


def test_oversized_batches_and_unknown_members_are_refused() -> None:
    assert _pointers({"keystrokes": [GOOD] * (MAX_SAMPLES + 1)}) == ["/keystrokes"]
    assert _pointers({"keystrokes": [GOOD], "text": "hello"}) == ["/text"]
    assert _pointers({}) == ["/keystrokes"]
    assert _pointers({"pointer": [{**POINTER, "speed_mean": -1}]}) == ["/pointer/0/speed_mean"]
    assert _pointers({"device": {"attributes": {"a": ""}}}) == ["/device/attributes/a"]


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_hold_is_either_plausible_or_refused(hold: float) -> None:
    sample = {"H.t": hold}
    if math.isfinite(hold) and 0 < hold <= 2.0:
        assert parse_batch({"keystrokes": [sample]}, "acme").keystrokes[0]["H.t"] == hold
    else:
        assert _pointers({"keystrokes": [sample]}) == ["/keystrokes/0/H.t"]
