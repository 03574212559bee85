"""RFC 8785 canonical JSON.

A single recursive pass built on CPython's C string escaper. JCS string escaping
(RFC 8785 §3.2.2.2) is exactly what `json.encoder.encode_basestring` does with
`ensure_ascii=False`: `"` and `\\` escaped, \\b \\f \\n \\r \\t short forms, other
controls as lowercase \\u00xx, everything else verbatim. Numbers that are not
integers go through the `rfc8785` reference library (ES6 number formatting,
§3.2.2.3); a hypothesis property test keeps this module and the library in
agreement on every input.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

import orjson
import rfc8785

# JSON numbers are IEEE 754 doubles; integers outside this range cannot be
# represented exactly, so JCS refuses them instead of silently rounding money.
_INT_MAX = 2**53 - 1


class CanonicalizationError(ValueError):
    """The value has no RFC 8785 form (NaN, infinity, an unsafe integer, a lone surrogate...).

    `str(error)` is the reason; `pointer` is the JSON Pointer (RFC 6901) of the offending
    value ("" for the whole value, or the object holding an offending member name)."""

    def __init__(self, reason: str, pointer: str = "") -> None:
        super().__init__(reason)
        self.pointer = pointer


def _utf16_key(key: str) -> bytes:
    # RFC 8785 §3.2.3: members are sorted by their UTF-16 code units, which differs
    # from code-point order for characters above U+FFFF.
    return key.encode("utf-16-be", "surrogatepass")


def _format_float(value: float) -> str:
    """ES6 Number.prototype.toString (RFC 8785 §3.2.2.3) for a double."""
    if value.is_integer() and abs(value) <= _INT_MAX:
        # Exact below 2^53; above it ES6 prints the shortest round-trip digits, not the
        # exact binary value (2^64 is "18446744073709552000"), so those take the slow path.
        return str(int(value))  # also folds -0.0 to "0"
    text = repr(value)
    if "e" not in text and "n" not in text:
        # Python writes plain notation for 1e-4 <= |x| < 1e16 with the same shortest
        # round-trip digits as ES6, which also writes plain notation in that range.
        return text.removesuffix(".0")
    if not math.isfinite(value):
        name = "NaN" if math.isnan(value) else ("-Infinity" if value < 0 else "Infinity")
        raise CanonicalizationError(f"{name} is not a JSON number (RFC 8785 §3.2.2.3)")
    return rfc8785.dumps(value).decode("ascii")


def _is_exact_double(value: int) -> bool:
    """An integer beyond ±2^53 that stands for one IEEE double without doubt: the double
    holds it exactly, or its digits are that double's own RFC 8785 form (how a float such
    as -2.0**60 is written, "-1152921504606847000", reads back). Any other integer would be
    silently rounded (2^53+1 becomes 2^53), so it is refused."""
    try:
        nearest = float(value)
    except OverflowError:
        return False
    return int(nearest) == value or _format_float(nearest) == str(value)


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        if -_INT_MAX <= value <= _INT_MAX:
            out.append(str(int(value)))
        elif _is_exact_double(value):
            # A JSON number is an IEEE double (RFC 8785 §3.2.2.3): 10000000000000000 is
            # exactly 1e16, which is also how a float 1e16 serialises, so reading a
            # canonical document back (integers as ints) must give the same bytes again.
            out.append(_format_float(float(value)))
        else:
            raise CanonicalizationError(
                f"integer {value} is outside the exact range of JSON numbers (±2^53-1)"
            )
    elif isinstance(value, float):
        out.append(_format_float(value))
    elif isinstance(value, Mapping):
        keys = list(value.keys())
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key {key!r} is not a string")
        if any(ord(ch) > 0xFFFF for key in keys for ch in key):
            keys.sort(key=_utf16_key)
        else:
            keys.sort()  # below U+10000 code-point order equals UTF-16 order
        out.append("{")
        first = True
        for key in keys:
            if not first:
                out.append(",")
            first = False
            out.append(encode_basestring(key))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise CanonicalizationError(f"{type(value).__name__} is not a JSON value")


def _surrogate(text: str) -> str | None:
    """The first lone UTF-16 surrogate in `text`, written U+D800 style (RFC 8785 §3.2.2.2:
    none allowed)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(text[exc.start]):04X}"
    return None


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _locate(value: Any) -> CanonicalizationError:
    """The first thing in `value` (in canonical order) without an RFC 8785 form, with its
    JSON Pointer. Only run once encoding has failed, so the encoder's loop stays as it is."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, pointer = stack.pop()
        if isinstance(item, str):
            lone = _surrogate(item)
            if lone:
                return CanonicalizationError(f"string has a lone UTF-16 surrogate {lone}", pointer)
        elif isinstance(item, Mapping):
            keys = list(item.keys())
            for key in keys:
                if not isinstance(key, str):
                    return CanonicalizationError(f"object key {key!r} is not a string", pointer)
                lone = _surrogate(key)
                if lone:
                    return CanonicalizationError(
                        f"object member name {key!a} has a lone UTF-16 surrogate {lone}",
                        pointer,
                    )
            keys.sort(key=_utf16_key)
            stack.extend((item[key], f"{pointer}/{_pointer_token(key)}") for key in reversed(keys))
        elif isinstance(item, Sequence) and not isinstance(item, bytes | bytearray):
            stack.extend((child, f"{pointer}/{i}") for i, child in reversed(list(enumerate(item))))
        else:
            try:
                _encode(item, [])
            except CanonicalizationError as exc:
                return CanonicalizationError(str(exc), pointer)
    return CanonicalizationError("value has no RFC 8785 form")


def canonical_str(value: Any) -> str:
    """The RFC 8785 form of `value` as text (CanonicalizationError if it has none)."""
    out: list[str] = []
    try:
        _encode(value, out)
    except CanonicalizationError:
        raise _locate(value) from None
    text = "".join(out)
    if not text.isascii() and _surrogate(text):
        raise _locate(value)
    return text


# orjson's string escaping is exactly JCS's, OPT_STRICT_INTEGER refuses the same integers,
# and for keys below U+10000 its sorted order is UTF-16 order. What it formats differently
# (floats) is given to it as fragments of their RFC 8785 text; what it sorts differently
# (keys above U+FFFF) is detected first and sent down the slow path; the PASSTHROUGH
# options make it refuse every non-JSON type instead of serializing it, so both paths
# accept exactly the same values.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _orjson_safe(value: Any) -> bool:
    """True when orjson's output is the RFC 8785 form: no floats, no astral object keys."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str or (not key.isascii() and _ASTRAL.search(key)):
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is float or not (kind is str or kind is int or kind is bool or item is None):
            return False
    return True


