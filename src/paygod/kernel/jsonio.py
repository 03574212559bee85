"""Strict JSON reading for files and bodies that will be hashed or recorded.

RFC 8785 needs I-JSON (RFC 7493): no duplicate member names, no NaN/Infinity, valid
UTF-8. Python's `json` module accepts all three by default, so this refuses them
with a message that says where.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from paygod.kernel.errors import FieldError, InvalidInput


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member name {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_SAFE_INT = 2**53 - 1
_SAFE_DIGITS = len(str(_SAFE_INT))  # 16: a longer integer (JSON has no leading 0s) is beyond it


def _number_text(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _ieee_float(text: str) -> float:
    # float() is correctly rounded, but turns a number beyond the double range into an
    # infinity, which has no JSON form: say so with the number as written.
    value = float(text)
    if math.isinf(value):
        raise ValueError(
            f"number {_number_text(text)} is beyond the range of an IEEE 754 double "
            "(±1.7976931348623157e+308)"
        )
    return value


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
    # Long digit strings go straight to float(): int() refuses more than 4300 digits.
    if len(text) - text.startswith("-") > _SAFE_DIGITS:
        return _ieee_float(text)
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
    if text.startswith("\ufeff"):
        # RFC 8259 §8.1: JSON text must not begin with a byte order mark.
        raise InvalidInput(
            f"{source} is not valid JSON: it starts with a byte order mark (U+FEFF)",
            errors=[FieldError("", "starts with a byte order mark")],
        )
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_int=_ieee_int if ieee_numbers else None,
            parse_float=_ieee_float if ieee_numbers else None,
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            errors=[FieldError("", f"{exc.msg} at line {exc.lineno} column {exc.colno}")],
        ) from None
    except ValueError as exc:
        reason = str(exc)
        if "integer string conversion" in reason:
            # CPython's int() limit (sys.get_int_max_str_digits), not JSON's: an integer
            # this long is refused, and its message should not name the interpreter.
            reason = f"an integer has more than {sys.get_int_max_str_digits()} digits"
        raise InvalidInput(
            f"{source} is not valid I-JSON: {reason}", errors=[FieldError("", reason)]
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
