"""The nouns of projections: where each stands, what a rebuild did, how a comparison went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    name: str
    tables: tuple[str, ...]
    state: str  # "live": kept in step by the write path; "rebuilding": being built
    position: int  # entries [0, position) are reflected in the tables
    head: int  # the ledger's size
    lag_entries: int
    lag_seconds: float
    updated_at: str | None
    rebuilt_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tables": list(self.tables),
            "state": self.state,
            "position": self.position,
            "head": self.head,
            "lag_entries": self.lag_entries,
            "lag_seconds": self.lag_seconds,
            "updated_at": self.updated_at,
            "rebuilt_at": self.rebuilt_at,
        }


@dataclass(frozen=True, slots=True)
class RebuildReport:
    name: str
    position: int
    rows: dict[str, int]
    entries: int  # entries read (one pass serves every projection rebuilt together)
    seconds: float  # the whole rebuild's, shared by the projections rebuilt together
    caught_up: int  # entries sealed during the build, applied at the switch
    unresolved_metadata: int  # digests no side store knew (their rows got {})

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "position": self.position,
            "rows": dict(self.rows),
            "entries": self.entries,
            "seconds": round(self.seconds, 4),
            "entries_per_second": round(self.entries_per_second, 1),
            "caught_up": self.caught_up,
            "unresolved_metadata": self.unresolved_metadata,
        }


@dataclass(frozen=True, slots=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    live: tuple[Any, ...] | None
    rebuilt: tuple[Any, ...] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": list(self.key),
            "live": None if self.live is None else list(self.live),
            "rebuilt": None if self.rebuilt is None else list(self.rebuilt),
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    name: str
    rows: dict[str, int]
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "rows": dict(self.rows),
            "differences": [d.as_dict() for d in self.differences[:20]],
            "difference_count": len(self.differences),
        }
