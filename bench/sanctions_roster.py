# ruff: noqa: E501 - the roster and the format templates read best one record a line
"""The public designations the bundled sample lists are written from (names, aliases,
dates of birth and nationalities as published), and the writers that lay them out in each
official format. `python bench/sanctions_roster.py` rewrites src/paygod/compliance/samples;
the bench scales the same writers up with synthetic names."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

SAMPLES = Path(__file__).resolve().parent.parent / "src" / "paygod" / "compliance" / "samples"


@dataclass
class Person:
    first: str
    last: str
    aliases: list[str] = field(default_factory=list)
    dob: str = ""  # ISO prefix
    countries: list[str] = field(default_factory=list)  # country names as lists write them
    kind: str = "individual"
    native: str = ""  # the name in its own script
    lists: str = "ofac eu un uk"
    program: dict[str, str] = field(default_factory=dict)
    un_ref: str = ""

    @property
    def whole(self) -> str:
        return f"{self.first} {self.last}".strip()


ROSTER = [
    Person(
        "Vladimir Vladimirovich",
        "PUTIN",
        [],
        "1952-10-07",
        ["Russia"],
        native="Владимир Владимирович Путин",
        lists="ofac eu uk",
    ),
    Person(
        "Sergei Viktorovich",
        "LAVROV",
        ["Sergey Viktorovich LAVROV"],
        "1950-03-21",
        ["Russia"],
        native="Сергей Викторович Лавров",
        lists="ofac eu uk",
    ),
    Person(
        "Sergei Kuzhugetovich",
        "SHOIGU",
        ["Sergey Kuzhugetovich SHOYGU"],
        "1955-05-21",
        ["Russia"],
        native="Сергей Кужугетович Шойгу",
        lists="ofac eu uk",
    ),
    Person(
        "Oleg Vladimirovich",
        "DERIPASKA",
        [],
        "1968-01-02",
        ["Russia", "Cyprus"],
        native="Олег Владимирович Дерипаска",
        lists="ofac eu uk",
    ),
    Person(
        "Roman Arkadyevich",
        "ABRAMOVICH",
        ["Roman Arkadievich ABRAMOVICH"],
        "1966-10-24",
        ["Russia", "Israel", "Portugal"],
        native="Роман Аркадьевич Абрамович",
        lists="eu uk",
    ),
    Person(
        "Alisher Burhanovich",
        "USMANOV",
        ["Alisher USMANOV"],
        "1953-09-09",
        ["Russia", "Uzbekistan"],
        native="Алишер Бурханович Усманов",
        lists="ofac eu uk",
    ),
    Person(
        "Yevgeniy Viktorovich",
        "PRIGOZHIN",
        ["Evgeny Viktorovich PRIGOZHIN", "Yevgeny PRIGOZHIN"],
        "1961-06-01",
        ["Russia"],
        native="Евгений Викторович Пригожин",
        lists="ofac eu uk",
    ),
    Person(
        "Ramzan Akhmatovich",
        "KADYROV",
        [],
        "1976-10-05",
        ["Russia"],
        native="Рамзан Ахматович Кадыров",
        lists="ofac eu uk",
    ),
    Person(
        "Alexander Grigoryevich",
        "LUKASHENKO",
        ["Aliaksandr Ryhoravich LUKASHENKA", "Alyaksandr LUKASHENKA"],
        "1954-08-30",
        ["Belarus"],
        native="Александр Григорьевич Лукашенко",
        lists="ofac eu uk",
    ),
    Person(
        "Dmitry Anatolyevich",
        "MEDVEDEV",
        ["Dmitrii Anatolevich MEDVEDEV"],
        "1965-09-14",
        ["Russia"],
        native="Дмитрий Анатольевич Медведев",
        lists="eu uk",
    ),
    Person(
        "Igor Ivanovich",
        "SECHIN",
        [],
        "1960-09-07",
        ["Russia"],
        native="Игорь Иванович Сечин",
        lists="ofac eu uk",
    ),
    Person(
        "Viktor Fedorovych",
        "YANUKOVYCH",
        ["Viktor YANUKOVICH", "Viktor Fyodorovich YANUKOVICH"],
        "1950-07-09",
        ["Ukraine"],
        native="Віктор Федорович Янукович",
        lists="ofac eu uk",
    ),
    Person(
        "Viktor Anatolyevich",
        "BOUT",
        ["Victor BOUT", "Viktor BUTT", "Victor Anatoliyevich BOUTOV"],
        "1967-01-13",
        ["Russia"],
        lists="ofac uk",
    ),
    Person(
        "Jong Un",
        "KIM",
        ["KIM Jong-un", "KIM Jong Eun"],
        "1984-01-08",
        ["Korea, North"],
        native="김정은",
        lists="ofac eu uk",
    ),
    Person(
        "Pyong Chol", "RI", ["Ri Phyong Chol"], "1948-08-16", ["Korea, North"], lists="ofac eu uk"
    ),
    Person(
        "Bashar",
        "AL-ASSAD",
        ["Bashar Hafez AL-ASSAD", "Bashar AL-ASAD"],
        "1965-09-11",
        ["Syria"],
        native="بشار الأسد",
        lists="ofac eu uk",
    ),
    Person(
        "Nicolas",
        "MADURO MOROS",
        ["Nicolas MADURO"],
        "1962-11-23",
        ["Venezuela"],
        lists="ofac eu uk",
    ),
    Person(
        "Joaquin",
        "GUZMAN LOERA",
        ["Joaquin Archivaldo GUZMAN LOERA", "EL CHAPO"],
        "1957-04-04",
        ["Mexico"],
        lists="ofac",
    ),
    Person(
        "Ayman",
        "AL-ZAWAHIRI",
        ["Ayman Muhammad Rabi AL-ZAWAHIRI", "Aiman Muhammad Rabi AL-ZAWAHIRI", "Ahmad Fuad SALIM"],
        "1951-06-19",
        ["Egypt"],
        native="أيمن الظواهري",
        un_ref="QDi.006",
    ),
    Person(
        "Usama",
        "BIN LADIN",
        ["Osama BIN LADEN", "Usama bin Muhammad bin Awad BIN LADIN", "Usama BIN LADEN"],
        "1957-07-30",
        ["Saudi Arabia"],
        native="أسامة بن لادن",
        lists="ofac eu un",
        un_ref="QDi.016",
    ),
    Person(
        "Hasan",
        "NASRALLAH",
        ["Hassan NASRALLAH", "Hasan Abd-al-Karim NASRALLAH"],
        "1960-08-31",
        ["Lebanon"],
        native="حسن نصر الله",
        lists="ofac uk",
    ),
    Person("Abu", "ABBAS", ["Muhammad ZAYDAN"], "1948-12-10", [], lists="ofac"),
    Person(
        "Gilberto Jose",
        "RODRIGUEZ OREJUELA",
        ["THE CHESS PLAYER"],
        "1939-01-31",
        ["Colombia"],
        lists="ofac",
    ),
    Person(
        "Miguel Angel", "RODRIGUEZ OREJUELA", ["EL SENOR"], "1943-11-23", ["Colombia"], lists="ofac"
    ),
    Person(
        "Qasem",
        "SOLEIMANI",
        ["Qassem SOLEIMANI", "Ghasem SOLEYMANI", "Qasim SULEMANI"],
        "1957-03-11",
        ["Iran"],
        native="قاسم سلیمانی",
        lists="ofac eu uk",
    ),
    Person(
        "Abu Bakr",
        "AL-BAGHDADI",
        ["Ibrahim Awwad Ibrahim Ali AL-BADRI", "Abu Du'a"],
        "1971",
        ["Iraq"],
        native="أبو بكر البغدادي",
        un_ref="QDi.299",
    ),
    Person(
        "Mohammed",
        "OMAR",
        ["Mullah Mohammad OMAR"],
        "1960",
        ["Afghanistan"],
        lists="eu un uk",
        un_ref="TAi.004",
    ),
    Person(
        "Sirajuddin Jallaloudine",
        "HAQQANI",
        ["Siraj HAQQANI", "Serajuddin HAQANI"],
        "1973",
        ["Afghanistan"],
        native="سراج الدين حقاني",
        un_ref="TAi.144",
    ),
    Person("Min Aung", "HLAING", [], "1956-07-03", ["Myanmar"], lists="ofac eu uk"),
    Person(
        "Eric",
        "BADEGE",
        [],
        "1971",
        ["Democratic Republic of the Congo"],
        lists="un uk",
        un_ref="CDi.001",
    ),
    Person(
        "Gaston",
        "IYAMUREMYE",
        ["Byiringiro Victor RUMULI", "Victor RUMURI", "Michel BYIRINGIRO"],
        "1948",
        ["Rwanda"],
        lists="ofac eu un uk",
        un_ref="CDi.003",
    ),
    Person(
        "Sultani",
        "MAKENGA",
        ["Emmanuel Sultani MAKENGA"],
        "1973-12-25",
        ["Democratic Republic of the Congo"],
        lists="ofac eu un uk",
        un_ref="CDi.008",
    ),
    Person(
        "Innocent",
        "KAINA",
        ["Colonel Innocent KAINA", "India Queen"],
        "1973-11",
        [],
        lists="un uk",
        un_ref="CDi.004",
    ),
    Person(
        "",
        "BANCO NACIONAL DE CUBA",
        ["NATIONAL BANK OF CUBA", "BNC"],
        kind="entity",
        countries=["Cuba"],
        lists="ofac",
    ),
    Person("", "AEROCARIBBEAN AIRLINES", ["AERO-CARIBBEAN"], kind="entity", lists="ofac"),
    Person(
        "",
        "BANK MARKAZI JOMHOURI ISLAMI IRAN",
        ["CENTRAL BANK OF IRAN", "CENTRAL BANK OF THE ISLAMIC REPUBLIC OF IRAN"],
        kind="entity",
        lists="ofac eu uk",
    ),
    Person(
        "",
        "ISLAMIC REVOLUTIONARY GUARD CORPS",
        ["IRGC", "SEPAH-E PASDARAN"],
        kind="entity",
        native="سپاه پاسداران انقلاب اسلامی",
        lists="ofac eu uk",
    ),
    Person(
        "",
        "HIZBALLAH",
        ["PARTY OF GOD", "HEZBOLLAH", "ISLAMIC JIHAD ORGANIZATION"],
        kind="entity",
        native="حزب الله",
        lists="ofac eu uk",
    ),
    Person(
        "",
        "AL-QAIDA",
        ["AL QAEDA", "THE BASE", "AL-QA'IDA"],
        kind="entity",
        native="القاعدة",
        un_ref="QDe.004",
    ),
    Person(
        "",
        "KOREA MINING DEVELOPMENT TRADING CORPORATION",
        ["KOMID", "CHANGGWANG SINYONG CORPORATION"],
        kind="entity",
        un_ref="KPe.001",
    ),
    Person(
        "",
        "PUBLIC JOINT STOCK COMPANY SBERBANK OF RUSSIA",
        ["SBERBANK", "SBERBANK ROSSII"],
        kind="entity",
        native="ПАО Сбербанк",
        lists="ofac eu uk",
    ),
    Person(
        "",
        "PMC WAGNER",
        ["WAGNER GROUP", "CHVK VAGNER", "LIGA"],
        kind="entity",
        native="ЧВК Вагнер",
        lists="ofac eu uk",
    ),
    Person(
        "",
        "ROSNEFT OIL COMPANY",
        ["OAO ROSNEFT", "NK ROSNEFT"],
        kind="entity",
        native="Роснефть",
        lists="ofac eu uk",
    ),
    Person(
        "", "TALIBAN", ["ISLAMIC EMIRATE OF AFGHANISTAN", "TALEBAN"], kind="entity", lists="ofac uk"
    ),
    Person(
        "",
        "ISLAMIC STATE IN IRAQ AND THE LEVANT",
        ["ISIL", "ISIS", "DAESH", "AL-QAIDA IN IRAQ"],
        kind="entity",
        un_ref="QDe.115",
    ),
    Person(
        "",
        "HAMAS",
        ["ISLAMIC RESISTANCE MOVEMENT", "HARAKAT AL-MUQAWAMA AL-ISLAMIYA"],
        kind="entity",
        native="حماس",
        lists="ofac eu uk",
    ),
    Person(
        "", "MAHAN AIR", ["MAHAN AIR AIRLINES", "MAHAN AIRLINES"], kind="entity", lists="ofac eu uk"
    ),
    Person("", "NATIONAL IRANIAN OIL COMPANY", ["NIOC"], kind="entity", lists="ofac eu uk"),
    Person(
        "",
        "KOREA KWANGSON BANKING CORP",
        ["KKBC"],
        kind="entity",
        lists="ofac eu un uk",
        un_ref="KPe.025",
    ),
]


def split_first_last(name: str) -> tuple[str, str]:
    """`First Middle LAST NAME` to (given names, surname): the surname is the upper-case tail."""
    words = name.split()
    tail = [w for w in words if w.isupper() or not any(c.isalpha() for c in w)]
    head = [w for w in words if w not in tail]
    if not head:
        return "", name
    return " ".join(head), " ".join(tail)


def member(p: Person, lst: str) -> bool:
    return lst in p.lists.split()


# -- OFAC ---------------------------------------------------------------------------------

OFAC_NS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XSD"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def ofac_dob(iso: str) -> str:
    parts = iso.split("-")
    if len(parts) == 3:
        return f"{parts[2]} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return iso


def ofac_program(p: Person) -> str:
    if (p.countries and p.countries[0] == "Russia") or p.last in {
        "ROSNEFT OIL COMPANY",
        "PMC WAGNER",
        "PUBLIC JOINT STOCK COMPANY SBERBANK OF RUSSIA",
    }:
        return "RUSSIA-EO14024"
    return {
        "Korea, North": "DPRK3",
        "Syria": "SYRIA",
        "Venezuela": "VENEZUELA-EO13692",
        "Cuba": "CUBA",
        "Iran": "IRGC",
        "Belarus": "BELARUS-EO14038",
        "Colombia": "SDNT",
        "Mexico": "SDNTK",
        "Myanmar": "BURMA-EO14014",
        "Ukraine": "UKRAINE-EO13660",
        "Rwanda": "DRCONGO",
        "Democratic Republic of the Congo": "DRCONGO",
    }.get(p.countries[0] if p.countries else "", "SDGT")


def ofac_xml(entries: list[tuple[int, Person]]) -> str:
    out = [
        '<?xml version="1.0" standalone="yes"?>',
        f'<sdnList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="{OFAC_NS}">',
        "  <publshInformation>",
        "    <Publish_Date>11/27/2026</Publish_Date>",
        f"    <Record_Count>{len(entries)}</Record_Count>",
        "  </publshInformation>",
    ]
    aka_uid = 90000
    for uid, p in entries:
        first, last = (p.first, p.last) if p.kind == "individual" else ("", p.last)
        out.append("  <sdnEntry>")
        out.append(f"    <uid>{uid}</uid>")
        if first:
            out.append(f"    <firstName>{escape(first)}</firstName>")
        out.append(f"    <lastName>{escape(last)}</lastName>")
        kind = {"individual": "Individual", "entity": "Entity", "vessel": "Vessel"}[p.kind]
        out.append(f"    <sdnType>{kind}</sdnType>")
        out.append(
            f"    <programList>\n      <program>{ofac_program(p)}</program>\n    </programList>"
        )
        if p.aliases:
            out.append("    <akaList>")
            for alias in p.aliases:
                aka_uid += 1
                a_first, a_last = split_first_last(alias) if p.kind == "individual" else ("", alias)
                out.append(
                    f"      <aka>\n        <uid>{aka_uid}</uid>\n        <type>a.k.a.</type>\n        <category>strong</category>"
                )
                if a_first:
                    out.append(f"        <firstName>{escape(a_first)}</firstName>")
                out.append(f"        <lastName>{escape(a_last)}</lastName>\n      </aka>")
            out.append("    </akaList>")
        if p.dob:
            out.append(
                f"    <dateOfBirthList>\n      <dateOfBirthItem>\n        <uid>{uid + 500000}</uid>\n        <dateOfBirth>{ofac_dob(p.dob)}</dateOfBirth>\n        <mainEntry>true</mainEntry>\n      </dateOfBirthItem>\n    </dateOfBirthList>"
            )
        if p.countries and p.kind == "individual":
            out.append("    <nationalityList>")
            for n, country in enumerate(p.countries):
                out.append(
                    f"      <nationality>\n        <uid>{uid + 600000 + n}</uid>\n        <country>{escape(country)}</country>\n        <mainEntry>{'true' if n == 0 else 'false'}</mainEntry>\n      </nationality>"
                )
            out.append("    </nationalityList>")
        out.append("  </sdnEntry>")
    out.append("</sdnList>")
    return "\n".join(out) + "\n"


def ofac_csv(entries: list[tuple[int, Person]]) -> tuple[str, str]:
    sdn, alt = io.StringIO(), io.StringIO()
    alt_num = 90000
    for uid, p in entries:
        name = f"{p.last}, {p.first}" if p.kind == "individual" and p.first else p.last
        remarks = []
        if p.dob:
            remarks.append(f"DOB {ofac_dob(p.dob)}")
        for country in p.countries if p.kind == "individual" else []:
            remarks.append(f"nationality {country}")
        remark = "; ".join(remarks) + "." if remarks else "-0- "
        kind = "individual" if p.kind == "individual" else "-0- "
        cells = (
            [str(uid), f'"{name}"', f'"{kind}"' if kind != "-0- " else kind, f'"{ofac_program(p)}"']
            + ["-0- "] * 7
            + [f'"{remark}"' if remark != "-0- " else remark]
        )
        sdn.write(",".join(cells) + "\n")
        for alias in p.aliases:
            alt_num += 1
            a_first, a_last = split_first_last(alias) if p.kind == "individual" else ("", alias)
            shown = f"{a_last}, {a_first}" if a_first and a_last else (a_last or a_first)
            alt.write(f'{uid},{alt_num},"aka","{shown}",-0- \n')
    return sdn.getvalue() + "\x1a\n", alt.getvalue() + "\x1a\n"


# -- EU -----------------------------------------------------------------------------------

EU_NS = "http://eu.europa.ec/fpi/fsd/export"
ISO2 = {
    "Russia": "RU",
    "Cyprus": "CY",
    "Israel": "IL",
    "Portugal": "PT",
    "Uzbekistan": "UZ",
    "Belarus": "BY",
    "Ukraine": "UA",
    "Korea, North": "KP",
    "Syria": "SY",
    "Venezuela": "VE",
    "Mexico": "MX",
    "Egypt": "EG",
    "Saudi Arabia": "SA",
    "Lebanon": "LB",
    "Colombia": "CO",
    "Iran": "IR",
    "Iraq": "IQ",
    "Afghanistan": "AF",
    "Myanmar": "MM",
    "Democratic Republic of the Congo": "CD",
    "Rwanda": "RW",
    "Cuba": "CU",
}


def eu_program(p: Person) -> str:
    return {
        "Russia": "UKR",
        "Belarus": "BLR",
        "Korea, North": "PRK",
        "Syria": "SYR",
        "Venezuela": "VEN",
        "Iran": "IRN",
        "Myanmar": "MMR",
        "Ukraine": "UKR",
        "Democratic Republic of the Congo": "COD",
        "Rwanda": "COD",
    }.get(p.countries[0] if p.countries else "", "TERR")


def eu_xml(entries: list[tuple[int, Person]]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f'<export xmlns="{EU_NS}" generationDate="2026-11-27T18:30:02.112+01:00" globalFileId="163712">',
    ]
    for logical_id, p in entries:
        ref = f"EU.{logical_id % 9000 + 27}.{logical_id % 97}"
        un = f' unitedNationId="{p.un_ref}"' if p.un_ref else ""
        out.append(
            f'  <sanctionEntity designationDetails="" unitedNationId="{p.un_ref}" euReferenceNumber="{ref}" logicalId="{logical_id}">'
            if un
            else f'  <sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="{ref}" logicalId="{logical_id}">'
        )
        out.append(
            f'    <regulation regulationType="regulation" organisationType="council" publicationDate="2022-02-25" entryIntoForceDate="2022-02-25" numberTitle="2022/336 (OJ L53)" programme="{eu_program(p)}" logicalId="{logical_id + 100000}">'
        )
        out.append(
            "      <publicationUrl>https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=OJ:L:2022:053:FULL</publicationUrl>"
        )
        out.append("    </regulation>")
        code, cls = ("person", "P") if p.kind == "individual" else ("enterprise", "E")
        out.append(f'    <subjectType code="{code}" classificationCode="{cls}"/>')
        names = [(p.first, p.last)] + [
            split_first_last(a) if p.kind == "individual" else ("", a) for a in p.aliases
        ]
        for n, (first, last) in enumerate(names):
            whole = f"{first} {last.title() if p.kind == 'individual' else last}".strip()
            attrs = f"firstName={quoteattr(first.split()[0] if first else '')} middleName={quoteattr(' '.join(first.split()[1:]))} lastName={quoteattr(last.title() if p.kind == 'individual' else '')} wholeName={quoteattr(whole)}"
            out.append(
                f'    <nameAlias {attrs} function="" gender="" title="" nameLanguage="" strong="true" regulationLanguage="en" logicalId="{logical_id * 10 + n}"/>'
            )
        if p.native:
            out.append(
                f'    <nameAlias firstName="" middleName="" lastName="" wholeName={quoteattr(p.native)} function="" gender="" title="" nameLanguage="RU" strong="true" regulationLanguage="en" logicalId="{logical_id * 10 + 9}"/>'
            )
        if p.dob and p.kind == "individual":
            parts = p.dob.split("-")
            if len(parts) == 3:
                out.append(
                    f'    <birthdate circa="false" calendarType="GREGORIAN" city="" zipCode="" birthdate="{p.dob}" dayOfMonth="{int(parts[2])}" monthOfYear="{int(parts[1])}" year="{parts[0]}" region="" place="" countryIso2Code="00" countryDescription="UNKNOWN" regulationLanguage="en" logicalId="{logical_id + 200000}"/>'
                )
            else:
                out.append(
                    f'    <birthdate circa="false" calendarType="GREGORIAN" city="" zipCode="" year="{parts[0]}" region="" place="" countryIso2Code="00" countryDescription="UNKNOWN" regulationLanguage="en" logicalId="{logical_id + 200000}"/>'
                )
        for n, country in enumerate(p.countries if p.kind == "individual" else []):
            out.append(
                f'    <citizenship region="" countryIso2Code="{ISO2.get(country, "00")}" countryDescription="{escape(country.upper())}" regulationLanguage="en" logicalId="{logical_id + 300000 + n}"/>'
            )
        out.append("  </sanctionEntity>")
    out.append("</export>")
    return "\n".join(out) + "\n"


# -- UN -----------------------------------------------------------------------------------

UN_NATIONALITY = {
    "Korea, North": "Democratic People's Republic of Korea",
    "Syria": "Syrian Arab Republic",
    "Iran": "Iran (Islamic Republic of)",
    "Russia": "Russian Federation",
}


def un_xml(entries: list[tuple[int, Person]]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://www.un.org/sc/resources/sc-sanctions.xsd" dateGenerated="2026-11-27T00:00:09.554Z">',
        "  <INDIVIDUALS>",
    ]
    people = [(d, p) for d, p in entries if p.kind == "individual"]
    things = [(d, p) for d, p in entries if p.kind != "individual"]
    for dataid, p in people:
        given = p.first.upper().split()
        parts = (
            (given + p.last.split())[:4]
            if len(given) + len(p.last.split()) <= 4
            else [" ".join(given), p.last]
        )
        out.append(
            f"    <INDIVIDUAL>\n      <DATAID>{dataid}</DATAID>\n      <VERSIONNUM>1</VERSIONNUM>"
        )
        for tag, value in zip(
            ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"), parts, strict=False
        ):
            out.append(f"      <{tag}>{escape(value)}</{tag}>")
        list_type = (
            p.un_ref[:2]
            .replace("QD", "Al-Qaida")
            .replace("TA", "1988")
            .replace("CD", "DRC")
            .replace("KP", "DPRK")
        )
        out.append(
            f"      <UN_LIST_TYPE>{list_type}</UN_LIST_TYPE>\n      <REFERENCE_NUMBER>{p.un_ref}</REFERENCE_NUMBER>\n      <LISTED_ON>2001-01-25</LISTED_ON>"
        )
        if p.native:
            out.append(f"      <NAME_ORIGINAL_SCRIPT>{escape(p.native)}</NAME_ORIGINAL_SCRIPT>")
        out.append(
            "      <COMMENTS1>INTERPOL-UN Security Council Special Notice web link:https://www.interpol.int/en/How-we-work/Notices/View-UN-Notices-Individuals</COMMENTS1>"
        )
        if p.countries:
            out.append("      <NATIONALITY>")
            for country in p.countries:
                out.append(f"        <VALUE>{escape(UN_NATIONALITY.get(country, country))}</VALUE>")
            out.append("      </NATIONALITY>")
        out.append(
            "      <LIST_TYPE>\n        <VALUE>UN List</VALUE>\n      </LIST_TYPE>\n      <LAST_DAY_UPDATED>\n        <VALUE>2016-10-13</VALUE>\n      </LAST_DAY_UPDATED>"
        )
        for alias in p.aliases or [""]:
            quality = "Good" if alias else ""
            out.append(
                f"      <INDIVIDUAL_ALIAS>\n        <QUALITY>{quality}</QUALITY>\n        <ALIAS_NAME>{escape(alias)}</ALIAS_NAME>\n      </INDIVIDUAL_ALIAS>"
                if alias
                else "      <INDIVIDUAL_ALIAS>\n        <QUALITY/>\n        <ALIAS_NAME/>\n      </INDIVIDUAL_ALIAS>"
            )
        out.append("      <INDIVIDUAL_ADDRESS>\n        <COUNTRY/>\n      </INDIVIDUAL_ADDRESS>")
        if len(p.dob) == 10:
            out.append(
                f"      <INDIVIDUAL_DATE_OF_BIRTH>\n        <TYPE_OF_DATE>EXACT</TYPE_OF_DATE>\n        <DATE>{p.dob}</DATE>\n      </INDIVIDUAL_DATE_OF_BIRTH>"
            )
        elif p.dob:
            out.append(
                f"      <INDIVIDUAL_DATE_OF_BIRTH>\n        <TYPE_OF_DATE>EXACT</TYPE_OF_DATE>\n        <YEAR>{p.dob[:4]}</YEAR>\n      </INDIVIDUAL_DATE_OF_BIRTH>"
            )
        else:
            out.append(
                "      <INDIVIDUAL_DATE_OF_BIRTH>\n        <TYPE_OF_DATE/>\n      </INDIVIDUAL_DATE_OF_BIRTH>"
            )
        out.append(
            "      <INDIVIDUAL_PLACE_OF_BIRTH>\n        <COUNTRY/>\n      </INDIVIDUAL_PLACE_OF_BIRTH>\n      <INDIVIDUAL_DOCUMENT/>\n      <SORT_KEY/>\n      <SORT_KEY_LAST_MOD/>\n    </INDIVIDUAL>"
        )
    out.append("  </INDIVIDUALS>\n  <ENTITIES>")
    for dataid, p in things:
        list_type = p.un_ref[:2].replace("QD", "Al-Qaida").replace("KP", "DPRK")
        out.append(
            f"    <ENTITY>\n      <DATAID>{dataid}</DATAID>\n      <VERSIONNUM>1</VERSIONNUM>\n      <FIRST_NAME>{escape(p.last)}</FIRST_NAME>\n      <UN_LIST_TYPE>{list_type}</UN_LIST_TYPE>\n      <REFERENCE_NUMBER>{p.un_ref}</REFERENCE_NUMBER>\n      <LISTED_ON>2009-04-24</LISTED_ON>"
        )
        if p.native:
            out.append(f"      <NAME_ORIGINAL_SCRIPT>{escape(p.native)}</NAME_ORIGINAL_SCRIPT>")
        out.append(
            "      <LIST_TYPE>\n        <VALUE>UN List</VALUE>\n      </LIST_TYPE>\n      <LAST_DAY_UPDATED>\n        <VALUE>2017-01-30</VALUE>\n      </LAST_DAY_UPDATED>"
        )
        for alias in p.aliases:
            out.append(
                f"      <ENTITY_ALIAS>\n        <QUALITY>Good</QUALITY>\n        <ALIAS_NAME>{escape(alias)}</ALIAS_NAME>\n      </ENTITY_ALIAS>"
            )
        out.append(
            "      <ENTITY_ADDRESS>\n        <COUNTRY/>\n      </ENTITY_ADDRESS>\n      <SORT_KEY/>\n      <SORT_KEY_LAST_MOD/>\n    </ENTITY>"
        )
    out.append("  </ENTITIES>\n</CONSOLIDATED_LIST>")
    return "\n".join(out) + "\n"


# -- UK -----------------------------------------------------------------------------------

UK_HEADER = [
    "Last Updated",
    "Unique ID",
    "OFSI Group ID",
    "UN Reference Number",
    "Name 6",
    "Name 1",
    "Name 2",
    "Name 3",
    "Name 4",
    "Name 5",
    "Name type",
    "Alias strength",
    "Title",
    "Name non-latin script",
    "Non-latin script type",
    "Non-latin script language",
    "Regime Name",
    "Designation Type",
    "Designation source",
    "Sanctions Imposed",
    "Other Information",
    "UK Statement of Reasons",
    "Address Line 1",
    "Address Line 2",
    "Address Line 3",
    "Address Line 4",
    "Address Line 5",
    "Address Line 6",
    "Address Postal Code",
    "Address Country",
    "Phone number",
    "Website",
    "Email address",
    "Date Designated",
    "D.O.B",
    "Nationality(/ies)",
    "National Identifier number",
    "National Identifier additional information",
    "Passport number",
    "Passport additional information",
    "Position",
    "Gender",
    "Town of birth",
    "Country of birth",
    "Type of entity",
    "Subsidiaries",
    "Parent company",
    "Business registration number (s)",
    "IMO number",
    "Current owner/operator (s)",
    "Previous owner/operator (s)",
    "Current believed flag of ship",
    "Previous flags",
    "Type of ship",
    "Tonnage of ship",
    "Length of ship",
    "Year Built",
    "Hull identification number (HIN)",
]
UK_REGIME = {
    "Russia": ("Russia", "RUS"),
    "Belarus": ("Belarus", "BEL"),
    "Korea, North": ("Democratic People's Republic of Korea", "DPR"),
    "Syria": ("Syria", "SYR"),
    "Venezuela": ("Venezuela", "VEN"),
    "Iran": ("Iran", "IRN"),
    "Myanmar": ("Myanmar", "MYA"),
    "Ukraine": ("Russia", "RUS"),
    "Democratic Republic of the Congo": ("Democratic Republic of the Congo", "DRC"),
    "Rwanda": ("Democratic Republic of the Congo", "DRC"),
    "Afghanistan": ("Afghanistan", "AFG"),
}


def uk_csv(entries: list[tuple[int, Person]]) -> str:
    buffer = io.StringIO()
    buffer.write("Report Date: 27-Nov-2026\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(UK_HEADER)
    counters: dict[str, int] = {}
    for group_id, p in entries:
        regime, prefix = UK_REGIME.get(
            p.countries[0] if p.countries else "", ("ISIL (Da'esh) and Al-Qaida", "AQD")
        )
        if p.kind != "individual" and p.last in {
            "ROSNEFT OIL COMPANY",
            "PMC WAGNER",
            "PUBLIC JOINT STOCK COMPANY SBERBANK OF RUSSIA",
        }:
            regime, prefix = "Russia", "RUS"
        if (p.kind != "individual" and "IRAN" in p.last) or p.last in {
            "ISLAMIC REVOLUTIONARY GUARD CORPS",
            "MAHAN AIR",
        }:
            regime, prefix = "Iran", "IRN"
        if p.last == "KOREA KWANGSON BANKING CORP":
            regime, prefix = "Democratic People's Republic of Korea", "DPR"
        counters[prefix] = counters.get(prefix, 0) + 1
        unique_id = f"{prefix}{counters[prefix]:04d}"
        names = [(p.first, p.last, "Primary Name")] + [
            (*split_first_last(a), "Alias") if p.kind == "individual" else ("", a, "Alias")
            for a in p.aliases
        ]
        dob = ""
        if p.dob:
            parts = [*p.dob.split("-"), "00", "00"]
            dob = f"{parts[2]}/{parts[1]}/{parts[0]}"
        kind = "Individual" if p.kind == "individual" else "Entity"
        for n, (first, last, name_type) in enumerate(names):
            given = first.split()
            row = {h: "" for h in UK_HEADER}
            row.update(
                {
                    "Last Updated": "15/03/2024",
                    "Unique ID": unique_id,
                    "OFSI Group ID": str(group_id),
                    "UN Reference Number": p.un_ref,
                    "Name 6": last,
                    "Name type": name_type,
                    "Alias strength": "" if name_type.startswith("Primary") else "Good quality",
                    "Name non-latin script": p.native if n == 0 else "",
                    "Non-latin script type": "Cyrillic"
                    if n == 0 and p.native and any("\u0400" <= c <= "\u04ff" for c in p.native)
                    else ("Arabic" if n == 0 and p.native else ""),
                    "Regime Name": regime,
                    "Designation Type": kind,
                    "Designation source": "UN" if p.un_ref else "UK",
                    "Sanctions Imposed": "Asset freeze|Travel Ban"
                    if kind == "Individual"
                    else "Asset freeze",
                    "Date Designated": "24/02/2022",
                    "D.O.B": dob if kind == "Individual" else "",
                    "Nationality(/ies)": " ".join(
                        f"({i}) {c}" for i, c in enumerate(p.countries, 1)
                    )
                    if kind == "Individual"
                    else "",
                }
            )
            for i, word in enumerate(given[:5], 1):
                row[f"Name {i}"] = word
            writer.writerow([row[h] for h in UK_HEADER])
    return buffer.getvalue()


def assign(lst: str, base: int, step: int = 1) -> list[tuple[int, Person]]:
    return [(base + n * step, p) for n, p in enumerate(p for p in ROSTER if member(p, lst))]


def write_samples(folder: Path = SAMPLES) -> None:
    (folder / "ofac-csv").mkdir(parents=True, exist_ok=True)
    ofac = assign("ofac", 35090, 7)
    (folder / "ofac_sdn.xml").write_text(ofac_xml(ofac), encoding="utf-8")
    sdn, alt = ofac_csv(ofac)
    (folder / "ofac-csv" / "sdn.csv").write_text(sdn, encoding="utf-8")
    (folder / "ofac-csv" / "alt.csv").write_text(alt, encoding="utf-8")
    (folder / "eu_fsf.xml").write_text(eu_xml(assign("eu", 13000, 11)), encoding="utf-8")
    (folder / "un_consolidated.xml").write_text(un_xml(assign("un", 6908001, 3)), encoding="utf-8")
    (folder / "uk_sanctions_list.csv").write_text(uk_csv(assign("uk", 14100, 13)), encoding="utf-8")


if __name__ == "__main__":
    write_samples()
