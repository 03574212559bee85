"""The UN Security Council consolidated list (consolidated.xml, sc-sanctions.xsd):
CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL and ENTITIES/ENTITY with DATAID,
REFERENCE_NUMBER (QDi.001...), FIRST_NAME..FOURTH_NAME, NAME_ORIGINAL_SCRIPT,
INDIVIDUAL_ALIAS/ALIAS_NAME (ENTITY_ALIAS for entities), INDIVIDUAL_DATE_OF_BIRTH
(DATE, YEAR, FROM_YEAR/TO_YEAR) and NATIONALITY/VALUE. Entries are numbered in file
order, individuals first."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from paygod.compliance.lists.countries import country_code
from paygod.compliance.lists.dates import iso_prefixes
from paygod.compliance.lists.xml import parse_root, path_all, text
from paygod.compliance.model import ListEntry, ListFormatError

NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def read_xml(path: Path) -> tuple[list[ListEntry], list[tuple[str, bytes]]]:
    from paygod.compliance.lists import read_bytes

    data = read_bytes(path)
    root = parse_root(data, "CONSOLIDATED_LIST", "a UN Security Council consolidated list")
    found = [("individual", e) for e in path_all(root, "INDIVIDUALS", "INDIVIDUAL")]
    found += [("entity", e) for e in path_all(root, "ENTITIES", "ENTITY")]
    entries = [_entry(kind, e, n) for n, (kind, e) in enumerate(found, 1)]
    return entries, [(path.name, data)]


def _entry(kind: str, element: Element, position: int) -> ListEntry:
    dataid = text(element, "DATAID")
    if not dataid.isdigit():
        raise ListFormatError("<DATAID> missing or not a number", entry=position)
    primary = " ".join(p for p in (text(element, n) for n in NAME_PARTS) if p)
    if not primary:
        raise ListFormatError("<FIRST_NAME> missing", entry=position, where=f"DATAID {dataid}")
    names = [primary]
    original = text(element, "NAME_ORIGINAL_SCRIPT")
    alias_tag = "INDIVIDUAL_ALIAS" if kind == "individual" else "ENTITY_ALIAS"
    for candidate in [original, *(text(a, "ALIAS_NAME") for a in path_all(element, alias_tag))]:
        if candidate and candidate not in names:
            names.append(candidate)
    dobs: list[str] = []
    for birth in path_all(element, "INDIVIDUAL_DATE_OF_BIRTH"):
        raw = text(birth, "DATE") or text(birth, "YEAR")
        if not raw and text(birth, "FROM_YEAR"):
            start = text(birth, "FROM_YEAR")
            raw = f"{start} to {text(birth, 'TO_YEAR') or start}"
        dobs.extend(d for d in iso_prefixes(raw) if d not in dobs)
    countries: list[str] = []
    for value in path_all(element, "NATIONALITY", "VALUE"):
        code = country_code(text(value))
        if code and code not in countries:
            countries.append(code)
    reference = text(element, "REFERENCE_NUMBER") or None
    program = text(element, "UN_LIST_TYPE")
    return ListEntry(
        "un",
        dataid,
        reference,
        kind,
        tuple(names),
        tuple(dobs),
        tuple(countries),
        (program,) if program else (),
    )
