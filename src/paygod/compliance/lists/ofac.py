"""OFAC's SDN list: `sdn.xml` (sdnList/sdnEntry, the Treasury's SDN schema) and the
legacy CSV pair `sdn.csv` (ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign,
Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks) plus `alt.csv` (ent_num,
alt_num, alt_type, alt_name, alt_remarks). `-0-` is OFAC's empty value. OFAC publishes
no reference number beside the uid, so `reference` stays empty."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from paygod.compliance.lists.countries import country_code
from paygod.compliance.lists.dates import iso_prefixes
from paygod.compliance.lists.xml import children, parse_root, path_all, text
from paygod.compliance.model import ListEntry, ListFormatError

KINDS = {"individual": "individual", "entity": "entity", "vessel": "vessel", "aircraft": "aircraft"}
NULL = "-0-"


def display_name(first: str, last: str) -> str:
    return " ".join(p for p in (first, last) if p)


def read_xml(path: Path) -> tuple[list[ListEntry], list[tuple[str, bytes]]]:
    from paygod.compliance.lists import read_bytes

    data = read_bytes(path)
    root = parse_root(data, "sdnList", "an OFAC SDN XML file")
    entries = [_xml_entry(e, n) for n, e in enumerate(children(root, "sdnEntry"), 1)]
    return entries, [(path.name, data)]


def _xml_entry(element: object, position: int) -> ListEntry:
    from xml.etree.ElementTree import Element

    assert isinstance(element, Element)
    uid = text(element, "uid")
    if not uid.isdigit():
        raise ListFormatError("<uid> missing or not a number", entry=position)
    last = text(element, "lastName")
    if not last:
        raise ListFormatError("<lastName> missing", entry=position, where=f"uid {uid}")
    kind = KINDS.get(text(element, "sdnType").lower())
    if kind is None:
        raise ListFormatError(
            f"<sdnType> {text(element, 'sdnType')!r} is not Individual, Entity, Vessel or Aircraft",
            entry=position,
            where=f"uid {uid}",
        )
    names = [display_name(text(element, "firstName"), last)]
    for aka in path_all(element, "akaList", "aka"):
        alias = display_name(text(aka, "firstName"), text(aka, "lastName"))
        if alias and alias not in names:
            names.append(alias)
    dobs: list[str] = []
    for item in path_all(element, "dateOfBirthList", "dateOfBirthItem"):
        dobs.extend(d for d in iso_prefixes(text(item, "dateOfBirth")) if d not in dobs)
    countries: list[str] = []
    for group, tag in (("nationalityList", "nationality"), ("citizenshipList", "citizenship")):
        for node in path_all(element, group, tag):
            code = country_code(text(node, "country"))
            if code and code not in countries:
                countries.append(code)
    programs = tuple(text(p) for p in path_all(element, "programList", "program") if text(p))
    return ListEntry("ofac", uid, None, kind, tuple(names), tuple(dobs), tuple(countries), programs)


def _field(value: str) -> str:
    value = value.strip()
    return "" if value == NULL else value


def _reorder(name: str) -> str:
    """`LAST, First` (how OFAC writes individuals) to `First LAST`."""
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        return f"{first} {last}".strip()
    return name


_REMARK_AKA = re.compile(r"a\.k\.a\.\s*'([^']+)'", re.I)
_REMARK_DOB = re.compile(r"(?:alt\. )?DOB ([^;]+)", re.I)
_REMARK_NATIONALITY = re.compile(r"(?:nationality|citizen) ([^;.]+)", re.I)


def _rows(data: bytes, name: str) -> list[list[str]]:
    try:
        textual = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The legacy files were published in Windows-1252 for years.
        textual = data.decode("cp1252", errors="strict")
    try:
        rows = list(csv.reader(io.StringIO(textual)))
    except csv.Error as exc:
        raise ListFormatError(f"{name}: {exc}") from None
    # OFAC ends the files with a DOS end-of-file mark (Ctrl-Z) on a line of its own.
    return [r for r in rows if r and not (len(r) == 1 and r[0].strip() in ("", "\x1a"))]


def read_csv(path: Path) -> tuple[list[ListEntry], list[tuple[str, bytes]]]:
    """`path` is sdn.csv (alt.csv is read from beside it when present) or a folder
    holding both."""
    from paygod.compliance.lists import read_bytes

    sdn_path = path / "sdn.csv" if path.is_dir() else path
    alt_path = next(
        (p for p in (sdn_path.with_name("alt.csv"), sdn_path.with_name("ALT.CSV")) if p.is_file()),
        None,
    )
    sdn_data = read_bytes(sdn_path)
    sources = [(sdn_path.name, sdn_data)]
    aliases: dict[str, list[str]] = {}
    if alt_path is not None:
        alt_data = read_bytes(alt_path)
        sources.append((alt_path.name, alt_data))
        for row_number, row in enumerate(_rows(alt_data, alt_path.name), 1):
            if len(row) < 4 or not row[0].strip().isdigit():
                raise ListFormatError(
                    "alt.csv: expected ent_num, alt_num, alt_type, alt_name, alt_remarks",
                    entry=row_number,
                    where=alt_path.name,
                )
            alias = _reorder(_field(row[3]))
            if alias:
                aliases.setdefault(row[0].strip(), []).append(alias)
    entries = []
    for position, row in enumerate(_rows(sdn_data, sdn_path.name), 1):
        entries.append(_csv_entry(row, position, aliases))
    return entries, sources


def _csv_entry(row: list[str], position: int, aliases: dict[str, list[str]]) -> ListEntry:
    if len(row) != 12:
        raise ListFormatError(
            f"expected 12 columns (ent_num ... Remarks), found {len(row)}", entry=position
        )
    ent_num = row[0].strip()
    if not ent_num.isdigit():
        raise ListFormatError(f"ent_num {ent_num!r} is not a number", entry=position)
    raw_name = _field(row[1])
    if not raw_name:
        raise ListFormatError("SDN_Name is empty", entry=position, where=f"ent_num {ent_num}")
    kind = KINDS.get(_field(row[2]).lower() or "entity")
    if kind is None:
        raise ListFormatError(
            f"SDN_Type {row[2].strip()!r} is not individual, vessel, aircraft or -0-",
            entry=position,
            where=f"ent_num {ent_num}",
        )
    remarks = _field(row[11])
    names = [_reorder(raw_name) if kind == "individual" else raw_name]
    for alias in [*aliases.get(ent_num, []), *_REMARK_AKA.findall(remarks)]:
        if alias not in names:
            names.append(alias)
    dobs: list[str] = []
    for raw in _REMARK_DOB.findall(remarks):
        dobs.extend(d for d in iso_prefixes(raw) if d not in dobs)
    countries: list[str] = []
    for raw in _REMARK_NATIONALITY.findall(remarks):
        code = country_code(raw)
        if code and code not in countries:
            countries.append(code)
    programs = tuple(p.strip() for p in _field(row[3]).strip("[]").split("] [") if p.strip())
    return ListEntry(
        "ofac", ent_num, None, kind, tuple(names), tuple(dobs), tuple(countries), programs
    )
