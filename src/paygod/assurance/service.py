"""Assurance use cases: OSCAL documents and regulatory reports for a period, computed from
the ledger against a verified signed tree head. Reads only: nothing is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from paygod.assurance import observing, oscal, reports
from paygod.assurance.basis import basis, period_entries, scan_window
from paygod.assurance.controls import PackSource, known, pack_controls
from paygod.assurance.model import Basis, Period
from paygod.assurance.observation_text import Run
from paygod.cases.model import Case, CaseStatus, CaseStep
from paygod.decisions.control_catalog import Control
from paygod.kernel.errors import FieldError, NotFound
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
        self,
        kind: str,
        tenant_id: str,
        period: Period,
        tree_size: int | None = None,
        workers: int = 1,
    ) -> Iterator[bytes]:
        """`document` in parts: the assessment results as they are built (a period of a
        million decisions makes gigabytes; `workers` processes observe slices of it). A
        bad request raises here, before any part."""
        if kind == "assessment-results":
            return self.assessment_parts(self.basis(tenant_id, period, tree_size), workers)
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

    def assessment_parts(self, base: Basis, workers: int = 1) -> Iterator[bytes]:
        """The assessment results document in parts, as the period's decisions are read
        (one streaming scan, or `workers` processes each scanning a slice of it) and
        proven against the head."""
        store = self.ledger.store
        decisions = scan_window(base, ("decision",))
        part = observing.Slice(
            store.opener(),
            base.head,
            decisions,
            replace(decisions, kinds=("evidence",)),
            observing.loaded_rules(self.packs.packs()),
        )
        run = Run()
        loaded = {c.ref for c in self.controls()}
        yield from oscal.assessment_results(
            base,
            observing.observations(store, part, run, workers),
            run,
            lambda refs: known({*refs, *loaded}),
            self.version,
        )

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
