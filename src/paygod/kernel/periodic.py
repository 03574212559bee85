"""Housekeeping that must happen on a schedule in a running kernel (expired holds, ...).

It runs in the processes that run the outbox worker (the API in standalone mode, each
`paygod worker` in distributed mode). Every task is idempotent and safe to run in several
processes at once (an expired hold is released once: the release checks the hold is still
pending inside its own transaction), so no leader election is needed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from paygod.kernel.logging import get_logger

log = get_logger("paygod.housekeeping")


@dataclass
class PeriodicTask:
    name: str
    every_seconds: float
    run: Callable[[], object]
    due: float = 0.0  # monotonic time of the next run; 0 = at start


class Housekeeping:
    def __init__(self, tasks: list[PeriodicTask]) -> None:
        self.tasks = tasks
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self, now: float | None = None) -> list[str]:
        """Run every task whose time has come; a failing task is logged and tried next time."""
        now = time.monotonic() if now is None else now
        ran = []
        for task in self.tasks:
            if now < task.due:
                continue
            task.due = now + task.every_seconds
            try:
                result = task.run()
            except Exception as exc:  # the store may be down for a moment; keep the schedule
                log.warning(
                    "housekeeping_failed", task=task.name, error=f"{type(exc).__name__}: {exc}"
                )
                continue
            ran.append(task.name)
            if result:
                log.info("housekeeping_done", task=task.name, result=_summary(result))
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            next_due = min((t.due for t in self.tasks), default=time.monotonic() + 60)
            self._stop.wait(max(0.05, next_due - time.monotonic()))

    def start(self) -> None:
        if not self.tasks or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="paygod-housekeeping", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def _summary(result: object) -> object:
    return len(result) if isinstance(result, list | tuple | set | dict) else result
