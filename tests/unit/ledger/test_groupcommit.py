"""The group committer's wake-up callback: how an event loop learns its request settled."""

from __future__ import annotations

import threading

from paygod.ledger.groupcommit import GroupCommitter, WriteRequest


def test_on_done_runs_after_the_request_is_settled_and_a_failing_one_stops_nothing() -> None:
    committed: list[int] = []
    woken: list[tuple[int, bool]] = []

    def commit(batch: list[WriteRequest]) -> None:
        committed.extend(id(r) for r in batch)

    writer = GroupCommitter(commit, name="test-writer")
    try:
        broken = WriteRequest(drafts=[])

        def explode() -> None:
            raise RuntimeError("the event loop is closed")

        broken.on_done = explode
        writer.enqueue(broken)
        assert broken.done.wait(5)

        later = WriteRequest(drafts=[])
        seen = threading.Event()

        def wake() -> None:
            woken.append((id(later), later.done.is_set()))
            seen.set()

        later.on_done = wake
        writer.enqueue(later)
        assert seen.wait(5)  # the writer survived the failing callback
        assert woken == [(id(later), True)]  # woken only once `done` is set
        assert committed == [id(broken), id(later)]
    finally:
        writer.close()
