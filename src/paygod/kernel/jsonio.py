"""Strict JSON reading for files and bodies that will be hashed or recorded.

RFC 8785 needs I-JSON (RFC 7493): no duplicate member names, no NaN/Infinity, valid
UTF-8. Python's `json` module accepts all three by default, so this refuses them
with a message that says where.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from paygod.kernel.errors import FieldError, InvalidInput


class _NotIJson(ValueError):
    """Raised by the parse hooks; any other ValueError comes from the scanner itself."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _NotIJson(f"duplicate member name {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise _NotIJson(f"{name} is not a JSON number")


_SAFE_INT = 2**53 - 1

# Nesting deeper than this is refused at the edge. Every parsed document is later validated
# (jsonschema-rs stops near 400 levels), sealed inside a ledger entry and written to the
# outbox inside an envelope (orjson stops at 255): a body that parses but cannot be
# validated or written was a 500 there. No request or file Paygod reads needs a tenth of it.
MAX_DEPTH = 64


def nesting_too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The JSON pointer of the first container nested deeper than `limit`, or None.

    An explicit stack: a recursive walk would itself be the crash it guards against."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        if depth > limit:
            return where
        for key, item in items:
            if isinstance(item, dict | list):
                name = str(key).replace("~", "~0").replace("/", "~1")
                stack.append((item, depth + 1, f"{where}/{name}"))
    return None


def _ieee_int(text: str) -> int | float:
    # RFC 8785 reads every JSON number as an IEEE 754 double; integers beyond 2^53
    # become the nearest double, exactly as a JCS implementation in JavaScript would.
    value = int(text)
    return value if -_SAFE_INT <= value <= _SAFE_INT else float(text)


def parse_json(data: bytes | str, *, source: str = "input", ieee_numbers: bool = False) -> Any:
    """Parse strictly; raise `InvalidInput` naming the source, line and column.

    `ieee_numbers=True` reads large integers as doubles (RFC 8785 semantics); the default
    keeps them exact so that money amounts out of range are refused, not rounded.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{source} is not valid UTF-8 (byte {exc.start})",
                errors=[FieldError("", "invalid UTF-8")],
            ) from None
    else:
        text = data
    if not text.strip():
        raise InvalidInput(f"{source} is empty", errors=[FieldError("", "expected a JSON value")])
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_int=_ieee_int if ieee_numbers else None,
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            errors=[FieldError("", f"{exc.msg} at line {exc.lineno} column {exc.colno}")],
        ) from None
    except _NotIJson as exc:
        raise InvalidInput(
            f"{source} is not valid I-JSON: {exc}", errors=[FieldError("", str(exc))]
        ) from None
    except ValueError:
        # The scanner's own ValueError: an integer literal longer than Python converts
        # (sys.get_int_max_str_digits); its message tells the user to change the interpreter.
        limit = sys.get_int_max_str_digits()
        raise InvalidInput(
            f"{source} holds an integer of more than {limit} digits",
            errors=[FieldError("", f"integer of more than {limit} digits")],
        ) from None
    except RecursionError:
        document = None
        too_deep: str | None = ""
    else:
        too_deep = nesting_too_deep(document)
    if too_deep is not None:
        raise InvalidInput(
            f"{source} is nested too deeply (more than {MAX_DEPTH} levels)",
            errors=[FieldError(too_deep, f"nesting deeper than {MAX_DEPTH} levels")],
        )
    return document


def read_json_file(path: Path, *, ieee_numbers: bool = False) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_json(data, source=str(path), ieee_numbers=ieee_numbers)
