"""Ports the risk module owns."""

from __future__ import annotations

from typing import Any, Protocol

from paygod.risk.model import StoredModel


class ModelStore(Protocol):
    """Model artefacts and their registry rows. `put` writes on the ledger transaction
    `conn` that seals the registry entry, so a version exists in both or in neither; it
    raises `paygod.decisions.ports.DuplicateKey` for a version already taken."""

    def put(self, conn: Any, model: StoredModel) -> None: ...

    def get(self, version: int) -> StoredModel | None: ...

    def latest(self) -> StoredModel | None: ...

    def versions(self) -> list[int]: ...
