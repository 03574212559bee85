"""Fast verification of ledger.jsonl files inside Paygod (orjson), same rules as verifier.py.

`verifier.py` is the auditor's copy (standard library only); this module runs the very
same checks (it calls them) with orjson parsing and the orjson canonical fast path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from paygod.kernel.errors import FieldError, InvalidInput
from paygod.ledger.chain import canonical_parsed_bytes
from paygod.ledger.model import Finding, SignedTreeHead, VerifyReport
from paygod.ledger.verifier import Malformed, check_line_shape, iter_lines, verify_objects


def _fast_canon(value: Any) -> bytes:
    if (
        type(value) is str
        and value.isascii()
        and value.isprintable()
        and '"' not in value
        and "\\" not in value
    ):
        return b'"' + value.encode() + b'"'
    return canonical_parsed_bytes(value)


def verify_jsonl_report(
    path: Path,
    *,
    tree_head: Mapping[str, Any] | None = None,
    public_key_pem: bytes | None = None,
) -> VerifyReport:
    try:
        result = verify_objects(
            iter_lines(path, orjson.loads),
            tree_head=tree_head,
            public_key_pem=public_key_pem,
            canon=_fast_canon,
        )
    except Malformed as exc:
        raise InvalidInput(f"{path}: {exc}", errors=[FieldError("", str(exc))]) from None
    head = None
    if tree_head is not None:
        try:
            head = SignedTreeHead(
                int(tree_head["tree_size"]),
                str(tree_head["root_hash"]),
                str(tree_head["timestamp"]),
                str(tree_head["key_id"]),
                str(tree_head["signature"]),
            )
        except (KeyError, TypeError, ValueError):
            head = None
    return VerifyReport(
        entries_checked=result["entries_checked"],
        tree_size=result["tree_size"],
        root_hash=result["root_hash"],
        findings=tuple(Finding(**f) for f in result["findings"]),
        tree_head=head,
        extra={"file": str(path)},
    )


def read_interchange(path: Path) -> list[dict[str, Any]]:
    lines = []
    try:
        for number, obj in iter_lines(path, orjson.loads):
            check_line_shape(number, obj)
            lines.append(obj)
    except Malformed as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    return lines
