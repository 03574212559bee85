"""Dates of birth as the lists write them, to ISO prefixes (`1952`, `1952-10`, `1952-10-07`)."""

from __future__ import annotations

import re
from datetime import datetime

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def iso_prefixes(raw: str) -> list[str]:
    """Every date a DOB field names: `10 Dec 1948`, `Dec 1948`, `1948`, `circa 1960`,
    `1960 to 1962` (each year), `07/10/1952` (day first), `00/00/1952`, `1952-10-07`."""
    value = " ".join(raw.replace(".", " ").split()).lower()
    if not value:
        return []
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if iso:
        return [_valid(int(iso[1]), int(iso[2]), int(iso[3]))]
    slashed = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if slashed:
        return [_valid(int(slashed[3]), int(slashed[2]), int(slashed[1]))]
    ranged = re.fullmatch(r"(?:circa |approximately )?(\d{4}) (?:to|-) (\d{4})", value)
    if ranged:
        start, end = int(ranged[1]), int(ranged[2])
        return [str(y) for y in range(start, min(end, start + 10) + 1)]
    named = re.fullmatch(r"(?:circa )?(?:(\d{1,2}) )?([a-z]{3})[a-z]* (\d{4})", value)
    if named and named[2] in _MONTHS:
        day = int(named[1]) if named[1] else 0
        return [_valid(int(named[3]), _MONTHS[named[2]], day)]
    return sorted(set(_YEAR.findall(value)))


def _valid(year: int, month: int, day: int) -> str:
    """The longest prefix that is a real date (`00` month or day means unknown)."""
    if not 1 <= month <= 12:
        return f"{year:04d}"
    if day:
        try:
            return datetime(year, month, day).strftime("%Y-%m-%d")
        except ValueError:
            pass
    return f"{year:04d}-{month:02d}"
