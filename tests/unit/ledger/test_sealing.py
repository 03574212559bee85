"""Sealing a batch gives each entry exactly what sealing it alone would, and its own payload."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.canonical import CanonicalizationError, canonicalize
from paygod.kernel.errors import InvalidInput
from paygod.ledger.chain import (
    ChainState,
    compute_record_hash,
    entry_leaf_hash,
    grow_tree,
    seal,
)
from paygod.ledger.model import Entry, EntryDraft
from paygod.ledger.verifier import merkle_root, node_hash
from tests.support.json_strategies import json_values

NOW = datetime(2026, 3, 1, tzinfo=UTC)

# Payloads with the forms where orjson and RFC 8785 part ways, nulls, and values with no
# RFC 8785 form at all (NaN, infinity, an integer a double would round).
payloads = st.dictionaries(
    st.text(max_size=4),
    json_values(max_leaves=6)
    | st.sampled_from([1.0, -0.0, 1e16, 2.5e-6, 1e21, None, float("nan"), float("inf"), 2**60 + 1]),
    max_size=4,
)


def alone(payload: dict[str, Any]) -> bytes | None:
    try:
        return canonicalize(payload)
    except CanonicalizationError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.lists(payloads, min_size=1, max_size=8))
def test_a_batch_seals_every_payload_as_alone(batch: list[dict[str, Any]]) -> None:
    drafts = [EntryDraft("k", f"s{i}", p) for i, p in enumerate(batch)]
    canonical = [alone(p) for p in batch]
    refused = [i for i, text in enumerate(canonical) if text is None]
    if refused:
        with pytest.raises(InvalidInput) as caught:
            seal(ChainState(), drafts, NOW)
        # The pointer names the payload, then the value inside it that has no RFC 8785 form.
        pointer, where = caught.value.errors[0].pointer, f"/{refused[0]}/payload"
        assert pointer == where or pointer.startswith(where + "/")
        return
    sealed = seal(ChainState(), drafts, NOW)
    for entry, row, text in zip(sealed.entries, sealed.rows, canonical, strict=True):
        assert text is not None
        assert row[5] == text.decode()
        assert entry.payload == orjson.loads(text)
        assert compute_record_hash(entry) == entry.record_hash
    assert sealed.levels[0] == [entry_leaf_hash(e) for e in sealed.entries]


def test_a_mapping_that_is_not_a_dict_seals_like_one() -> None:
    from types import MappingProxyType

    sealed = seal(ChainState(), [EntryDraft("k", "s", MappingProxyType({"b": 1, "a": (2,)}))], NOW)
    assert sealed.rows[0][5] == '{"a":[2],"b":1}'


def sealed_entry_of(payload: dict[str, Any]) -> Entry:
    return seal(ChainState(), [EntryDraft("k", "s", payload)], NOW).entries[0]


def test_the_entry_keeps_its_own_payload() -> None:
    payload = {"b": [1, 2], "a": {"x": (3,)}}
    entry = sealed_entry_of(payload)
    payload["b"].append(3)
    payload["c"] = 1
    assert entry.payload == {"a": {"x": [3]}, "b": [1, 2]}  # what was sealed, as read back
    assert entry.payload is entry.payload


def test_a_sealed_entry_is_an_ordinary_entry() -> None:
    entry = sealed_entry_of({"n": 1})
    twin = Entry(**{f.name: getattr(entry, f.name) for f in dataclasses.fields(Entry)})
    assert twin == entry and entry == twin
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert "payload={'n': 1}" in repr(entry)
    assert dataclasses.replace(entry, seq=7).payload == {"n": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.payload = {}  # type: ignore[misc]


def test_first_reads_from_many_threads_share_one_payload() -> None:
    entry = sealed_entry_of({"n": list(range(50))})
    seen: list[Any] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        seen.append(entry.payload)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(payload is seen[0] for payload in seen)


def merged_leaf_by_leaf(
    frontier: list[tuple[int, bytes]], leaves: list[bytes]
) -> tuple[list[list[bytes]], list[tuple[int, bytes]]]:
    """The plain way: merge each leaf into the frontier, noting every node it completes."""
    levels: list[list[bytes]] = [[]]
    for leaf in leaves:
        levels[0].append(leaf)
        level, node = 0, leaf
        while frontier and frontier[-1][0] == level:
            node = node_hash(frontier.pop()[1], node)
            level += 1
            if level == len(levels):
                levels.append([])
            levels[level].append(node)
        frontier.append((level, node))
    while levels and not levels[-1]:
        levels.pop()
    return levels, frontier


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.integers(0, 300))
def test_growing_the_tree_by_levels_matches_leaf_by_leaf(size: int, count: int) -> None:
    leaves = [bytes([i % 256]) * 32 for i in range(size + count)]
    frontier: list[tuple[int, bytes]] = []
    merged_leaf_by_leaf(frontier, leaves[:size])
    expected_levels, expected_frontier = merged_leaf_by_leaf(list(frontier), leaves[size:])
    levels, grown = grow_tree(tuple(frontier), size, leaves[size:])
    assert levels == expected_levels
    assert list(grown) == expected_frontier
    assert ChainState(size + count, frontier=grown).root() == merkle_root(leaves)


def test_a_payload_without_a_canonical_form_is_refused_at_the_offending_value() -> None:
    drafts = [
        EntryDraft("k", "s", {"ok": 1}),
        EntryDraft("k", "s", {"amounts": [1, float("nan")], "note": "x"}),
    ]
    with pytest.raises(InvalidInput) as caught:
        seal(ChainState(), drafts, NOW)
    (error,) = caught.value.errors
    assert (error.pointer, error.message) == (
        "/1/payload/amounts/1",
        "NaN is not a JSON number (RFC 8785 §3.2.2.3)",
    )
