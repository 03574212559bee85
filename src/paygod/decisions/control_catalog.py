"""The controls Paygod refers to, by framework, shipped as data files under `control_catalogs/`.

A control is named `framework:id` in packs (`nist-800-53:ac-2`, `pci-dss-4:7.2`,
`soc2:CC6.1`). Each catalog file records its source and version (NIST's one also the
sha256 of the published OSCAL files it was trimmed from: tools/trim_nist_catalog.py).
This module imports nothing from Paygod: the pack loader uses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CATALOG_DIR = Path(__file__).parent / "control_catalogs"
FRAMEWORKS = ("nist-800-53", "pci-dss-4", "soc2")


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    statement: str = ""

    @property
    def ref(self) -> str:
        return f"{self.framework}:{self.id}"


@dataclass(frozen=True)
class Catalog:
    framework: str
    title: str
    version: str
    publisher: str
    source: Any  # the file's own account of where it came from
    controls: tuple[Control, ...]


@cache
def catalogs() -> dict[str, Catalog]:
    found: dict[str, Catalog] = {}
    for framework in FRAMEWORKS:
        raw = json.loads((CATALOG_DIR / f"{framework}.json").read_text("utf-8"))
        controls = tuple(
            Control(framework, c["id"], c["title"], c.get("statement", "")) for c in raw["controls"]
        )
        source = raw.get("sources") or raw.get("source")
        found[framework] = Catalog(
            framework, raw["title"], raw["version"], raw["publisher"], source, controls
        )
    return found


@cache
def _index() -> dict[str, Control]:
    return {c.ref: c for cat in catalogs().values() for c in cat.controls}


def control(ref: str) -> Control | None:
    return _index().get(ref)


def unknown_control_message(ref: object) -> str | None:
    """Why `ref` names no control Paygod knows, or None when it does."""
    if not isinstance(ref, str) or ":" not in ref:
        return f"{ref!r} is not a control reference (framework:id, e.g. nist-800-53:ac-2)"
    framework = ref.split(":", 1)[0]
    if framework not in FRAMEWORKS:
        return f"unknown control framework {framework!r} (known: {', '.join(FRAMEWORKS)})"
    if ref not in _index():
        return f"unknown control {ref!r}: not in Paygod's {framework} catalog"
    return None
