"""The EU consolidated financial sanctions list (Financial Sanctions Files, XML 1.1):
export/sanctionEntity with attributes logicalId and euReferenceNumber, and children
subjectType@code, nameAlias@wholeName|firstName|middleName|lastName, birthdate@birthdate|year,
citizenship@countryIso2Code|countryDescription and regulation@numberTitle|programme.
`reference` is the EU reference number (EU.27.28), else the regulation's number."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from paygod.compliance.lists.countries import country_code
from paygod.compliance.lists.dates import iso_prefixes
from paygod.compliance.lists.xml import child, children, parse_root
from paygod.compliance.model import ListEntry, ListFormatError

KINDS = {"person": "individual", "enterprise": "entity", "p": "individual", "e": "entity"}


def read_xml(path: Path) -> tuple[list[ListEntry], list[tuple[str, bytes]]]:
    from paygod.compliance.lists import read_bytes

    data = read_bytes(path)
    root = parse_root(data, "export", "an EU financial sanctions XML file")
    entries = [_entry(e, n) for n, e in enumerate(children(root, "sanctionEntity"), 1)]
    return entries, [(path.name, data)]


def _attr(element: Element, name: str) -> str:
    return " ".join((element.get(name) or "").split())


def _entry(element: Element, position: int) -> ListEntry:
    logical_id = _attr(element, "logicalId")
    if not logical_id.isdigit():
        raise ListFormatError("logicalId missing or not a number", entry=position)
    subject = child(element, "subjectType")
    code = (
        (_attr(subject, "code") or _attr(subject, "classificationCode"))
        if subject is not None
        else ""
    )
    kind = KINDS.get(code.lower(), "entity")
    names: list[str] = []
    for alias in children(element, "nameAlias"):
        whole = _attr(alias, "wholeName") or " ".join(
            p for p in (_attr(alias, n) for n in ("firstName", "middleName", "lastName")) if p
        )
        if whole and whole not in names:
            names.append(whole)
    if not names:
        raise ListFormatError(
            "no nameAlias with a name", entry=position, where=f"logicalId {logical_id}"
        )
    dobs: list[str] = []
    for birth in children(element, "birthdate"):
        raw = _attr(birth, "birthdate") or _attr(birth, "year")
        dobs.extend(d for d in iso_prefixes(raw) if d not in dobs)
    countries: list[str] = []
    for node in children(element, "citizenship"):
        found = country_code(_attr(node, "countryIso2Code")) or country_code(
            _attr(node, "countryDescription")
        )
        if found and found not in countries:
            countries.append(found)
    regulations = children(element, "regulation")
    reference = _attr(element, "euReferenceNumber") or next(
        (_attr(r, "numberTitle") for r in regulations if _attr(r, "numberTitle")), None
    )
    programs = tuple(
        dict.fromkeys(_attr(r, "programme") for r in regulations if _attr(r, "programme"))
    )
    return ListEntry(
        "eu",
        logical_id,
        reference or None,
        kind,
        tuple(names),
        tuple(dobs),
        tuple(countries),
        programs,
    )
