"""What raw personal data looks like: e-mail addresses, card numbers, IBANs, phone numbers.

The ledger is append-only and exported: a value sealed there cannot be erased without
breaking the chain (PCI DSS 3.3, GDPR art. 17). So personal data travels by reference
(`urn:...`, `sha256:<64 hex>`) and anything that looks like the raw thing is refused
before it is written. One detector, used by every write (see `kernel.written`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache, wraps

REF = re.compile(r"^(urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+|sha256:[0-9a-f]{64})$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_DIGITS = re.compile(r"(?:\d[ -]?){13,19}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_PHONE = re.compile(r"^\+\d[\d ().-]{7,18}\d$")
_NON_DIGIT = re.compile(r"\D")
# A run of hex digits and dashes with letters in it (a UUID, a digest): generated ids, whose
# decimal stretches would otherwise pass Luhn one time in ten.
_HEX_TOKEN = re.compile(r"[0-9A-Fa-f-]*[A-Fa-f][0-9A-Fa-f-]*")
_TOKEN_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")
# A UUID in its canonical 8-4-4-4-12 form, wherever it sits (`wallet-<uuid>`): no card
# number is written in that grouping, and its digit groups alone can pass Luhn.
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def is_reference(value: object) -> bool:
    return isinstance(value, str) and REF.match(value) is not None


def luhn_ok(digits: str) -> bool:
    """ISO/IEC 7812-1 Annex B check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


# Strings up to this length have their verdict cached: ids, codes, currencies and purposes
# repeat on every write that names them (a loan's id on each of its bookings), and the
# bound keeps the cache's memory small whatever is written.
CACHED_LENGTH = 256


def cached_when_short(verdict: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """`verdict` (a pure function of one string) with its answers for strings of at most
    CACHED_LENGTH characters kept (8,192 of them); longer strings are judged each time."""
    cached = lru_cache(maxsize=8192)(verdict)

    @wraps(verdict)
    def judged(value: str) -> str | None:
        return cached(value) if len(value) <= CACHED_LENGTH else verdict(value)

    return judged


@cached_when_short
def pii_kind(value: str) -> str | None:
    """What kind of raw personal data `value` looks like, or None."""
    if is_reference(value):
        return None
    if _EMAIL.search(value):
        return "an e-mail address"
    if next(card_numbers(value), None) is not None:
        return "a card number"
    for match in _IBAN.finditer(value):
        if _iban_ok(match.group()):
            return "an IBAN"
    if _PHONE.match(value.strip()):
        return "a phone number"
    return None


def card_numbers(value: str) -> Iterator[str]:
    """The digits of every Luhn-valid 13-19 digit run in `value`, grouped or not, that is
    not part of a generated hex id (a UUID, a digest)."""
    for match in _DIGITS.finditer(value):
        digits = _NON_DIGIT.sub("", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and not _in_hex_id(value, match):
            yield digits


def _in_hex_id(value: str, match: re.Match[str]) -> bool:
    """Whether the digits sit inside a generated hex id (`12345678-1234-1234-abcd-...`),
    alone or as part of a longer identifier."""
    start, end = match.start(), match.end()
    if any(u.start() <= start and end <= u.end() for u in _UUID.finditer(value)):
        return True
    while start > 0 and value[start - 1] in _TOKEN_CHARS:
        start -= 1
    while end < len(value) and value[end] in _TOKEN_CHARS:
        end += 1
    token = value[start:end]
    if len(token) >= 20 and _HEX_TOKEN.fullmatch(token) is not None:
        return True
    # A hex id behind a short word and a dash (`md-<32 hex>`, a mandate's id): the part of the
    # token between dashes that holds the digits is the generated id.
    offset = start
    for part in token.split("-"):
        low, high = offset, offset + len(part)
        if low <= match.start() and match.end() <= high:
            return len(part) >= 20 and _HEX_TOKEN.fullmatch(part) is not None
        offset = high + 1
    return False


def pii_message(kind: str) -> str:
    return f"looks like {kind}; pass personal data by reference (urn:/sha256:)"
