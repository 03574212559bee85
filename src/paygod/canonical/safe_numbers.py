"""Which numbers an input may carry: the I-JSON interoperability rule (RFC 7493 §2.2).

The encoder (`ledger.verifier`) follows RFC 8785 exactly: a JSON number is an IEEE double, so an
integer beyond ±(2^53−1) that stands for one double still has a canonical form (that is
how a stored float such as 1e16 reads back). Inputs are held to the stricter rule: an
integer outside ±(2^53−1) is refused with a pointer, because many consumers would round
it (an order number 14956267102514281 must be sent as a string), and so are NaN and
infinities, which JSON cannot express.

The rule is about the number, not how it is spelled. Every double beyond 2^53 is a whole
number that stands for a range of integers: `9007199254740993.0` parses as ...992, and
`1e20` is sealed (RFC 8785) as `100000000000000000000`, the very text the integer rule
refuses. Written with a fraction or an exponent such a number used to pass, and an
`amount_minor` so written was measured as no amount at all; so any number beyond
±(2^53−1) is refused, however written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1


def unsafe_numbers(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    """(JSON pointer, reason) for every number in `value` an input must not carry."""
    found: list[tuple[str, str]] = []
    if isinstance(value, bool):
        return found
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            found.append((pointer, "integer outside ±(2^53-1), no exact JSON form; send a string"))
    elif isinstance(value, float):
        if not math.isfinite(value):
            found.append((pointer, "not a finite number"))
        elif abs(value) > MAX_SAFE_INTEGER:
            found.append((pointer, "number outside ±(2^53-1), no exact integer; send a string"))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            found.extend(unsafe_numbers(item, f"{pointer}/{escaped}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(unsafe_numbers(item, f"{pointer}/{index}"))
    return found
