"""The repository's copy of the paygod/v1 reference material is the shared one, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "reference" / "paygod-v1"
COPY = ROOT / "tests" / "fixtures" / "paygod-v1"


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "README.md"
    }


def test_the_copy_holds_the_shared_reference_byte_for_byte() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"no shared reference beside this checkout ({SHARED}) to compare with")
    assert files(COPY) == files(SHARED)


def test_the_copy_has_the_three_packs_and_the_contracts() -> None:
    assert {p.name for p in (COPY / "packs").iterdir()} == {
        "critical-cve-blocker",
        "cross-border-pii-guard",
        "secrets-in-repo-guard",
    }
    assert (COPY / "contracts" / "pack.schema.json").is_file()
