"""Assurance use cases: OSCAL documents and regulatory reports for a period, computed from
the ledger against a verified signed tree head. Reads only: nothing is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from paygod.assurance import oscal, reports
from paygod.assurance.basis import basis, period_entries, scan_window, seal_rows
from paygod.assurance.controls import DecisionControls, PackSource, known, pack_controls
from paygod.assurance.model import Basis, ContentUuids, Period
from paygod.cases.model import Case, CaseStatus, CaseStep
from paygod.decisions.control_catalog import Control
from paygod.decisions.model import Pack
from paygod.decisions.packs import compile_pack
from paygod.decisions.service import PACK_KIND, pack_subject
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.ledger import LedgerService
from paygod.ledger.model import Entry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DOCUMENTS = ("component-definition", "assessment-results", "poam")


class AssuranceService:
    def __init__(self, ledger: LedgerService, packs: PackSource, version: str) -> None:
        self.ledger = ledger
        self.packs = packs
        self.version = version

    def basis(self, tenant_id: str, period: Period, tree_size: int | None = None) -> Basis:
        return basis(self.ledger, tenant_id, period, tree_size)

    # -- OSCAL ---------------------------------------------------------------------------

    def document(
        self, kind: str, tenant_id: str, period: Period, tree_size: int | None = None
    ) -> bytes:
        if kind == "component-definition":
            return self.component_definition(period, tenant_id, tree_size)
        if kind not in DOCUMENTS:
            raise NotFound(
                f"unknown OSCAL document {kind!r} (known: {', '.join(DOCUMENTS)})",
                errors=[FieldError("/kind", f"one of {', '.join(DOCUMENTS)}")],
            )
        base = self.basis(tenant_id, period, tree_size)
        if kind == "assessment-results":
            return self.assessment(base)
        return oscal.to_json(
            oscal.poam(base, self.open_cases(base), self.version), "plan-of-action-and-milestones"
        )

    def document_parts(
        self, kind: str, tenant_id: str, period: Period, tree_size: int | None = None
    ) -> Iterator[bytes]:
        """`document` in parts: the assessment results as they are built (a period of a
        million decisions makes gigabytes). A bad request raises here, before any part."""
        if kind == "assessment-results":
            return self.assessment_parts(self.basis(tenant_id, period, tree_size))
        return iter([self.document(kind, tenant_id, period, tree_size)])

    def component_definition(
        self, period: Period, tenant_id: str, tree_size: int | None = None
    ) -> bytes:
        # Dated by the head the period is judged by, so it regenerates identically.
        base = self.basis(tenant_id, period, tree_size)
        doc = oscal.component_definition(self.packs.packs(), self.version, base.head.timestamp)
        return oscal.to_json(doc, "component-definition")

    def controls(self) -> list[Control]:
        refs = {ref for pack in self.packs.packs() for ref in pack_controls(pack)}
        return known(refs)

    def assessment(self, base: Basis) -> bytes:
        return b"".join(self.assessment_parts(base))

    def assessment_parts(self, base: Basis) -> Iterator[bytes]:
        """The assessment results document in parts, as the period's decisions are read
        (one streaming scan) and proven against the head."""
        mapper = DecisionControls(lambda name, digest: self._pack(base, name, digest))
        evidence = self._evidence(base)
        rows = self.ledger.store.scan(scan_window(base, ("decision",)))
        observation_uuid = ContentUuids("observation")

        refs_texts: dict[tuple[str, ...], str] = {}

        def observed() -> Iterator[oscal.Observed]:
            # The values in oscal.SLOTS order (a tuple: a million are made).
            for row, leaf, path, problem in seal_rows(self.ledger, base.head, rows):
                try:  # _payload, inline: a million rows
                    payload = orjson.loads(row[5])
                except orjson.JSONDecodeError:
                    payload = {}
                if type(payload) is not dict:
                    payload = {}
                refs = mapper.of(payload)
                refs_text = refs_texts.get(refs)
                if refs_text is None:
                    refs_text = refs_texts[refs] = ", ".join(refs) or "-"
                decision_id = payload.get("decision_id")
                get = payload.get
                yield (
                    (
                        (
                            observation_uuid.of_pair(row[0], row[11]),
                            str(row[0]),
                            leaf,
                            "verified" if problem is None else "failed",
                            path,
                            row[11],
                            str(get("decision", "-")),
                            str(decision_id if decision_id is not None else row[1]),
                            str(get("pack")),
                            str(get("rule")),
                            refs_text,
                            row[2],
                            row[1],
                            row[6],
                            *evidence.get(str(decision_id), NO_EVIDENCE),
                            problem or "",
                        )
                    ),
                    refs,
                )

        loaded = {c.ref for c in self.controls()}
        yield from oscal.assessment_results(
            base, observed(), lambda refs: known({*refs, *loaded}), self.version
        )

    def _pack(self, base: Basis, name: str, digest: str) -> Pack | None:
        """The pack that decided, as sealed in the ledger (its source is recorded the first
        time it decides, before the head): the mapping to controls then rests on the ledger
        alone, whatever packs are loaded now. The loaded packs are asked only for a pack the
        ledger does not hold."""
        for entry in self.ledger.history(pack_subject(name)):
            if entry.seq >= base.head.tree_size or entry.kind != PACK_KIND:
                continue
            if entry.payload.get("digest") == digest and isinstance(
                source := entry.payload.get("source"), str
            ):
                try:
                    return compile_pack(source.encode(), Path(f"{name}/pack.yaml"))
                except InvalidInput:  # sealed before its controls were known: none
                    return None
        return self.packs.by_digest(digest)

    def _evidence(self, base: Basis) -> dict[str, tuple[str, str, str, str]]:
        """Per decision_id, the digests of its evidence: the evidence entry's record hash
        and seq, the input and measurements digests it cites (as observation slots)."""
        evidence: dict[str, tuple[str, str, str, str]] = {}
        for row in self.ledger.store.scan(scan_window(base, ("evidence",))):
            payload = _payload(row[5])
            evidence[str(payload.get("decision_id"))] = (
                row[11],
                str(row[0]),
                str(payload.get("input_hash")),
                str(payload.get("measurements")),
            )
        return evidence

    def open_cases(self, base: Basis) -> list[Case]:
        """Cases folded from their sealed steps up to the period's end, still open then."""
        cases: dict[str, Case] = {}
        for entry in self._tenant_entries_until_end(base):
            if not entry.kind.startswith("case."):
                continue
            data = dict(entry.payload)
            case_id = str(data.get("case_id"))
            if entry.kind == CaseStep.OPENED.value:
                cases[case_id] = Case.opened(data, str(data.get("at")), entry.seq)
            elif case_id in cases:
                step = CaseStep(entry.kind)
                cases[case_id] = cases[case_id].apply(step, data, str(data.get("at")), entry.seq)
        return [c for c in cases.values() if c.status is not CaseStatus.CLOSED]

    def _tenant_entries_until_end(self, base: Basis) -> Iterator[Entry]:
        opened = Basis(base.tenant_id, Period(_EPOCH, base.period.end), base.head)
        yield from period_entries(self.ledger, opened)

    # -- reports -------------------------------------------------------------------------

    def report(
        self, kind: str, tenant_id: str, period: Period, tree_size: int | None = None
    ) -> dict[str, Any]:
        builder = reports.BUILDERS.get(kind)
        if builder is None:
            raise NotFound(
                f"unknown report {kind!r} (known: {', '.join(reports.BUILDERS)})",
                errors=[FieldError("/kind", f"one of {', '.join(reports.BUILDERS)}")],
            )
        base = self.basis(tenant_id, period, tree_size)
        return builder(base, list(period_entries(self.ledger, base)))


NO_EVIDENCE = ("",) * len(oscal.EVIDENCE_SLOTS)


def _payload(text: str) -> dict[str, Any]:
    """A stored payload; an edited one that no longer parses as an object reads as empty
    (its record hash fails: the observation says so)."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
