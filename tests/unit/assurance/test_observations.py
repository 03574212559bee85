"""Observations written by template come out as the observation's own JSON, and a batch
with one value that is not plain text is written escaped, every value checked (the
remarks included)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from paygod.assurance.observation_text import SLOTS, Observations, observation


def _values(**changed: str) -> tuple[str, ...]:
    plain = {name: f"{name}-1" for name in SLOTS}
    plain.update(collected="2026-01-01T00:00:00Z", uuid="6f1c2a4e-1d2b-5c3e-9a8f-70a1e0c0a55e")
    plain.update(changed)
    return tuple(plain[name] for name in SLOTS)


def _own(v: tuple[str, ...]) -> object:
    return observation(dict(zip(SLOTS, v, strict=True)))


def test_a_batch_by_template_is_each_observations_own_json() -> None:
    texts = Observations()
    batch = [_values(seq=str(i), leaf_hash=f"{i:064x}") for i in range(5)]
    assert texts.texts(batch[:1]) + texts.texts(batch[1:]) == [
        json.dumps(_own(v), separators=(",", ":")) for v in batch
    ]


@pytest.mark.parametrize(
    "slot", ["remarks", "title", "pack", "rule", "refs", "kind", "entry_id", "record_hash"]
)
def test_one_value_not_plain_in_a_batch_is_written_escaped(slot: str) -> None:
    texts = Observations()
    texts.texts([_values(remarks="learnt")])  # the shape with remarks is known
    odd = _values(**{"remarks": "fails", slot: 'a "quoted" \\ value'})
    written = texts.texts([_values(remarks="plain"), odd])
    assert [json.loads(t) for t in written] == [_own(_values(remarks="plain")), _own(odd)]


def test_a_property_value_ending_in_a_space_is_refused() -> None:
    texts = Observations()
    texts.texts([_values()])
    with pytest.raises(ValidationError):
        texts.texts([_values(), _values(decision="allow ")])
