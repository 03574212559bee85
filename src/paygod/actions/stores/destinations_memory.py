"""The destination allowlist in a dict (tests, the in-memory kernel)."""

from __future__ import annotations

import threading

from paygod.actions.model import Destination


class MemoryDestinationStore:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Destination] = {}
        self._lock = threading.Lock()

    def put(self, destination: Destination) -> None:
        with self._lock:
            self._rows[(destination.tenant_id, destination.name)] = destination

    def get(self, tenant_id: str, name: str) -> Destination | None:
        return self._rows.get((tenant_id, name))

    def list(self, tenant_id: str) -> list[Destination]:
        return sorted((d for (t, _), d in self._rows.items() if t == tenant_id), key=_name)

    def delete(self, tenant_id: str, name: str) -> bool:
        with self._lock:
            return self._rows.pop((tenant_id, name), None) is not None


def _name(destination: Destination) -> str:
    return destination.name
