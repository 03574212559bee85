"""Matching: aliases, transliteration, word order, initials, typos; DOB and nationality
move the score; different people with the same name are told apart when the list says
how; unrelated names never hit."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from paygod.compliance.lists import read_list
from paygod.compliance.matcher import ScreeningIndex
from paygod.compliance.model import ScreeningQuery
from paygod.compliance.service import BUNDLED, SAMPLES

THRESHOLD = 0.85


@cache
def index() -> ScreeningIndex:
    entries = [e for name, fmt in BUNDLED for e in read_list(SAMPLES / name, fmt).entries]
    return ScreeningIndex(entries)


def hits(name: str, dob: str | None = None, country: str | None = None) -> list[tuple[str, str]]:
    found, _ = index().screen(ScreeningQuery(name, dob, country), THRESHOLD)
    return [(h.list, h.name) for h in found]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Vladimir Putin", "PUTIN"),  # a middle name (patronymic) left out
        ("PUTIN, Vladimir", "PUTIN"),  # list order, with the comma
        ("V. V. Putin", "PUTIN"),  # initials
        ("Wladimir Putin", "PUTIN"),  # German transliteration
        ("Vladimr Puttin", "PUTIN"),  # typos
        ("Владимир Путин", "PUTIN"),  # Cyrillic
        ("Osama bin Laden", "LADEN"),  # an alias
        ("أسامة بن لادن", "لادن"),  # Arabic script, as the UN and EU publish it
        ("Aleksandr Lukashenko", "LUKASH"),  # another romanisation
        ("Qassim Suleimani", "SOLEIMANI"),
        ("Sergey Shoigu", "SHO"),
        ("Sberbank", "SBERBANK"),
        ("KOMID", "KOMID"),
        ("Hizbullah", "HIZBALLAH"),
        ("Kim Jong-un", "KIM"),
        ("Müller Jerôme Kakwavu", None),
    ],
)
def test_variants_hit_the_designation(query: str, expected: str | None) -> None:
    found = hits(query)
    if expected is None:
        assert found == []
    else:
        assert found, f"{query} should hit"
        best, _ = index().screen(ScreeningQuery(query), THRESHOLD)
        entry = next(e for e in index().entries if e.entry_id == best[0].entry_id)
        assert any(expected.lower() in n.lower() for n in entry.names), entry.names


@pytest.mark.parametrize(
    "query",
    # Alice shares only a consonant skeleton ("lk") with the EU's LIGA: not a variant of it.
    ["John Smith", "Maria Garcia Lopez", "ACME Supplies Ltd", "Mohammed", "Vladimir", "Alice"],
)
def test_unrelated_and_partial_names_do_not_hit(query: str) -> None:
    assert hits(query) == []


def test_dob_and_nationality_tell_a_namesake_apart() -> None:
    assert hits("Hassan Nasrallah")  # the list's own person, by name alone
    assert hits("Hassan Nasrallah", "1960-08-31", "LB")
    assert hits("Hassan Nasrallah", "1991-02-03", "CA") == []
    query = ScreeningQuery("Hassan Nasrallah", "1960", "LB")
    best = index().screen(query, THRESHOLD)[0][0]
    assert "dob matches" in best.reasons and "nationality matches" in best.reasons


def test_hits_are_best_first_one_per_entry_with_the_variant_that_matched() -> None:
    found, _ = index().screen(ScreeningQuery("Osama bin Laden"), THRESHOLD)
    scores = [h.score for h in found]
    assert scores == sorted(scores, reverse=True)
    assert len({(h.list, h.entry_id) for h in found}) == len(found)
    assert {h.list for h in found} >= {"ofac", "eu", "un"}
    un = next(h for h in found if h.list == "un")
    assert un.reference == "QDi.016" and un.name == "Osama BIN LADEN"


def test_an_index_of_one_entry_screens_the_same_as_the_whole() -> None:
    entry = next(e for e in index().entries if e.reference == "QDi.006")
    alone = ScreeningIndex([entry]).screen(ScreeningQuery("Aiman al Zawahiri"), THRESHOLD)[0]
    whole = [
        h
        for h in index().screen(ScreeningQuery("Aiman al Zawahiri"), THRESHOLD)[0]
        if h.entry_id == entry.entry_id
    ]
    assert [h.score for h in alone] == [h.score for h in whole] and alone


def test_samples_folder_is_where_the_service_looks() -> None:
    assert Path(SAMPLES).is_dir()
