"""OSCAL documents built (and so validated) with compliance-trestle's pydantic models.

Deterministic: UUIDs are v5 of the content, times come from the ledger and the tree head
(never the wall clock), lists are sorted; `to_json` writes one spelling. trestle 5.2
models OSCAL 1.2.1, which keeps the 1.1.x JSON shapes used here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson
from trestle.oscal import OSCAL_VERSION
from trestle.oscal import assessment_results as ar
from trestle.oscal import common as oc
from trestle.oscal import component as cd
from trestle.oscal import poam as pm
from trestle.oscal.common import OscalVersion

from paygod.assurance.controls import oscal_control_id, pack_controls
from paygod.assurance.model import Basis, content_uuid
from paygod.assurance.observation_text import NS, Run, ns_prop
from paygod.cases.model import Case
from paygod.decisions.control_catalog import Control, catalogs
from paygod.decisions.model import Pack
from paygod.kernel.clock import parse_instant

CATALOG_HREF = {
    "nist-800-53": "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/"
    "SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json",
    "pci-dss-4": "https://www.pcisecuritystandards.org/document_library/",
    "soc2": "https://www.aicpa-cima.com/resources/download/"
    "2017-trust-services-criteria-with-revised-points-of-focus-2022",
}


def prop(name: str, value: object) -> oc.Property:
    """A Paygod property (OSCAL requires a namespace for names it does not define)."""
    return oc.Property(name=name, value=str(value), ns=NS)


def _metadata(title: str, basis_time: str, version: str) -> oc.Metadata:
    return oc.Metadata(
        title=title,
        last_modified=parse_instant(basis_time),
        version=version,
        oscal_version=OscalVersion(OSCAL_VERSION),
    )


def to_json(model: Any, root: str) -> bytes:
    # orjson keeps the models' member order and writes one spelling (UTF-8, 2-space
    # indent): the same document always serialises to the same bytes, ten times faster
    # than the json module on documents of a million observations.
    body = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return orjson.dumps({root: body}, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


# -- component definition --------------------------------------------------------------


def component_definition(packs: Sequence[Pack], version: str, at: str) -> cd.ComponentDefinition:
    """Paygod as one software component; each control its loaded packs name is an
    implemented requirement listing the packs and rules that enforce it."""
    by_control: dict[str, list[tuple[Pack, list[str]]]] = {}
    for pack in sorted(packs, key=lambda p: (p.name, p.digest)):
        for ref, rules in pack_controls(pack).items():
            by_control.setdefault(ref, []).append((pack, rules))
    implementations = []
    for framework, catalog in catalogs().items():
        requirements = [
            _requirement(c, by_control[c.ref]) for c in catalog.controls if c.ref in by_control
        ]
        if requirements:
            implementations.append(
                cd.ControlImplementation(
                    uuid=content_uuid("control-implementation", framework, catalog.version),
                    source=CATALOG_HREF[framework],
                    description=f"{catalog.title}, version {catalog.version}",
                    props=[prop("framework", framework), prop("catalog-version", catalog.version)],
                    implemented_requirements=requirements,
                )
            )
    digests = ",".join(p.digest for p in sorted(packs, key=lambda p: p.name))
    component = cd.DefinedComponent(
        uuid=content_uuid("component", "paygod"),
        type="software",
        title="Paygod",
        description="Governed execution kernel: decides with versioned policy packs, seals "
        "every decision and its evidence in a hash-chained, Merkle-proven ledger.",
        props=[prop("version", version)]
        + [prop("pack", f"{p.name}@{p.version}") for p in sorted(packs, key=lambda p: p.name)],
        control_implementations=implementations or None,
    )
    return cd.ComponentDefinition(
        uuid=content_uuid("component-definition", version, digests),
        metadata=_metadata("Paygod component definition", at, version),
        components=[component],
    )


def _requirement(
    control: Control, packs: list[tuple[Pack, list[str]]]
) -> cd.ImplementedRequirement:
    lines = [f"{p.name} {p.version}: rules {', '.join(rules)}" for p, rules in packs]
    return cd.ImplementedRequirement(
        uuid=content_uuid("implemented-requirement", control.ref, *lines),
        control_id=oscal_control_id(control.ref),
        description=f"{control.title}. Enforced by policy packs:\n" + "\n".join(lines),
        props=[prop("control", control.ref)]
        + [prop("pack-digest", f"sha256:{p.digest}") for p, _ in packs],
    )


# -- assessment results ----------------------------------------------------------------
#
# A period may hold a million observations, some two gigabytes of JSON: the document is
# written as it is built, one observation a line. `observation` is the one statement of
# an observation's shape. Each shape it takes (with or without an audit path, evidence,
# remarks) is turned once into a template of its JSON with slots for the values, and
# trestle validates the first observation of every shape; an observation then takes the
# template when each of its values is plain text (printable ASCII, no quote or
# backslash: its own JSON string content, and a valid OSCAL string where a property value
# must not start or end with a space). Any other observation is serialised on its own
# and validated by trestle's Observation model, which refuses it if OSCAL does.


def finding(control: Control, observed: Sequence[str], failed: int) -> dict[str, Any]:
    """satisfied when the control was exercised in the period and every observation of it
    (`observed`: their uuids) still verifies against the head; else not-satisfied, saying
    why. The related observations are left to `_finding_parts`."""
    if not observed:
        state, reason = "not-satisfied", "no sealed decision in the period exercised it"
    elif failed:
        state, reason = "not-satisfied", f"{failed} observation(s) do not verify"
    else:
        state, reason = "satisfied", f"{len(observed)} verified observation(s)"
    return {
        "uuid": content_uuid("finding", control.ref, state, len(observed), failed),
        "title": f"{control.ref} {control.title}",
        "description": reason,
        "props": [ns_prop("control", control.ref)],
        "target": {
            "type": "objective-id",
            "target-id": f"{oscal_control_id(control.ref)}_obj",
            "status": {"state": state},
        },
    }


_MARK = "\x00mark\x00"
_MARK_JSON = '"\\u0000mark\\u0000"'


def assessment_results(
    basis: Basis,
    observed: Iterable[bytes],
    run: Run,
    controls: Callable[[Iterable[str]], list[Control]],
    version: str,
) -> Iterator[bytes]:
    """The document's bytes, in parts: the head, the observations' texts as `observed`
    streams them (separated by ",\\n"; `run` records them as they pass, and is whole once
    the stream ends), then the reviewed controls and findings per control (`controls`
    lists them from the refs the observations exercised). The document's values are
    validated by trestle (pydantic's ValidationError is raised, at the latest before the
    last part): every observation as `Observations` says, the rest of the document with
    its first observation and one related observation per finding (the others are uuids
    made alike). "reviewed-controls" follows the observations: the controls they
    exercised are known only once they are all written (member order carries no meaning
    in OSCAL)."""
    document, result = _skeleton(basis, version)
    parts = iter(observed)
    first = next((part for part in parts if part), None)
    head = ""
    if first is not None:
        result["observations"] = [_MARK]
        head = _json(document).split(_MARK_JSON)[0] + "\n"
        yield head.encode()
        yield first
        yield from parts
    by_control = run.by_control()
    reviewed = controls(by_control)
    result["reviewed-controls"] = {
        "control-selections": [
            {"include-controls": [{"control-id": oscal_control_id(c.ref)} for c in reviewed]}
            if reviewed
            else {"include-all": {}}
        ]
    }
    findings = [
        (
            finding(c, by_control.get(c.ref, ()), run.failed.get(c.ref, 0)),
            by_control.get(c.ref, ()),
        )
        for c in reviewed
    ]
    if findings:
        result["findings"] = [_MARK]
    _validate(document, result, run.first, findings)
    whole = _json(document)
    if first is not None:
        if not whole.startswith(head[:-1] + _MARK_JSON):
            raise AssertionError("the document's head changed while it was written")
        whole = "\n" + whole[len(head) - 1 + len(_MARK_JSON) :]
    if not findings:
        yield (whole + "\n").encode()
        return
    # The findings in parts too: a million decisions give each a million related uuids,
    # and one text of them all, replaced into the document and encoded, is copied four
    # times over (seconds of page faults for its hundreds of megabytes).
    before, after = whole.split(_MARK_JSON)
    yield before.encode()
    for i, (found, related) in enumerate(findings):
        if i:
            yield b",\n"
        yield from _finding_parts(found, related)
    yield (after + "\n").encode()


_RELATED = '"},{"observation-uuid":"'
RELATED_PART = 50_000  # related uuids per part


def _finding_parts(found: dict[str, Any], observed: Sequence[str]) -> Iterator[bytes]:
    """The finding's JSON with its related observations (a million uuids: joined as
    text, not a million objects serialised), in parts."""
    text = orjson.dumps(found).decode()
    if not observed:
        yield text.encode()
        return
    yield f'{text[:-1]},"related-observations":[{{"observation-uuid":"'.encode()
    for at in range(0, len(observed), RELATED_PART):
        lead = _RELATED if at else ""
        yield (lead + _RELATED.join(observed[at : at + RELATED_PART])).encode()
    yield b'"}]}'


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _skeleton(basis: Basis, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head = basis.head
    period = basis.period.as_dict()
    result: dict[str, Any] = {
        "uuid": content_uuid("result", basis.tenant_id, head.root_hash, *period.values()),
        "title": "Paygod assessment {from} to {to}".format(**period),
        "description": f"Sealed decisions of tenant {basis.tenant_id}, each proven against "
        f"the signed tree head of size {head.tree_size} (root {head.root_hash}).",
        "start": period["from"],
        "end": period["to"],
        "props": [
            ns_prop("tenant", basis.tenant_id),
            ns_prop("tree-size", head.tree_size),
            ns_prop("root-hash", head.root_hash),
            ns_prop("tree-head-timestamp", head.timestamp),
            ns_prop("tree-head-key-id", head.key_id),
            ns_prop("tree-head-signature", head.signature),
        ],
    }
    document = {
        "assessment-results": {
            "uuid": content_uuid("assessment-results", result["uuid"]),
            "metadata": {
                "title": "Paygod assessment results",
                "last-modified": head.timestamp,
                "version": version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": f"urn:paygod:assessment-plan:{basis.tenant_id}"},
            "results": [result],
        }
    }
    return document, result


def _validate(
    document: dict[str, Any],
    result: dict[str, Any],
    first: str | None,
    findings: Sequence[tuple[dict[str, Any], Sequence[str]]],
) -> None:
    """The document through trestle's `assessment_results.Model`, with its first
    observation and each finding with its first related observation in place."""
    kept: dict[str, Any] = {k: result[k] for k in ("observations", "findings") if k in result}
    if first is not None:
        result["observations"] = [orjson.loads(first)]
    if findings:
        result["findings"] = [
            {**f, **({"related-observations": [{"observation-uuid": o[0]}]} if o else {})}
            for f, o in findings
        ]
    try:
        ar.Model.model_validate_json(_json(document))
    finally:
        result.update(kept)


# -- plan of action and milestones -----------------------------------------------------


def poam(basis: Basis, cases: Iterable[Case], version: str) -> pm.PlanOfActionAndMilestones:
    items = [
        pm.PoamItem(
            uuid=content_uuid("poam-item", case.case_id),
            title=f"case {case.case_id}: {case.alert_type}",
            description=f"Open case on {case.subject} ({case.status.value}), opened "
            f"{case.opened_at}, assignee {case.assignee or 'none'}; "
            f"{len(case.alerts)} alert(s).",
            props=[
                prop("case-id", case.case_id),
                prop("status", case.status.value),
                prop("opened-at", case.opened_at),
            ]
            + [prop("ledger-seq", h["seq"]) for h in case.history if h.get("seq") is not None],
        )
        for case in sorted(cases, key=lambda c: (c.opened_at, c.case_id))
    ]
    if not items:  # OSCAL requires one item at least: say there is nothing to do
        items = [
            pm.PoamItem(
                uuid=content_uuid("poam-item", "none", basis.tenant_id),
                title="no open cases",
                description="No case was open at the end of the period.",
                props=[prop("status", "none")],
            )
        ]
    head = basis.head
    return pm.PlanOfActionAndMilestones(
        uuid=content_uuid(
            "poam", basis.tenant_id, head.root_hash, *basis.period.as_dict().values()
        ),
        metadata=_metadata("Paygod plan of action and milestones", head.timestamp, version),
        system_id=oc.SystemId(
            identifier_type="https://paygod.dev",
            id=f"paygod-{basis.tenant_id}",
        ),
        poam_items=items,
    )
