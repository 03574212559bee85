"""The UK Sanctions List (FCDO), CSV: a `Report Date:` line, then one row per name with
Last Updated, Unique ID, OFSI Group ID, UN Reference Number, Name 6 (the surname or whole
entity name), Name 1..Name 5, Name type, Alias strength, Title, Name non-latin script,
..., Regime Name, Designation Type (older files: "Individual, Entity, Ship"), ...,
D.O.B (dd/mm/yyyy, 00 for unknown parts), Nationality(/ies), .... Rows sharing a Unique ID
are one designation. `reference` is the OFSI Group ID, else the UN reference number."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from paygod.compliance.lists.countries import country_code
from paygod.compliance.lists.dates import iso_prefixes
from paygod.compliance.model import ListEntry, ListFormatError

REQUIRED = ("Unique ID", "Name 6", "Name type")
KIND_COLUMNS = ("Designation Type", "Individual, Entity, Ship")
KINDS = {"individual": "individual", "entity": "entity", "ship": "vessel"}
_NUMBERED = re.compile(r"\(\d+\)\s*")


def _parts(value: str) -> list[str]:
    """`(1) Russia (2) Ukraine` and `Russia|Ukraine` to their items."""
    return [p.strip() for p in re.split(r"\(\d+\)|\|", value) if p.strip()]


def read_csv(path: Path) -> tuple[list[ListEntry], list[tuple[str, bytes]]]:
    from paygod.compliance.lists import read_bytes

    data = read_bytes(path)
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ListFormatError(f"not a UTF-8 CSV file: {exc}") from None
    header_at = next((i for i, r in enumerate(rows[:5]) if "Unique ID" in r), None)
    if header_at is None:
        raise ListFormatError("no header row with 'Unique ID' in the first 5 lines")
    header = [h.strip() for h in rows[header_at]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ListFormatError(f"header lacks column {missing[0]!r}")
    kind_column = next((c for c in KIND_COLUMNS if c in header), None)
    grouped: dict[str, dict[str, list[str] | str]] = {}
    order: list[str] = []
    for position, row in enumerate(rows[header_at + 1 :], 1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ListFormatError(
                f"expected {len(header)} columns, found {len(row)}", entry=position
            )
        record = dict(zip(header, (c.strip() for c in row), strict=True))
        unique_id = record["Unique ID"]
        if not unique_id:
            raise ListFormatError("Unique ID is empty", entry=position)
        name = " ".join(p for p in (record.get(f"Name {i}", "") for i in (1, 2, 3, 4, 5, 6)) if p)
        if not name:
            raise ListFormatError("Name 1..6 are all empty", entry=position, where=unique_id)
        kind_text = (record.get(kind_column, "") if kind_column else "").lower()
        if kind_text and kind_text not in KINDS:
            raise ListFormatError(
                f"designation type {kind_text!r} is not Individual, Entity or Ship",
                entry=position,
                where=unique_id,
            )
        slot = grouped.get(unique_id)
        if slot is None:
            slot = {"names": [], "dobs": [], "countries": [], "programs": [], "kind": "entity"}
            slot["reference"] = record.get("OFSI Group ID", "") or record.get(
                "UN Reference Number", ""
            )
            grouped[unique_id] = slot
            order.append(unique_id)
        if kind_text:
            slot["kind"] = KINDS[kind_text]
        names = slot["names"]
        assert isinstance(names, list)
        primary = (
            record["Name type"].lower().startswith("primary name")
            and "variation" not in record["Name type"].lower()
        )
        for candidate in (name, record.get("Name non-latin script", "")):
            if candidate and candidate not in names:
                names.insert(0, candidate) if primary and candidate == name else names.append(
                    candidate
                )
        _extend(
            slot, "dobs", [d for raw in _parts(record.get("D.O.B", "")) for d in iso_prefixes(raw)]
        )
        nationality = record.get("Nationality(/ies)", "") or record.get("Nationality", "")
        _extend(slot, "countries", [c for c in map(country_code, _parts(nationality)) if c])
        _extend(
            slot, "programs", [record.get("Regime Name", "")] if record.get("Regime Name") else []
        )
    entries = []
    for unique_id in order:
        slot = grouped[unique_id]
        entries.append(
            ListEntry(
                "uk",
                unique_id,
                str(slot["reference"]) or None,
                str(slot["kind"]),
                tuple(slot["names"]),
                tuple(slot["dobs"]),
                tuple(slot["countries"]),
                tuple(slot["programs"]),
            )
        )
    return entries, [(path.name, data)]


def _extend(slot: dict[str, list[str] | str], key: str, values: list[str]) -> None:
    target = slot[key]
    assert isinstance(target, list)
    target.extend(v for v in values if v not in target)