class _NotForOrjson(Exception):
    """A value orjson cannot write in its RFC 8785 form: the slow path takes it."""


def _float_fragments(item: Any) -> Any:
    """`item` with every float replaced by an `orjson.Fragment` of its RFC 8785 text
    (ES6 number formatting, `_format_float`), so orjson writes the rest: a document with
    floats (a risk assessment's features) is otherwise encoded in Python, value by value.
    Leaves are handled in their container's loop: most values are leaves."""
    kind = type(item)
    if kind is dict:
        out: dict[str, Any] = {}
        for key, child in item.items():
            if type(key) is not str or (not key.isascii() and _ASTRAL.search(key)):
                raise _NotForOrjson
            out[key] = _fragment_of(child)
        return out
    if kind is list or kind is tuple:
        return [_fragment_of(child) for child in item]
    return _fragment_of(item)


def _fragment_of(child: Any) -> Any:
    kind = type(child)
    if kind is str or kind is int or kind is bool or child is None:
        return child
    if kind is float:
        return orjson.Fragment(_format_float(child))
    if kind is dict or kind is list or kind is tuple:
        return _float_fragments(child)
    raise _NotForOrjson


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 form of `value` as UTF-8 bytes."""
    try:
        plain = value if _orjson_safe(value) else _float_fragments(value)
        return orjson.dumps(plain, option=_ORJSON_OPTIONS)
    except (_NotForOrjson, CanonicalizationError, orjson.JSONEncodeError):
        pass  # an unsafe integer, a lone surrogate, NaN...: the slow path names the problem
    out: list[str] = []
    try:
        _encode(value, out)
        return "".join(out).encode("utf-8")
    except (CanonicalizationError, UnicodeEncodeError):
        raise _locate(value) from None


def sha256_hex(value: Any) -> str:
    """Lowercase hex SHA-256 of the canonical bytes of `value`."""
    return hashlib.sha256(canonicalize(value)).hexdigest()


def digest(value: Any) -> str:
    """`sha256:<hex>` digest of the canonical bytes of `value`, the form used in evidence."""
    return "sha256:" + sha256_hex(value)
