"""The list readers against the bundled samples (the official layouts) and hostile files."""

from __future__ import annotations

from pathlib import Path

import pytest

from paygod.compliance.lists import read_list
from paygod.compliance.model import ListFormatError
from paygod.kernel.errors import InvalidInput

SAMPLES = Path(__file__).resolve().parents[3] / "src" / "paygod" / "compliance" / "samples"


def by_id(path: Path, fmt: str) -> dict[str, object]:
    return {e.entry_id: e for e in read_list(path, fmt).entries}


def test_ofac_xml_reads_uid_names_akas_dob_and_nationality() -> None:
    entries = read_list(SAMPLES / "ofac_sdn.xml", "ofac-xml").entries
    assert len(entries) == 44
    lavrov = next(e for e in entries if "LAVROV" in e.names[0])
    assert lavrov.list == "ofac" and lavrov.entry_id.isdigit() and lavrov.reference is None
    assert lavrov.names == ("Sergei Viktorovich LAVROV", "Sergey Viktorovich LAVROV")
    assert lavrov.dobs == ("1950-03-21",) and lavrov.countries == ("RU",)
    assert lavrov.programs == ("RUSSIA-EO14024",) and lavrov.kind == "individual"
    kim = next(e for e in entries if e.names[0] == "Jong Un KIM")
    assert kim.countries == ("KP",)  # "Korea, North", as OFAC writes it


def test_ofac_csv_pair_reads_the_same_entries_as_the_xml() -> None:
    xml = read_list(SAMPLES / "ofac_sdn.xml", "ofac-xml")
    csv = read_list(SAMPLES / "ofac-csv" / "sdn.csv", "ofac-csv")
    assert [s[0] for s in csv.sources] == ["sdn.csv", "alt.csv"]
    assert {e.entry_id: e.names for e in xml.entries} == {e.entry_id: e.names for e in csv.entries}
    assert {e.entry_id: e.dobs for e in xml.entries} == {e.entry_id: e.dobs for e in csv.entries}


def test_ofac_csv_reads_remarks_akas_and_the_eof_mark(tmp_path: Path) -> None:
    (tmp_path / "sdn.csv").write_text(
        '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
        "\"a.k.a. 'BNC'.\"\n"
        '2674,"ABBAS, Abu","individual","SDT","Director",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
        '"DOB 10 Dec 1948; alt. DOB 1949; nationality Egypt."\n\x1a\n',
        encoding="cp1252",
    )
    (tmp_path / "alt.csv").write_text('2674,1795,"aka","ZAYDAN, Muhammad",-0- \n\x1a\n')
    entries = by_id(tmp_path, "ofac-csv")
    bank, abbas = entries["306"], entries["2674"]
    assert bank.kind == "entity" and bank.names == ("BANCO NACIONAL DE CUBA", "BNC")  # type: ignore[attr-defined]
    assert abbas.names == ("Abu ABBAS", "Muhammad ZAYDAN")  # type: ignore[attr-defined]
    assert abbas.dobs == ("1948-12-10", "1949") and abbas.countries == ("EG",)  # type: ignore[attr-defined]


def test_eu_xml_reads_logical_id_reference_aliases_and_citizenship() -> None:
    entries = read_list(SAMPLES / "eu_fsf.xml", "eu-xml").entries
    putin = next(e for e in entries if e.names[0] == "Vladimir Vladimirovich Putin")
    assert putin.entry_id.isdigit() and putin.reference and putin.reference.startswith("EU.")
    assert "Владимир Владимирович Путин" in putin.names
    assert putin.dobs == ("1952-10-07",) and putin.countries == ("RU",)


def test_un_xml_reads_dataid_reference_aliases_and_entities() -> None:
    entries = read_list(SAMPLES / "un_consolidated.xml", "un-xml").entries
    zawahiri = next(e for e in entries if e.reference == "QDi.006")
    assert zawahiri.entry_id.isdigit() and zawahiri.names[0] == "AYMAN AL-ZAWAHIRI"
    assert "Aiman Muhammad Rabi AL-ZAWAHIRI" in zawahiri.names
    assert zawahiri.dobs == ("1951-06-19",) and zawahiri.countries == ("EG",)
    komid = next(e for e in entries if e.reference == "KPe.001")
    assert komid.kind == "entity" and "KOMID" in komid.names


def test_uk_csv_groups_rows_by_unique_id() -> None:
    entries = read_list(SAMPLES / "uk_sanctions_list.csv", "uk-csv").entries
    lavrov = next(e for e in entries if e.names[0] == "Sergei Viktorovich LAVROV")
    assert lavrov.entry_id == "RUS0002" and lavrov.reference == "14113"
    assert (
        "Sergey Viktorovich LAVROV" in lavrov.names and "Сергей Викторович Лавров" in lavrov.names
    )
    assert lavrov.dobs == ("1950-03-21",) and lavrov.countries == ("RU",)
    assert len({e.entry_id for e in entries}) == len(entries)


def ofac_xml(*entries: str) -> bytes:
    body = "".join(f"<sdnEntry>{e}</sdnEntry>" for e in entries)
    return f'<sdnList xmlns="http://tempuri.org/sdnList.xsd">{body}</sdnList>'.encode()


GOOD = "<uid>1</uid><lastName>ACME</lastName><sdnType>Entity</sdnType>"


@pytest.mark.parametrize(
    ("body", "entry", "words"),
    [
        (ofac_xml(GOOD, "<lastName>X</lastName><sdnType>Entity</sdnType>"), 2, "uid"),
        (ofac_xml(GOOD, "<uid>2</uid><sdnType>Entity</sdnType>"), 2, "lastName"),
        (ofac_xml(GOOD, GOOD.replace("Entity", "Planet").replace(">1<", ">3<")), 2, "sdnType"),
        (ofac_xml(GOOD, GOOD), 2, "duplicate entry id"),
        (b"<sdnList><sdnEntry><uid>1</uid>", 0, "not well-formed"),
        (b"<export/>", 0, "root element"),
        (ofac_xml(), 0, "no list entries"),
    ],
)
def test_a_bad_entry_is_named_by_position(
    tmp_path: Path, body: bytes, entry: int, words: str
) -> None:
    path = tmp_path / "sdn.xml"
    path.write_bytes(body)
    with pytest.raises(ListFormatError) as caught:
        read_list(path, "ofac-xml")
    assert caught.value.entry == entry
    assert words in str(caught.value)
    if entry:
        assert f"entry {entry}" in str(caught.value)
        assert caught.value.errors[0].pointer == f"/entries/{entry - 1}"


def test_entity_expansion_and_dtds_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>"
        "<FIRST_NAME>&b;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"
    )
    with pytest.raises(ListFormatError, match="refused XML construct"):
        read_list(path, "un-xml")


def test_uk_csv_with_a_short_row_names_the_row(tmp_path: Path) -> None:
    lines = (SAMPLES / "uk_sanctions_list.csv").read_text(encoding="utf-8").splitlines()
    lines[4] = ",".join(lines[4].split(",")[:10])
    path = tmp_path / "uk.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match="entry 3"):
        read_list(path, "uk-csv")


def test_unknown_format_and_missing_file_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown list format"):
        read_list(SAMPLES / "eu_fsf.xml", "eu-json")
    with pytest.raises(InvalidInput, match="no such file"):
        read_list(tmp_path / "absent.xml", "eu-xml")


def test_a_file_of_another_format_is_refused_as_such() -> None:
    with pytest.raises(ListFormatError, match="root element is <export>"):
        read_list(SAMPLES / "eu_fsf.xml", "un-xml")
