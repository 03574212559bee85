"""Name normalisation for matching: transliteration to ASCII (anyascii covers Cyrillic,
Arabic, CJK, Greek and diacritics), case folding, titles and legal forms dropped, and a
consonant skeleton per token for the blocking index.

The skeleton is a deliberately coarse phonetic key: vowels go, letters that
transliterations swap (q/k/c/g, z/s, w/v, ph/f, kh/h...) fold together and doubled
letters collapse, so `Usama`/`Osama`, `Mohammed`/`Muhammad` and `Qadhafi`/`Gaddafi`
share keys. It only chooses candidates; the score decides.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Words that say who someone is, not which one: dropped before comparing.
TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "sir",
        "sheikh",
        "shaykh",
        "shaikh",
        "sheik",
        "haji",
        "hajji",
        "mullah",
        "maulavi",
        "maulana",
        "colonel",
        "col",
        "general",
        "gen",
        "major",
        "maj",
        "captain",
        "capt",
        "lieutenant",
        "lt",
        "commander",
        "admiral",
        "brigadier",
        "sergeant",
        "imam",
        "qari",
        "mufti",
        "emir",
        "amir",
        "president",
        "minister",
        "judge",
        "the",
    ]
)
# Legal forms: `ACME LTD` and `Acme Limited` are the same name.
LEGAL_FORMS = frozenset(
    [
        "ltd",
        "limited",
        "llc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oao",
        "ooo",
        "zao",
        "pao",
        "ao",
        "jsc",
        "ojsc",
        "cjsc",
        "pjsc",
        "fze",
        "fzco",
        "llp",
        "lp",
        "sas",
        "kg",
    ]
)
_FOLD = (
    ("ph", "f"),
    ("kh", "h"),
    ("gh", "g"),
    ("dh", "d"),
    ("th", "t"),
    ("sh", "s"),
    ("ch", "s"),
    ("zh", "s"),
    ("ck", "k"),
    ("q", "k"),
    ("c", "k"),
    ("g", "k"),
    ("z", "s"),
    ("w", "v"),
    ("j", "i"),
    ("y", "i"),
    ("x", "ks"),
)
_VOWELS = re.compile(r"[aeiou]+")
_REPEAT = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def ascii_fold(text: str) -> str:
    return anyascii(text).lower()


@lru_cache(maxsize=65536)
def tokens(name: str) -> tuple[str, ...]:
    """The comparable words of a name, in order."""
    words = _NON_ALNUM.sub(" ", ascii_fold(name)).split()
    kept = [w for w in words if w not in TITLES and w not in LEGAL_FORMS]
    return tuple(kept or words)


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    key = token
    for pair, to in _FOLD:
        key = key.replace(pair, to)
    head, rest = key[:1], key[1:]
    # A leading vowel goes too: Usama/Osama, Ahmad/Ehmad.
    body = _VOWELS.sub("", key) if head in "aeiou" else head + _VOWELS.sub("", rest)
    body = body.replace("h", "") or body
    return _REPEAT.sub(r"\1", body) or token[:2]


def normalized(name: str) -> str:
    return " ".join(tokens(name))


def dob_problem(value: str) -> str | None:
    """Why a date of birth is not `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (None when it is)."""
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        return "expected YYYY, YYYY-MM or YYYY-MM-DD"
    parts = [int(p) for p in value.split("-")]
    if not 1800 <= parts[0] <= 2200:
        return "year out of range"
    if len(parts) > 1 and not 1 <= parts[1] <= 12:
        return "month out of range"
    if len(parts) > 2:
        import calendar

        if not 1 <= parts[2] <= calendar.monthrange(parts[0], parts[1])[1]:
            return "day out of range"
    return None
