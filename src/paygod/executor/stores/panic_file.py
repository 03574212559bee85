"""The panic switches as file flags under PAYGOD_HOME (standalone mode).

Every process on the machine (API, `paygod worker`, the CLI) reads the same files, so
`paygod panic on` from a shell freezes a running server without talking to it. The
platform switch is `panic.json`; a tenant's is `panic-tenants/<tenant, percent-encoded>.json`.
Writes go to a temporary file that is fsynced and renamed over the flag: a reader sees the
old state or the new one, never a torn half.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

import orjson

from paygod.executor.model import PanicState, panic_off
from paygod.kernel.clock import Clock, SystemClock
from paygod.kernel.files import replace_durably

FLAG_NAME = "panic.json"
TENANT_DIR = "panic-tenants"
SUFFIX = ".json"


def _file_name(tenant_id: str) -> str:
    # Percent-encoding keeps '/', '.' runs and control characters out of the file name.
    return quote(tenant_id, safe="").replace(".", "%2E") + SUFFIX


class FilePanicSwitch:
    def __init__(self, home: Path, clock: Clock | None = None) -> None:
        self.path = home / FLAG_NAME
        self.tenants = home / TENANT_DIR
        self._clock = clock or SystemClock()

    def _path(self, tenant_id: str | None) -> Path:
        return self.path if tenant_id is None else self.tenants / _file_name(tenant_id)

    def status(self, tenant_id: str | None = None) -> PanicState:
        return self._read(self._path(tenant_id), tenant_id)

    def _read(self, path: Path, tenant_id: str | None) -> PanicState:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return panic_off(tenant_id)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # A flag file we cannot read is treated as ON: failing safe means no money moves.
            return PanicState(True, f"unreadable panic flag {path}", "system", None, tenant_id)
        if not isinstance(data, dict):
            return panic_off(tenant_id)
        # The file's name says whose switch it is, whatever its content claims.
        return PanicState.from_dict({**data, "tenant_id": tenant_id})

    def turn_on(self, reason: str, actor: str, tenant_id: str | None = None) -> PanicState:
        return self._write(PanicState(True, reason, actor, self._clock.now(), tenant_id))

    def turn_off(self, actor: str, tenant_id: str | None = None) -> PanicState:
        return self._write(PanicState(False, None, actor, self._clock.now(), tenant_id))

    def frozen_tenants(self) -> frozenset[str]:
        try:
            names = [p for p in self.tenants.iterdir() if p.name.endswith(SUFFIX)]
        except FileNotFoundError:
            return frozenset()
        frozen = set()
        for path in names:
            tenant_id = unquote(path.name[: -len(SUFFIX)])
            if self._read(path, tenant_id).on:
                frozen.add(tenant_id)
        return frozenset(frozen)

    def _write(self, state: PanicState) -> PanicState:
        path = self._path(state.tenant_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_durably(path, orjson.dumps(state.as_dict()), prefix=".panic-")
        return state
