"""Observations of the assessment results as OSCAL JSON text, a million at a time: each
from a template of its shape, filled with values checked to need no escaping (else
serialised and validated on its own), and what they leave for the findings (`Run`).
Apart from the rest of the OSCAL documents: the worker processes that observe slices of
a period import this, and trestle's models only when an observation needs them."""

from __future__ import annotations

import array
import itertools
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

NS = "https://paygod.dev/ns/oscal"


def ns_prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": str(value)}


EVIDENCE_KEYS = ("evidence-record-hash", "evidence-seq", "input-hash", "measurements-digest")
EVIDENCE_SLOTS = tuple("evidence_" + k.replace("-", "_") for k in EVIDENCE_KEYS)
# The values an observation is built from (all text). MADE_SLOTS are made by Paygod as it
# proves the entry (digits, hex, a uuid, a word); READ_* are read from the ledger, as
# property values (OSCAL: no space at either end) or other text. The optional ones
# (audit path, evidence, remarks) are left out when empty.
MADE_SLOTS = ("uuid", "seq", "leaf_hash", "verification", "audit_path")
READ_PROP_SLOTS = ("record_hash", "decision")
READ_TEXT_SLOTS = ("title", "pack", "rule", "refs", "kind", "entry_id", "collected")
SLOTS = (*MADE_SLOTS, *READ_PROP_SLOTS, *READ_TEXT_SLOTS, *EVIDENCE_SLOTS, "remarks")
OPTIONAL_SLOTS = ("audit_path", *EVIDENCE_SLOTS, "remarks")


Values = tuple[str, ...]  # an observation's values, in SLOTS order
_AT = {name: i for i, name in enumerate(SLOTS)}
# The values checked plain as text: those read from the ledger (but `collected`, an
# instant) and the remarks.
_TEXTS = operator.itemgetter(*(_AT[k] for k in (*READ_TEXT_SLOTS, "remarks") if k != "collected"))
_SHAPE = operator.itemgetter(*(_AT[k] for k in OPTIONAL_SLOTS))
COLLECTED, VERIFICATION, UUID = _AT["collected"], _AT["verification"], _AT["uuid"]


def observation(v: Mapping[str, str]) -> dict[str, Any]:
    """An observation of one sealed decision: its seal (seq, record hash, leaf, audit
    path against the head) and what it decided. `v` holds the SLOTS; an empty audit path,
    evidence or remarks is left out."""
    props = [
        ns_prop("ledger-seq", v["seq"]),
        ns_prop("record-hash", v["record_hash"]),
        ns_prop("leaf-hash", v["leaf_hash"]),
        ns_prop("verification", v["verification"]),
        ns_prop("decision", v["decision"]),
    ]
    if v["audit_path"]:
        props.append(ns_prop("audit-path", v["audit_path"]))
    pairs = zip(EVIDENCE_KEYS, EVIDENCE_SLOTS, strict=True)
    evidence = [ns_prop(k, v[slot]) for k, slot in pairs if v[slot]]
    found: dict[str, Any] = {
        "uuid": v["uuid"],
        "title": f"decision {v['title']}",
        "description": f"Decision '{v['decision']}' by pack {v['pack']} rule {v['rule']}; "
        f"controls exercised: {v['refs']}.",
        "props": props,
        "methods": ["TEST"],
        "types": ["control-objective"],
        "relevant-evidence": [
            {
                "href": f"urn:paygod:ledger:{v['seq']}",
                "description": f"sealed {v['kind']} entry {v['entry_id']}",
                **({"props": evidence} if evidence else {}),
            }
        ],
        "collected": v["collected"],
    }
    if v["remarks"]:
        found["remarks"] = v["remarks"]
    return found


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _plain_props(joined: str) -> bool:
    """Property values joined by "|": each plain, none empty, none with a space at
    either end (OSCAL's string form)."""
    return (
        _plain(joined)
        and "||" not in joined
        and " |" not in joined
        and "| " not in joined
        and joined[0] not in " |"
        and joined[-1] not in " |"
    )


class _Shape:
    """An observation's JSON for values of one shape (which optional slots are filled):
    the text with a %s per value, in the order the text has them, and which values fill
    them and which are property values."""

    def __init__(self, v: Values) -> None:
        named = dict(zip(SLOTS, v, strict=True))
        marks = {k: (f"\x00{k}\x00" if named[k] or k not in OPTIONAL_SLOTS else "") for k in SLOTS}
        text = orjson.dumps(observation(marks)).decode().replace("%", "%%")
        found = re.compile("\\\\u0000(" + "|".join(SLOTS) + ")\\\\u0000")
        order = [_AT[m.group(1)] for m in found.finditer(text)]
        self.template = found.sub("%s", text)
        self.values = operator.itemgetter(*order)
        self.props = operator.itemgetter(
            *(
                _AT[k]
                for k in (*READ_PROP_SLOTS, *EVIDENCE_SLOTS)
                if k in READ_PROP_SLOTS or named[k]
            )
        )


def _shape_key(v: Values) -> tuple[bool, ...]:
    return tuple(map(operator.truth, _SHAPE(v)))


