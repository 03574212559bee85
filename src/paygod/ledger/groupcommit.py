"""Group commit: one writer thread per store turns concurrent appends into one transaction.

Each caller blocks until the transaction holding its request commits, then gets its own
entries (or its own exception) back. A request's work runs in its own savepoint, so one
failing `transact` does not fail the others in the batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from paygod.kernel.logging import get_logger
from paygod.ledger.model import Entry, EntryDraft

log = get_logger("paygod.ledger")

Work = Callable[[Any], tuple[Any, Sequence[EntryDraft]]]


class WriteRequest:
    """One caller's unit of work: `work(conn) -> (result, drafts)`, or entries to adopt."""

    __slots__ = (
        "done",
        "drafts",
        "entries",
        "error",
        "first_seq",
        "imported",
        "on_done",
        "result",
        "work",
    )

    def __init__(
        self,
        work: Work | None = None,
        imported: Sequence[Entry] | None = None,
        drafts: Sequence[EntryDraft] | None = None,
    ) -> None:
        self.work = work
        self.drafts = drafts  # a plain append: no work function, so no savepoint needed
        self.imported = imported
        # The seq the request's first draft gets, set by the writer before `work` runs:
        # a work function may record where its entries land in its own rows, in the same
        # transaction (the decision index's seq), instead of a second write afterwards.
        self.first_seq: int | None = None
        self.result: Any = None
        self.entries: list[Entry] = []
        self.error: BaseException | None = None
        self.done = threading.Event()
        # Called by the writer thread once the request is settled (committed or failed):
        # an event loop's waiter uses it instead of blocking a thread on `done`.
        self.on_done: Callable[[], object] | None = None


_STOP = object()


class GroupCommitter:
    """The single writer of one store."""

    def __init__(
        self,
        commit: Callable[[list[WriteRequest]], None],
        *,
        name: str = "ledger-writer",
        max_batch: int = 4096,
        idle: Callable[[], None] | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        self._commit = commit
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._name = name
        self._max_batch = max_batch
        self._idle = idle
        self._idle_seconds = idle_seconds
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def submit(self, request: WriteRequest) -> WriteRequest:
        self.enqueue(request)
        request.done.wait()
        return request

    def enqueue(self, request: WriteRequest) -> None:
        """Queue `request` without waiting: `request.on_done` (or `done`) says when it is
        settled."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("ledger writes cannot nest inside a ledger transaction")
        self._ensure_started()
        self._queue.put(request)

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the ledger is closed")
                if self._thread is None:
                    thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    thread.start()
                    self._thread = thread

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle_seconds)
            except queue.Empty:
                if self._idle is not None:
                    try:
                        self._idle()
                    except Exception:
                        log.warning("ledger idle task failed", exc_info=True)
                continue
            if first is _STOP:
                return
            batch: list[WriteRequest] = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except BaseException as exc:
                for request in batch:
                    request.error = exc
                    request.entries = []
            finally:
                for request in batch:
                    request.done.set()
                    if request.on_done is not None:
                        try:
                            request.on_done()
                        except Exception:  # a closed event loop must not stop the writer
                            log.warning("could not wake a ledger caller", exc_info=True)
            if stop:
                return

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout=10)
