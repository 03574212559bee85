"""What runs of observations leave for the findings, joined in seq order as worker
processes hand them back: the same as one run over all of them."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.assurance.observation_text import Run

CONTROL_SETS = [("a", "b"), ("a",), ("a", "c"), ()]


def _run(observations: list[tuple[str, tuple[str, ...], bool]]) -> Run:
    run = Run()
    for uuid, refs, verified in observations:
        run.uuids.append(uuid)
        run.set_of.append(run.sets.setdefault(refs, len(run.sets)))
        if not verified:
            for ref in refs:
                run.failed[ref] = run.failed.get(ref, 0) + 1
        run.first = run.first or uuid
    return run


observations = st.lists(st.tuples(st.sampled_from(range(4)), st.booleans()), max_size=60).map(
    lambda xs: [(f"u{i}", CONTROL_SETS[s], ok) for i, (s, ok) in enumerate(xs)]
)


@settings(max_examples=200)
@given(observations, st.lists(st.integers(0, 60), max_size=4))
def test_runs_joined_in_order_are_the_run_of_them_all(
    all_of_them: list[tuple[str, tuple[str, ...], bool]], cuts: list[int]
) -> None:
    bounds = sorted({0, len(all_of_them), *(min(c, len(all_of_them)) for c in cuts)})
    joined = Run()
    for low, high in itertools.pairwise(bounds):
        joined.extend(_run(all_of_them[low:high]))
    whole = _run(all_of_them)
    assert joined.uuids == whole.uuids
    assert joined.failed == whole.failed
    assert joined.first == whole.first
    assert joined.by_control() == whole.by_control()


def test_by_control_lists_each_controls_observations_in_order() -> None:
    rng = random.Random(7)
    items = [(f"u{i}", rng.choice(CONTROL_SETS), True) for i in range(500)]
    found = _run(items).by_control()
    for ref in ("a", "b", "c"):
        assert found[ref] == [u for u, refs, _ in items if ref in refs]
    assert set(found) == {"a", "b", "c"}
