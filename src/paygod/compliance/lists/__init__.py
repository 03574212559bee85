"""Readers of the official sanctions list formats. Each returns the list's entries in
file order or raises `ListFormatError` naming the entry (1-based) that failed; nothing is
returned half-read.

| format   | publisher                      | file                                  |
|----------|--------------------------------|---------------------------------------|
| ofac-xml | US Treasury OFAC, SDN list     | sdn.xml (sdnList/sdnEntry)            |
| ofac-csv | US Treasury OFAC, legacy CSV   | sdn.csv + alt.csv beside it           |
| eu-xml   | EU Financial Sanctions Files   | export/sanctionEntity                 |
| un-xml   | UN Security Council            | CONSOLIDATED_LIST/INDIVIDUALS,ENTITIES|
| uk-csv   | UK Sanctions List (FCDO)       | UK_Sanctions_List.csv                 |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paygod.compliance.errors import ComplianceCode
from paygod.compliance.model import FORMATS, ListEntry, ListFormatError
from paygod.kernel.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class ListFile:
    """What was read: the entries and the bytes they came from (for the digest)."""

    format: str
    list: str
    entries: tuple[ListEntry, ...]
    sources: tuple[tuple[str, bytes], ...]  # (file name, bytes) in the order read


def unknown_format(fmt: str) -> InvalidInput:
    return InvalidInput(
        f"unknown list format {fmt!r}; expected one of {', '.join(FORMATS)}",
        code=ComplianceCode.UNKNOWN_LIST_FORMAT,
        errors=[FieldError("/format", f"expected one of {', '.join(FORMATS)}")],
    )


def _readers() -> dict[str, Callable[[Path], tuple[list[ListEntry], list[tuple[str, bytes]]]]]:
    from paygod.compliance.lists import eu, ofac, uk, un

    return {
        "ofac-xml": ofac.read_xml,
        "ofac-csv": ofac.read_csv,
        "eu-xml": eu.read_xml,
        "un-xml": un.read_xml,
        "uk-csv": uk.read_csv,
    }


def read_list(path: Path, fmt: str) -> ListFile:
    readers = _readers()
    if fmt not in readers:
        raise unknown_format(fmt)
    if not path.exists():
        raise InvalidInput(f"{path}: no such file", errors=[FieldError("/file", "no such file")])
    entries, sources = readers[fmt](path)
    seen: dict[str, int] = {}
    for position, entry in enumerate(entries, 1):
        if entry.entry_id in seen:
            raise ListFormatError(
                f"duplicate entry id {entry.entry_id!r} (first at entry {seen[entry.entry_id]})",
                entry=position,
            )
        seen[entry.entry_id] = position
    if not entries:
        raise ListFormatError("the file holds no list entries")
    return ListFile(fmt, FORMATS[fmt], tuple(entries), tuple(sources))


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"{path}: {exc.strerror}", errors=[FieldError("/file", str(exc))]
        ) from None
