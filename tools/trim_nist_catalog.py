"""Trim NIST's published OSCAL SP 800-53 rev5 catalogs to the controls Paygod refers to.

Usage: python tools/trim_nist_catalog.py SOURCE.json [SOURCE.json ...] > OUT.json

Sources: usnistgov/oscal-content, nist.gov/SP800-53/rev5/json/. The full
`NIST_SP-800-53_rev5_catalog.json` was not available in the snapshot this was built from,
so the HIGH and PRIVACY baseline resolved-profile catalogs (the same control text, as
published by NIST's profile resolver) are merged; each control records which file it
came from and every source's sha256 is kept, so the trim can be redone and checked.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CONTROLS = [
    "ac-2", "ac-3", "ac-5", "ac-6", "au-2", "au-9", "au-10", "ca-7", "cm-3", "cm-5",
    "ia-2", "ir-4", "pt-2", "pt-3", "pt-4", "sc-12", "sc-28", "si-10", "si-12",
]  # fmt: skip


def prose(part: dict[str, Any], depth: int = 0) -> list[str]:
    label = next((p["value"] for p in part.get("props", []) if p["name"] == "label"), "")
    lines = []
    if "prose" in part:
        lines.append(("  " * depth) + (f"{label} " if label else "") + part["prose"])
    for child in part.get("parts", []):
        lines.extend(prose(child, depth + (1 if "prose" in part else 0)))
    return lines


def main(paths: list[str]) -> None:
    found: dict[str, dict[str, Any]] = {}
    sources = []
    for path in paths:
        raw = Path(path).read_bytes()
        catalog = json.loads(raw)["catalog"]
        meta = catalog["metadata"]
        sources.append(
            {
                "file": f"nist.gov/SP800-53/rev5/json/{Path(path).name}",
                "title": meta["title"],
                "version": meta["version"],
                "oscal_version": meta["oscal-version"],
                "last_modified": meta["last-modified"],
                "uuid": catalog["uuid"],
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
        )
        for group in catalog["groups"]:
            for control in group.get("controls", []):
                if control["id"] in CONTROLS and control["id"] not in found:
                    statement = next(p for p in control["parts"] if p["name"] == "statement")
                    found[control["id"]] = {
                        "id": control["id"],
                        "title": control["title"],
                        "statement": "\n".join(prose(statement)),
                        "source": len(sources) - 1,
                    }
    missing = [c for c in CONTROLS if c not in found]
    if missing:
        raise SystemExit(f"not found in the sources: {missing}")
    out = {
        "framework": "nist-800-53",
        "title": "NIST SP 800-53 Revision 5 (controls Paygod refers to)",
        "version": sources[0]["version"],
        "publisher": "NIST",
        "repository": "https://github.com/usnistgov/oscal-content",
        "commit": "88bb8deeaa815f8914d68ea7e31a622ebbc1719d",
        "sources": sources,
        "controls": [found[c] for c in CONTROLS],
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
