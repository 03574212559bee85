"""Strict JSON reading for files and bodies that will be hashed or recorded.

RFC 8785 needs I-JSON (RFC 7493): no duplicate member names, no NaN/Infinity, valid
UTF-8. Python's `json` module accepts all three by default, so this refuses them
with a message that says where.
"""

from __future__ import annotations

import json
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
        return json.loads(
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
    except ValueError as exc:
        raise InvalidInput(
            f"{source} is not valid I-JSON: {exc}", errors=[FieldError("", str(exc))]
        ) from None
    except RecursionError:
        raise InvalidInput(
            f"{source} is nested too deeply", errors=[FieldError("", "nesting too deep")]
        ) from None


def read_json_file(path: Path, *, ieee_numbers: bool = False) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_json(data, source=str(path), ieee_numbers=ieee_numbers)
