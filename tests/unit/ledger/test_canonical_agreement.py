"""The ledger's fast paths take orjson's bytes only where they are the verifier's: on any
value, `canonical_bytes` (which `paygod.canonical.canonicalize` is) and
`canonical_parsed_bytes` give `verifier.canonicalize`'s bytes, or refuse as it does."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.ledger import verifier
from paygod.ledger.chain import canonical_bytes, canonical_parsed_bytes
from paygod.ledger.verifier import CanonicalizationError, canonicalize
from tests.support.json_strategies import json_values as shared_json_values

json_values = shared_json_values()


def _reference(value: Any) -> bytes | None:
    try:
        return canonicalize(value)
    except CanonicalizationError:
        return None


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_encoders_agree(value: Any) -> None:
    expected = _reference(value)
    if expected is None:
        return  # e.g. lone surrogates: every encoder must refuse, checked below
    assert canonical_bytes(value) == expected
    assert canonical_parsed_bytes(value) == expected


def test_non_finite_and_unsafe_values_refused() -> None:
    for bad in (float("nan"), float("inf"), 2**60 + 1, {"a": float("-inf")}):
        try:
            canonical_bytes(bad)
        except (CanonicalizationError, ValueError):
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_keys_sorted_by_utf16_units() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}
    expected = '{"a":3,"\U0001f600":1,"\ufb01":2}'.encode()  # U+D83D U+DE00 < U+FB01
    assert canonical_bytes(value) == canonicalize(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=2**53, max_value=2**1100) | st.integers(max_value=-(2**53)))
def test_integers_beyond_2_53_are_doubles_or_refused_by_every_encoder(value: int) -> None:
    """A JSON number is an IEEE double: an integer a double holds exactly, or whose digits
    are a double's own canonical form, serialises like that double (so a canonical document
    read back with integers as ints gives the same bytes); one a double would silently
    round is refused, by every encoder alike."""
    try:
        nearest = float(value)
        exact = int(nearest) == value or canonicalize(nearest) == str(value).encode()
    except OverflowError:
        exact = False
    encoders = (canonicalize, canonical_bytes, canonical_parsed_bytes)
    if exact:
        expected = canonicalize(float(value))
        assert all(encode({"n": value}) == b'{"n":' + expected + b"}" for encode in encoders)
    else:
        for encode in encoders:
            try:
                encode({"n": value})
            except (CanonicalizationError, ValueError):
                continue
            raise AssertionError(f"{encode.__module__} accepted {value}")


def test_a_float_beyond_2_53_survives_the_read_back_as_an_integer() -> None:
    written = canonicalize({"x": 1e16})
    assert written == b'{"x":10000000000000000}'
    import orjson

    assert canonicalize(orjson.loads(written)) == written  # the verifier's path
    rounded = canonicalize({"x": -(2.0**60)})
    assert rounded == b'{"x":-1152921504606847000}'
    assert canonicalize(orjson.loads(rounded)) == rounded


def test_a_null_beside_a_non_finite_float_still_takes_the_refusing_path() -> None:
    assert canonical_bytes({"a": None, "b": [1, "x", True]}) == b'{"a":null,"b":[1,"x",true]}'
    for bad in (
        {"a": None, "b": float("nan")},
        [None, (float("inf"),)],
        {"a": {"b": None}, "c": -float("inf")},
    ):
        try:
            canonical_bytes(bad)
        except (CanonicalizationError, ValueError):
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_a_non_finite_float_beside_an_integral_one_is_refused_when_sealed() -> None:
    """A payload whose orjson bytes differ in number forms takes the fragments path in a
    batch; a NaN there (orjson's null) must still be refused, alone or among others."""
    from datetime import UTC, datetime

    from paygod.kernel.errors import InvalidInput
    from paygod.ledger.chain import ChainState, presealed, seal
    from paygod.ledger.model import EntryDraft

    now = datetime(2026, 3, 1, tzinfo=UTC)
    bad = EntryDraft("k", "s", {"a": 1.0, "b": float("nan")})
    assert presealed(bad).payload_json is None  # left for the writer to refuse
    for drafts in ([bad], [EntryDraft("k", "s", {"ok": 1}), bad], [presealed(bad)]):
        try:
            seal(ChainState(), drafts, now)
        except InvalidInput:
            continue
        raise AssertionError(f"{drafts!r} was sealed")


TRICKY_PAYLOADS: list[dict[str, Any]] = [
    {"\U0001f600": 1, "\uffff": 2, "\ue000": 3, "\ufb33": 4, "a": -0.0},  # UTF-16 order
    {"f": [1.0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 0.000001, 1.5e-6]},
    {"f": [123456789012345680000.0, float(9007199254740993), 1e16, 2.0**64]},
    {"big": 2**53, "huge": 2**64, "negative": -(2**60)},  # integers that are exact doubles
    {"s": '\x00\x08\x09\x0a\x0c\x0d\x1f\x7f\u2028"\\/é\U0001f602', "n": None},
    {"n": None, "x": 1e-6, "y": [None, -0.0]},
    {"text that looks like numbers": "1.0, e-6] 1e+16 null"},
    # One trick each, so that every guard of the fast path is needed on its own.
    {"a": -0.0},
    {"a": [100.0]},
    {"a": 1e-6},
    {"a": 1e16},
    {"\U0001f600": 1, "\ue000": 2},
    {"a": None, "b": 0.5},
    {"a": [2.0], "n": None},  # an integral float beside a null: the fragments path
    # Integral floats whose ".0" is dropped from orjson's text, beside look-alikes in
    # strings (which must stay), a negative zero, big integral floats and a tuple.
    {"a": 0.0, "s": "x 1.0, y 2.0} z 3.0]", "k": {"5.0]": 1.0}},
    {"a": [1.0, -0.0, 3.0], "b": 9007199254740992.0, "c": 1000000000000000.0},
    {"a": 7.0, "t": (1.0, "2.0,")},
    {"a": 4.0, "e": 1e16, "f": 1.5},
]


def test_sealing_tricky_payloads_gives_the_exact_encoders_record_hash() -> None:
    """The fast sealing path (orjson, trusted only where it provably agrees) must produce
    the bytes and record_hash the exact encoder gives, one payload at a time or in a batch."""
    from datetime import UTC, datetime

    from paygod.ledger.chain import ChainState, presealed, seal
    from paygod.ledger.model import EntryDraft

    now = datetime(2026, 3, 1, tzinfo=UTC)
    drafts = [EntryDraft("k", "s", payload) for payload in TRICKY_PAYLOADS]
    batch = seal(ChainState(), drafts, now).entries
    alone = [seal(ChainState(), [draft], now).entries[0] for draft in drafts]
    # Serialised by the caller before the writer (every other one, so a batch mixes both).
    mixed = [presealed(draft) if n % 2 else draft for n, draft in enumerate(drafts)]
    assert all(d.payload_json is not None for d in mixed[1::2])
    early = seal(ChainState(), mixed, now).entries
    for payload, entry, single, pre in zip(TRICKY_PAYLOADS, batch, alone, early, strict=True):
        for sealed in (entry, single, pre):
            data = {**sealed.data(), "payload": payload}  # the caller's own values
            record = {"data": data, "previous_hash": sealed.previous_hash}
            record["timestamp"] = sealed.timestamp
            assert sealed.record_hash == hashlib.sha256(canonicalize(record)).hexdigest(), payload
            assert sealed.record_hash == verifier.record_hash(
                data, sealed.previous_hash, sealed.timestamp
            )
            # What was sealed reads back to a value with the same canonical form.
            assert canonicalize(sealed.payload) == canonicalize(payload)
