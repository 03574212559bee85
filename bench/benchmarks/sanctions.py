# ruff: noqa: SIM905

"""Sanctions screening: names/s and p99 against OFAC + EU + UN + UK together, precision,
recall and F1 on a labelled query set, beside same-run peers, and re-screening speed.

The lists are the bundled samples scaled up with synthetic designations written through
the same official-format writers (bench/sanctions_roster.py) and read back by the real
readers: ~40,000 entries, ~100,000 name variants. The queries are labelled: positives
(an alias, the words reordered, a typo, initials, a Cyrillic transliteration, a
romanisation variant) must hit their entry; negatives (unlisted names from the same given
names, the same name as a listed person with another birth year and nationality) must not.

Baselines in the same run: a brute-force rapidfuzz scan (`process.extractOne` with
token_sort_ratio over every variant, the usual first attempt) for speed; OpenSanctions'
nomenklatura matchers logic-v1 and logic-v2 for quality, scoring the same candidates the
blocking index proposes (their default cut-off 0.7), on a subset because they take
milliseconds per comparison.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Figure, benchmark, percentile
from bench.sanctions_roster import (
    ROSTER,
    Person,
    eu_xml,
    member,
    ofac_xml,
    uk_csv,
    un_xml,
)
from paygod.compliance.lists import read_list
from paygod.compliance.matcher import ScreeningIndex
from paygod.compliance.model import DEFAULT_THRESHOLD, ListEntry, ScreeningQuery

PER_LIST = int(os.environ.get("PAYGOD_BENCH_SANCTIONS_PER_LIST", "10000"))
QUERIES = int(os.environ.get("PAYGOD_BENCH_SANCTIONS_QUERIES", "2000"))
PEER_QUERIES = int(os.environ.get("PAYGOD_BENCH_SANCTIONS_PEER_QUERIES", "200"))
RESCREEN_SUBJECTS = int(os.environ.get("PAYGOD_BENCH_SANCTIONS_SUBJECTS", "100000"))

GIVEN = [
    "Ahmad",
    "Ali",
    "Hassan",
    "Hussein",
    "Omar",
    "Yusuf",
    "Ibrahim",
    "Khalid",
    "Tariq",
    "Bilal",
    "Hamza",
    "Karim",
    "Nabil",
    "Rashid",
    "Samir",
    "Walid",
    "Ziad",
    "Faisal",
    "Jamal",
    "Mustafa",
    "Ivan",
    "Dmitry",
    "Sergei",
    "Alexei",
    "Nikolai",
    "Mikhail",
    "Pavel",
    "Yuri",
    "Oleg",
    "Boris",
    "Andrei",
    "Viktor",
    "Igor",
    "Anatoly",
    "Grigory",
    "Vasily",
    "Roman",
    "Gennady",
    "Konstantin",
    "Chen",
    "Wei",
    "Li",
    "Ming",
    "Zhang",
    "Wang",
    "Jun",
    "Hui",
    "Jian",
    "Kim",
    "Park",
    "Lee",
    "Choi",
    "Jung",
    "Carlos",
    "Jose",
    "Luis",
    "Juan",
    "Miguel",
    "Pedro",
    "Jorge",
    "Rafael",
    "Fernando",
    "Ricardo",
    "Eduardo",
    "Diego",
    "Pablo",
    "Manuel",
    "Hans",
    "Peter",
    "Klaus",
    "Franz",
    "Werner",
    "Dieter",
    "Jean",
    "Pierre",
    "Michel",
    "Olivier",
    "Amadou",
    "Moussa",
    "Ousmane",
    "Ibrahima",
    "Mamadou",
]
SURNAMES = [
    "Karimov",
    "Rahimov",
    "Aliyev",
    "Mammadov",
    "Hasanov",
    "Nazarov",
    "Petrov",
    "Ivanov",
    "Sidorov",
    "Smirnov",
    "Kuznetsov",
    "Popov",
    "Volkov",
    "Sokolov",
    "Lebedev",
    "Kozlov",
    "Novikov",
    "Morozov",
    "Pavlov",
    "Semenov",
    "Golubev",
    "Vinogradov",
    "Bogdanov",
    "Vorobiev",
    "Fedorov",
    "Mikhailov",
    "Belyaev",
    "Tarasov",
    "Belov",
    "Komarov",
    "Orlov",
    "Kiselev",
    "Makarov",
    "Andreev",
    "Kovalev",
    "Ilyin",
    "Gusev",
    "Titov",
    "Kuzmin",
    "Kudryavtsev",
    "Baranov",
    "Kulikov",
    "Alekseev",
    "Stepanov",
    "Haddad",
    "Khoury",
    "Nasser",
    "Mansour",
    "Saleh",
    "Darwish",
    "Hamdan",
    "Qureshi",
    "Siddiqui",
    "Chaudhry",
    "Rahman",
    "Hussaini",
    "Tehrani",
    "Shirazi",
    "Esfahani",
    "Rostami",
    "Moradi",
    "Jafari",
    "Ahmadi",
    "Mohammadi",
    "Hosseini",
    "Gonzalez",
    "Rodriguez",
    "Fernandez",
    "Lopez",
    "Martinez",
    "Sanchez",
    "Perez",
    "Gomez",
    "Diaz",
    "Alvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Ramirez",
    "Ruiz",
    "Castillo",
    "Ortega",
    "Delgado",
    "Castro",
    "Vargas",
    "Morales",
    "Herrera",
    "Medina",
    "Zhou",
    "Huang",
    "Zhao",
    "Xu",
    "Sun",
    "Zhu",
    "Ma",
    "Guo",
    "Lin",
    "He",
    "Gao",
    "Luo",
    "Zheng",
    "Liang",
    "Song",
    "Tang",
    "Han",
    "Feng",
    "Deng",
    "Traore",
    "Diallo",
    "Keita",
    "Toure",
    "Coulibaly",
    "Camara",
    "Konate",
    "Sangare",
    "Diarra",
    "Sissoko",
]
# Names no synthetic designation carries: negatives drawn from them are unlisted people.
OTHER_SURNAMES = [
    "Abernathy",
    "Blackwood",
    "Castellano",
    "Delacroix",
    "Eriksen",
    "Fitzgerald",
    "Gallagher",
    "Halvorsen",
    "Ingram",
    "Johansson",
    "Kowalczyk",
    "Lindqvist",
    "McAllister",
    "Nakamura",
    "Oyelaran",
    "Pemberton",
    "Quintero",
    "Rasmussen",
    "Sorensen",
    "Thornbury",
    "Underwood",
    "Vasconcelos",
    "Whitfield",
    "Yamamoto",
    "Zielinski",
]
ROMANISATIONS = {
    "Ahmad": ["Ahmed", "Achmad"],
    "Hussein": ["Husayn", "Hussain"],
    "Omar": ["Umar"],
    "Yusuf": ["Youssef", "Yousef"],
    "Khalid": ["Khaled"],
    "Mustafa": ["Mostafa"],
    "Dmitry": ["Dmitriy", "Dmitri"],
    "Sergei": ["Sergey", "Serguei"],
    "Alexei": ["Aleksey"],
    "Yuri": ["Yury", "Iouri"],
    "Andrei": ["Andrey"],
    "Grigory": ["Grigoriy"],
    "Vasily": ["Vasiliy"],
    "Gennady": ["Gennadiy"],
    "Karimov": ["Karimow"],
    "Aliyev": ["Aliev"],
    "Mammadov": ["Mamedov"],
    "Kuznetsov": ["Kouznetsov"],
    "Alekseev": ["Alexeyev"],
    "Kudryavtsev": ["Kudriavtsev"],
    "Belyaev": ["Beliaev"],
    "Hosseini": ["Husseini"],
    "Mohammadi": ["Mohammedi"],
    "Qureshi": ["Kureshi"],
    "Traore": ["Traoré"],
    "Toure": ["Touré"],
    "Semenov": ["Semyonov"],
}
COUNTRIES = [
    "Russia",
    "Iran",
    "Syria",
    "Iraq",
    "Afghanistan",
    "Venezuela",
    "Cuba",
    "Mexico",
    "Colombia",
    "China",
    "Mali",
    "Lebanon",
    "Yemen",
    "Belarus",
    "Pakistan",
]
COUNTRY_CODES = {
    "Russia": "RU",
    "Iran": "IR",
    "Syria": "SY",
    "Iraq": "IQ",
    "Afghanistan": "AF",
    "Venezuela": "VE",
    "Cuba": "CU",
    "Mexico": "MX",
    "Colombia": "CO",
    "China": "CN",
    "Mali": "ML",
    "Lebanon": "LB",
    "Yemen": "YE",
    "Belarus": "BY",
    "Pakistan": "PK",
}
CYRILLIC = {
    "shch": "щ",
    "kh": "х",
    "zh": "ж",
    "ch": "ч",
    "sh": "ш",
    "ts": "ц",
    "yu": "ю",
    "ya": "я",
    "a": "а",
    "b": "б",
    "v": "в",
    "g": "г",
    "d": "д",
    "e": "е",
    "z": "з",
    "i": "и",
    "y": "й",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "f": "ф",
}
COMPANY = [
    "Trading",
    "Shipping",
    "Petroleum",
    "Logistics",
    "Holding",
    "Industrial",
    "Maritime",
    "Energy",
    "Metals",
    "Global",
    "Eastern",
    "Northern",
    "Star",
    "Crescent",
    "Falcon",
    "Phoenix",
    "Delta",
    "Atlas",
    "Orion",
]


def cyrillic(name: str) -> str:
    out, word, i = [], name.lower(), 0
    while i < len(word):
        for size in (4, 2, 1):
            piece = word[i : i + size]
            if piece in CYRILLIC:
                out.append(CYRILLIC[piece])
                i += size
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


ONSETS = "b d g k l m n p r s t v z sh kh zh ch ts y f h".split()
VOWELS = "a e i o u ya yu".split()
ENDINGS = "ov ev in enko yan idze ani ari ashvili uk ski zadeh oglu ullah i".split()


def surname(rng: random.Random) -> str:
    """A surname from syllables: real lists hold tens of thousands of distinct surnames."""
    syllables = "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.choice((1, 2, 2, 3)))
    )
    return (syllables + rng.choice(ENDINGS)).capitalize()


def synthetic_people(rng: random.Random, count: int) -> list[Person]:
    people = []
    for n in range(count):
        if n % 6 == 5:
            name = f"{rng.choice(COMPANY).upper()} {rng.choice(COMPANY).upper()} {n} LLC"
            people.append(
                Person("", name, [f"{name.split()[0]} {name.split()[1]} {n} CO"], kind="entity")
            )
            continue
        given = rng.sample(GIVEN, rng.choice((1, 2, 2, 3)))
        family = rng.choice(SURNAMES) if n % 4 == 0 else surname(rng)
        aliases = []
        variants = [ROMANISATIONS.get(g, [g])[0] for g in given]
        if variants != given:
            aliases.append(f"{' '.join(variants)} {family.upper()}")
        if family in ROMANISATIONS:
            aliases.append(f"{' '.join(given)} {ROMANISATIONS[family][0].upper()}")
        dob = f"{rng.randint(1940, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        people.append(
            Person(
                " ".join(given),
                family.upper(),
                aliases,
                dob,
                [rng.choice(COUNTRIES)],
                un_ref=f"QDi.{n:03d}",
            )
        )
    return people


def build_lists(folder: Path) -> list[ListEntry]:
    rng = random.Random(18)
    entries: list[ListEntry] = []
    writers = (
        ("ofac", ofac_xml, "ofac-xml", "sdn.xml", 36000),
        ("eu", eu_xml, "eu-xml", "eu.xml", 13000),
        ("un", un_xml, "un-xml", "un.xml", 6908001),
        ("uk", uk_csv, "uk-csv", "uk.csv", 14100),
    )
    for lst, writer, fmt, name, base in writers:
        people = [p for p in ROSTER if member(p, lst)] + synthetic_people(rng, PER_LIST)
        numbered = [(base + 7 * n, p) for n, p in enumerate(people)]
        (folder / name).write_text(writer(numbered), encoding="utf-8")
        entries.extend(read_list(folder / name, fmt).entries)
    return entries


@dataclass(frozen=True)
class Labelled:
    query: ScreeningQuery
    target: tuple[str, str] | None  # (list, entry_id) it must hit; None: must not hit
    kind: str


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    action = rng.choice(("swap", "drop", "replace"))
    if action == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if action == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]


def labelled_queries(entries: list[ListEntry], count: int) -> list[Labelled]:
    rng = random.Random(7)
    people = [e for e in entries if e.kind == "individual" and len(e.names[0].split()) >= 2]
    found: list[Labelled] = []
    kinds = (
        "alias",
        "reordered",
        "typo",
        "initials",
        "cyrillic",
        "romanised",
        "with_dob",
        "unlisted",
        "unlisted",
        "namesake",
    )
    while len(found) < count:
        kind = kinds[len(found) % len(kinds)]
        entry = rng.choice(people)
        words = entry.names[0].split()
        target = (entry.list, entry.entry_id)
        if kind == "alias":
            q = ScreeningQuery(rng.choice(entry.names))
        elif kind == "reordered":
            q = ScreeningQuery(f"{words[-1]}, {' '.join(words[:-1])}")
        elif kind == "typo":
            longest = max(range(len(words)), key=lambda i: len(words[i]))
            q = ScreeningQuery(
                " ".join(typo(w, rng) if i == longest else w for i, w in enumerate(words))
            )
        elif kind == "initials":
            q = ScreeningQuery(f"{words[0][0]}. {' '.join(words[1:])}")
        elif kind == "cyrillic":
            q = ScreeningQuery(" ".join(cyrillic(w) for w in words))
        elif kind == "romanised":
            q = ScreeningQuery(" ".join(ROMANISATIONS.get(w.title(), [w])[-1] for w in words))
        elif kind == "with_dob":
            q = ScreeningQuery(
                entry.names[0].title(),
                entry.dobs[0] if entry.dobs else None,
                entry.countries[0] if entry.countries else None,
            )
        elif kind == "unlisted":
            q = ScreeningQuery(f"{' '.join(words[:-1]).title()} {rng.choice(OTHER_SURNAMES)}")
            target = None
        else:  # the same name, another person: born decades apart, another nationality
            if not entry.dobs or not entry.countries:
                continue
            year = int(entry.dobs[0][:4])
            other = "CA" if entry.countries[0] != "CA" else "NO"
            q = ScreeningQuery(entry.names[0], str(year + 25 if year < 1980 else year - 25), other)
            target = None
        found.append(Labelled(q, target, kind))
    return found


def quality(predicted: list[bool], wanted: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and w for p, w in zip(predicted, wanted, strict=True))
    fp = sum(p and not w for p, w in zip(predicted, wanted, strict=True))
    fn = sum(w and not p for p, w in zip(predicted, wanted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def ours(
    index: ScreeningIndex, labelled: list[Labelled], cpu: list[float] | None = None
) -> tuple[list[bool], list[float]]:
    """Outcomes and wall-clock latencies; `cpu` gets each query's CPU time on this thread
    (what one core spends, whatever else the machine runs)."""
    outcomes, latencies = [], []
    for item in labelled:
        started, on_cpu = time.perf_counter(), time.thread_time()
        hits, _ = index.screen(item.query, DEFAULT_THRESHOLD)
        latencies.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.thread_time() - on_cpu)
        if item.target is None:
            outcomes.append(bool(hits))
        else:
            outcomes.append(any((h.list, h.entry_id) == item.target for h in hits))
    return outcomes, latencies


def brute_force(index: ScreeningIndex, labelled: list[Labelled]) -> float:
    """Names/s of a full rapidfuzz scan over every variant (the same-run speed baseline)."""
    from rapidfuzz import fuzz, process

    choices = [v.text for v in index.variants]
    sample = labelled[: max(20, len(labelled) // 20)]
    started = time.thread_time()  # CPU time, as ours is reported
    for item in sample:
        process.extractOne(
            " ".join(item.query.name.lower().split()), choices, scorer=fuzz.token_sort_ratio
        )
    return len(sample) / (time.thread_time() - started)


def peer(
    name: str, index: ScreeningIndex, labelled: list[Labelled]
) -> tuple[list[bool], list[float]] | None:
    try:
        from followthemoney import model
        from nomenklatura.matching import get_algorithm
    except ImportError:
        return None
    algorithm = get_algorithm(name)
    if algorithm is None:
        return None
    config = algorithm.default_config()

    def entity(
        key: str,
        entry_names: tuple[str, ...],
        dobs: tuple[str, ...],
        countries: tuple[str, ...],
        kind: str,
    ):  # type: ignore[no-untyped-def]
        made = model.make_entity("Person" if kind == "individual" else "LegalEntity")
        made.id = key
        made.add("name", list(entry_names))
        if kind == "individual":
            made.add("birthDate", list(dobs))
            made.add("nationality", [c.lower() for c in countries])
        return made

    outcomes, latencies = [], []
    for n, item in enumerate(labelled):
        q = item.query
        query = entity(
            f"q{n}",
            (q.name,),
            (q.dob,) if q.dob else (),
            (q.country,) if q.country else (),
            "individual",
        )
        started = time.thread_time()  # CPU time, as ours is reported
        words = index_probe(index, q)
        matched: set[tuple[str, str]] = set()
        for position in words:
            e = index.entries[position]
            candidate = entity(f"{e.list}-{e.entry_id}", e.names, e.dobs, e.countries, e.kind)
            if algorithm.compare(query, candidate, config).score >= 0.7:
                matched.add((e.list, e.entry_id))
        latencies.append(time.thread_time() - started)
        outcomes.append(bool(matched) if item.target is None else item.target in matched)
    return outcomes, latencies


def index_probe(index: ScreeningIndex, query: ScreeningQuery) -> list[int]:
    """The entries (not variants) the blocking index proposes for a query."""
    from paygod.compliance.matcher import Variant
    from paygod.compliance.names import skeleton, tokens

    words = tokens(query.name)
    probe = Variant(-1, query.name, words, tuple(skeleton(w) for w in words), " ".join(words))
    return sorted({index.variants[v].entry for v in index.candidates(probe)})


@benchmark("sanctions.screening")
def screening() -> Iterator[Figure]:
    with tempfile.TemporaryDirectory(prefix="paygod-bench-sanctions-") as tmp:
        entries = build_lists(Path(tmp))
    started = time.perf_counter()
    index = ScreeningIndex(entries)
    built = time.perf_counter() - started
    labelled = labelled_queries(entries, QUERIES)
    wanted = [item.target is not None for item in labelled]
    ours(index, labelled[:200])  # warm caches
    cpu: list[float] = []
    load = os.getloadavg()[0]
    outcomes, latencies = ours(index, labelled, cpu)
    precision, recall, f1 = quality(outcomes, wanted)
    # Names/s on one core: CPU time. On a shared machine (load above its core count) the
    # wall clock measures the queue for a core, reported beside it with the load.
    rate = len(labelled) / sum(cpu)
    baseline = brute_force(index, labelled)
    misses: dict[str, int] = {}
    for item, got, want in zip(labelled, outcomes, wanted, strict=True):
        if got != want:
            misses[item.kind] = misses.get(item.kind, 0) + 1
    common = {
        "entries": len(entries),
        "variants": len(index.variants),
        "lists": ["ofac", "eu", "un", "uk"],
        "queries": len(labelled),
        "threshold": DEFAULT_THRESHOLD,
        "index_build_s": round(built, 2),
    }
    yield Figure(
        "sanctions.screen.names_per_s",
        rate,
        "names/s",
        baseline,
        "rapidfuzz_full_scan",
        {
            **common,
            "measured_as": "thread CPU time per query",
            "p50_ms": round(percentile(cpu, 50) * 1000, 3),
            "p99_ms": round(percentile(cpu, 99) * 1000, 3),
            "wall_names_per_s": round(len(labelled) / sum(latencies), 1),
            "wall_p50_ms": round(percentile(latencies, 50) * 1000, 3),
            "wall_p99_ms": round(percentile(latencies, 99) * 1000, 3),
            "load_average_1m": round(load, 2),
            "cores": os.cpu_count(),
        },
    )
    peers = {}
    subset = labelled[:PEER_QUERIES]
    our_subset = quality(outcomes[: len(subset)], wanted[: len(subset)])
    for name in ("logic-v1", "logic-v2"):
        result = peer(name, index, subset[:5])  # warm its tables
        result = peer(name, index, subset)
        if result is None:
            continue
        got, lat = result
        p, r, f = quality(got, wanted[: len(subset)])
        peers[name] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "names_per_s": round(len(subset) / sum(lat), 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 2),
        }
    best_peer = max((v["f1"] for v in peers.values()), default=0.0)
    yield Figure(
        "sanctions.screen.f1",
        f1,
        "f1",
        best_peer,
        "nomenklatura_best_f1_on_subset",
        {
            **common,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "misses_by_kind": misses,
            "subset": len(subset),
            "ours_on_subset": {
                "precision": round(our_subset[0], 4),
                "recall": round(our_subset[1], 4),
                "f1": round(our_subset[2], 4),
            },
            "peers": peers,
        },
    )
    yield from rescreen(index, entries)


def rescreen(index: ScreeningIndex, entries: list[ListEntry]) -> Iterator[Figure]:
    """100k known payees against a delta of 50 new designations, and the same payees
    screened against the whole lists (the baseline: what re-screening without a delta costs,
    extrapolated from a sample)."""
    rng = random.Random(5)
    subjects = [
        ScreeningQuery(f"{' '.join(rng.sample(GIVEN, 2))} {rng.choice(SURNAMES + OTHER_SURNAMES)}")
        for _ in range(RESCREEN_SUBJECTS)
    ]
    delta = ScreeningIndex(synthetic_people_entries(50))
    started = time.perf_counter()
    hits = sum(1 for q in subjects if delta.screen(q, DEFAULT_THRESHOLD)[0])
    elapsed = time.perf_counter() - started
    sample = subjects[:1000]
    full_started = time.perf_counter()
    for q in sample:
        index.screen(q, DEFAULT_THRESHOLD)
    full = (time.perf_counter() - full_started) * len(subjects) / len(sample)
    yield Figure(
        "sanctions.rescreen.seconds",
        elapsed,
        "s",
        full,
        "full_rescreen_extrapolated_s",
        {"subjects": len(subjects), "delta_entries": 50, "new_hits": hits},
    )


def synthetic_people_entries(count: int) -> list[ListEntry]:
    with tempfile.TemporaryDirectory(prefix="paygod-bench-delta-") as tmp:
        path = Path(tmp) / "delta.xml"
        people = synthetic_people(random.Random(99), count)
        path.write_text(ofac_xml([(90_000 + n, p) for n, p in enumerate(people)]), encoding="utf-8")
        return list(read_list(path, "ofac-xml").entries)
