"""The panic switch as a file flag under PAYGOD_HOME (standalone mode).

Every process on the machine (API, `paygod worker`, the CLI) reads the same file, so
`paygod panic on` from a shell freezes a running server without talking to it. Writes
go to a temporary file that is fsynced and renamed over the flag: a reader sees the old
state or the new one, never a torn half.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson

from paygod.executor.model import PANIC_OFF, PanicState
from paygod.kernel.clock import Clock, SystemClock

FLAG_NAME = "panic.json"


class FilePanicSwitch:
    def __init__(self, home: Path, clock: Clock | None = None) -> None:
        self.path = home / FLAG_NAME
        self._clock = clock or SystemClock()

    def status(self) -> PanicState:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return PANIC_OFF
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # A flag file we cannot read is treated as ON: failing safe means no money moves.
            return PanicState(True, f"unreadable panic flag {self.path}", "system", None)
        return PanicState.from_dict(data) if isinstance(data, dict) else PANIC_OFF

    def turn_on(self, reason: str, actor: str) -> PanicState:
        return self._write(PanicState(True, reason, actor, self._clock.now()))

    def turn_off(self, actor: str) -> PanicState:
        return self._write(PanicState(False, None, actor, self._clock.now()))

    def _write(self, state: PanicState) -> PanicState:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".panic-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps(state.as_dict()))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return state
