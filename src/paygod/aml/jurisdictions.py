"""The high-risk jurisdiction lists, shipped as a data file with their source and date."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson


@dataclass(frozen=True)
class JurisdictionLists:
    source: str
    published: str
    lists: dict[str, dict[str, str]]

    def listed(self, country: str, names: tuple[str, ...]) -> str | None:
        """The first of `names` that lists `country` (ISO 3166-1 alpha-2), else None."""
        for name in names:
            if country in self.lists.get(name, {}):
                return name
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "published": self.published, "lists": self.lists}


@lru_cache(maxsize=1)
def fatf() -> JurisdictionLists:
    raw = resources.files("paygod.aml").joinpath("data/fatf-jurisdictions.json").read_bytes()
    data = orjson.loads(raw)
    return JurisdictionLists(data["source"], data["published"], data["lists"])
