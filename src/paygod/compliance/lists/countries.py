"""Country names as the lists write them, to ISO 3166-1 alpha-2 (pycountry's table plus
the short and political names the lists use)."""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

from paygod.compliance.names import ascii_fold

EXTRA = {
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "north korea": "KP",
    "korea north": "KP",
    "korea south": "KR",
    "democratic people s republic of korea": "KP",
    "dprk": "KP",
    "south korea": "KR",
    "republic of korea": "KR",
    "democratic republic of the congo": "CD",
    "congo democratic republic": "CD",
    "republic of the congo": "CG",
    "venezuela": "VE",
    "bolivia": "BO",
    "laos": "LA",
    "vietnam": "VN",
    "viet nam": "VN",
    "tanzania": "TZ",
    "moldova": "MD",
    "palestine": "PS",
    "palestinian": "PS",
    "gaza": "PS",
    "west bank": "PS",
    "kosovo": "XK",
    "turkey": "TR",
    "burma": "MM",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "czech republic": "CZ",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "united states": "US",
    "usa": "US",
    "united states of america": "US",
    "the netherlands": "NL",
    "macedonia": "MK",
    "swaziland": "SZ",
    "cape verde": "CV",
    "brunei": "BN",
    "micronesia": "FM",
    "taiwan": "TW",
    "vatican": "VA",
    "holy see": "VA",
}
_WORDS = re.compile(r"[^a-z]+")


def _key(text: str) -> str:
    return _WORDS.sub(" ", ascii_fold(text)).strip()


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table[_key(value)] = country.alpha_2
        table[country.alpha_2.lower()] = country.alpha_2
        table[country.alpha_3.lower()] = country.alpha_3 and country.alpha_2
    table.update(EXTRA)
    return table


def country_code(text: str | None) -> str | None:
    """ISO alpha-2 for a country name or code, or None when it names no country."""
    if not text:
        return None
    key = _key(text)
    if not key:
        return None
    table = _table()
    if key in table:
        return table[key]
    # "Iran (Islamic Republic of)", "Russian Federation (as of 2020)" and the like.
    head = _key(re.split(r"[(,;]", text, maxsplit=1)[0])
    return table.get(head)


def is_country_code(text: str) -> bool:
    return len(text) == 2 and text.upper() in {c.alpha_2 for c in pycountry.countries} | {"XK"}
