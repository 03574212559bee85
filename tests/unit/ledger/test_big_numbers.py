"""A payload float beyond 2^53 (a whole number, e.g. 1e16) is written by RFC 8785 as integer
digits; the ledger must still verify, export, and verify its export — here and standalone."""

from __future__ import annotations

from pathlib import Path

from paygod.bootstrap import Kernel
from paygod.ledger import verifier
from paygod.ledger.model import EntryDraft


def test_whole_floats_beyond_2_53_keep_the_ledger_verifiable(
    standalone_kernel: Kernel, tmp_path: Path
) -> None:
    kernel = standalone_kernel
    kernel.ledger.append(
        EntryDraft(kind="observation", subject="s", payload={"x": 1e16, "y": -(2.0**60)})
    )
    assert kernel.ledger.verify().ok
    export = tmp_path / "ledger.jsonl"
    with export.open("wb") as out:
        assert kernel.ledger.export_jsonl(out) == 1
    assert b'"x":10000000000000000' in export.read_bytes()
    assert kernel.ledger.verify_file(export).ok
    assert verifier.main([str(export)]) == 0