class Observations:
    """Observations as JSON text: a batch by templates when all its values are plain, else
    each by template when plain, else serialised and validated on its own (see above)."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[bool, ...], _Shape] = {}
        self._time = ""  # the last `collected` found an OSCAL date-time (a batch shares one)

    def _instant(self, text: str) -> bool:
        if _TIME.fullmatch(text) is None:
            return False
        self._time = text
        return True

    def _shape(self, v: Values) -> _Shape | None:
        return self._shapes.get(_shape_key(v))

    def texts(self, batch: Sequence[Values]) -> list[str]:
        """The texts of a batch: by template at once when every observation has a known
        shape and plain values, else one by one (`text`)."""
        shapes = self._shapes
        lines: list[str] = []
        props: list[tuple[str, ...]] = []
        texts: list[tuple[str, ...]] = []
        time = self._time
        for v in batch:
            shape = shapes.get(tuple(map(operator.truth, _SHAPE(v))))  # _shape_key
            if shape is None or (v[COLLECTED] != time and not self._instant(v[COLLECTED])):
                return [self.text(v) for v in batch]
            time = self._time
            props.append(shape.props(v))
            texts.append(_TEXTS(v))
            lines.append(shape.template % shape.values(v))
        if not lines:
            return lines
        chain = itertools.chain.from_iterable
        if _plain_props("|".join(chain(props))) and _plain("".join(chain(texts))):
            return lines
        return [self.text(v) for v in batch]

    def text(self, v: Values) -> str:
        shape = self._shape(v)
        if shape is not None:
            props = "|".join(shape.props(v))
            if (
                _plain_props(props)
                and _plain("".join(_TEXTS(v)))
                and (v[COLLECTED] == self._time or self._instant(v[COLLECTED]))
            ):
                line: str = shape.template % shape.values(v)
                return line
        text = orjson.dumps(observation(dict(zip(SLOTS, v, strict=True)))).decode()
        from trestle.oscal.common import Observation  # once an observation needs it

        Observation.model_validate_json(text)  # raises pydantic's ValidationError
        if shape is None:
            self._shapes[_shape_key(v)] = _Shape(v)
        return text


Observed = tuple[Values, tuple[str, ...]]  # an observation's values, its controls
BATCH = 2000  # observations per part written
SEPARATOR = b",\n"  # between two observations' texts


@dataclass
class Run:
    """What a run of observations leaves for the findings: their uuids in document order,
    the set of controls each exercised (by number: a few sets for a million), how many
    failed per control, and the first one's text (validated with the document). Runs
    observed apart, in worker processes, are joined in seq order (`extend`)."""

    uuids: list[str] = field(default_factory=list)
    sets: dict[tuple[str, ...], int] = field(default_factory=dict)
    set_of: array.array[int] = field(default_factory=lambda: array.array("I"))
    failed: dict[str, int] = field(default_factory=dict)
    first: str | None = None

    def extend(self, later: Run) -> None:
        numbers = [0] * len(later.sets)
        for refs, number in later.sets.items():
            numbers[number] = self.sets.setdefault(refs, len(self.sets))
        self.uuids.extend(later.uuids)
        renumbered = np.array(numbers, dtype=np.uint32)[np.frombuffer(later.set_of, np.uint32)]
        self.set_of.frombytes(renumbered.tobytes())
        for ref, count in later.failed.items():
            self.failed[ref] = self.failed.get(ref, 0) + count
        if self.first is None:
            self.first = later.first

    def by_control(self) -> dict[str, list[str]]:
        """control ref -> the uuids of the observations that exercised it, in order (a
        control of every set: all of them, the same list)."""
        found: dict[str, list[str]] = {}
        numbers = np.frombuffer(self.set_of, dtype=np.uint32)
        for ref in {ref for refs in self.sets for ref in refs}:
            within = np.array([ref in refs for refs in self.sets], dtype=np.uint8)
            if within.all():
                found[ref] = self.uuids
                continue
            found[ref] = list(itertools.compress(self.uuids, within[numbers].tobytes()))
        return found


def observation_texts(observed: Iterable[Observed], run: Run) -> Iterator[bytes]:
    """The observations' JSON texts as one stream of bytes, separated by ",\\n", in parts
    of BATCH; each is recorded in `run` as it passes."""
    texts = Observations()
    uuids, sets, set_of, failed = run.uuids, run.sets, run.set_of, run.failed
    pending: list[Values] = []
    lead = b""
    for v, refs in observed:
        pending.append(v)
        uuids.append(v[UUID])
        number = sets.get(refs)
        if number is None:
            number = sets[refs] = len(sets)
        set_of.append(number)
        if v[VERIFICATION] != "verified":
            for ref in refs:
                failed[ref] = failed.get(ref, 0) + 1
        if len(pending) >= BATCH:
            yield from _part(texts.texts(pending), lead, run)
            pending, lead = [], SEPARATOR
    if pending:
        yield from _part(texts.texts(pending), lead, run)


def _part(batch: list[str], lead: bytes, run: Run) -> Iterator[bytes]:
    if run.first is None:
        run.first = batch[0]
    if lead:
        yield lead  # its own part: the batch's megabytes are not copied to prefix it
    yield ",\n".join(batch).encode()
