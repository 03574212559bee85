"""OSCAL documents from a real ledger: trestle validates them, they regenerate byte for
byte, and tampering with one sealed decision flips exactly the findings resting on it."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.component import ComponentDefinition
from trestle.oscal.poam import PlanOfActionAndMilestones

from paygod.assurance.basis import TreeHeadUnverified
from paygod.kernel.errors import InvalidInput, NotFound
from paygod.ledger.signing import TreeHeadSigner
from tests.integration.assurance.conftest import Ledgered


def _doc(ledgered: Ledgered, kind: str) -> dict[str, Any]:
    raw = ledgered.kernel.assurance.document(kind, "default", ledgered.period)
    return json.loads(raw)


def _states(doc: dict[str, Any]) -> dict[str, str]:
    result = doc["assessment-results"]["results"][0]
    return {
        f["title"].split()[0]: f["target"]["status"]["state"] for f in result.get("findings", [])
    }


def test_documents_validate_with_trestle(ledgered: Ledgered) -> None:
    component = _doc(ledgered, "component-definition")["component-definition"]
    ComponentDefinition.model_validate(component)
    ids = {
        r["control-id"]
        for impl in component["components"][0]["control-implementations"]
        for r in impl["implemented-requirements"]
    }
    assert {"ac-5", "si-10", "req-7.2", "cc6.1"} <= ids
    results = _doc(ledgered, "assessment-results")["assessment-results"]
    AssessmentResults.model_validate(results)
    observations = results["results"][0]["observations"]
    assert len(observations) == 4  # one per sealed decision
    props = {p["name"]: p["value"] for p in observations[0]["props"]}
    assert props["verification"] == "verified"
    result_props = {p["name"]: p["value"] for p in results["results"][0]["props"]}
    assert int(result_props["tree-size"]) == ledgered.kernel.ledger.size
    # Every observation re-checks offline: its audit path leads to the head's root.
    from paygod.ledger.verifier import verify_inclusion_raw

    path = [bytes.fromhex(h) for h in props.get("audit-path", "").split(",") if h]
    assert (
        verify_inclusion_raw(
            int(props["ledger-seq"]),
            int(result_props["tree-size"]),
            bytes.fromhex(props["leaf-hash"]),
            path,
            bytes.fromhex(result_props["root-hash"]),
        )
        is None
    )
    poam = _doc(ledgered, "poam")["plan-of-action-and-milestones"]
    PlanOfActionAndMilestones.model_validate(poam)
    assert [i["title"] for i in poam["poam-items"]] == [f"case {_case_id(ledgered)}: large_payout"]


def _case_id(ledgered: Ledgered) -> str:
    return ledgered.kernel.cases.list("default")[0].case_id


def test_findings_per_control(ledgered: Ledgered) -> None:
    states = _states(_doc(ledgered, "assessment-results"))
    # 5000 was denied by deny-big (ac-5, 7.2); 700 flagged (reached cc6.1); si-10 on all.
    assert states["nist-800-53:si-10"] == "satisfied"
    assert states["nist-800-53:ac-5"] == "satisfied"
    assert states["soc2:CC6.1"] == "satisfied"


def test_regenerates_byte_identically(ledgered: Ledgered) -> None:
    service = ledgered.kernel.assurance
    for kind in ("component-definition", "assessment-results", "poam"):
        first = service.document(kind, "default", ledgered.period)
        assert service.document(kind, "default", ledgered.period) == first


def test_tampering_flips_exactly_the_findings_resting_on_it(ledgered: Ledgered) -> None:
    before = _states(_doc(ledgered, "assessment-results"))
    # The 5000 decision was denied by deny-big, the first rule: it exercised the pack's
    # si-10 and deny-big's ac-5 and 7.2, never flag-medium's CC6.1.
    target = ledgered.decisions[2]
    home = ledgered.kernel.settings.home
    ledgered.kernel.close()
    db = sqlite3.connect(home / "paygod.db")
    table, column = _payload_column(db)
    rows = db.execute(f"SELECT seq, {column} FROM {table} WHERE kind = 'decision'").fetchall()
    seq, payload = next(r for r in rows if str(target["decision_id"]) in str(r[1]))
    db.execute(
        f"UPDATE {table} SET {column} = ? WHERE seq = ?",
        (str(payload).replace('"deny"', '"allow"'), seq),
    )
    db.commit()
    db.close()
    from paygod.bootstrap import build_kernel

    ledgered.kernel = build_kernel(ledgered.kernel.settings)
    doc = _doc(ledgered, "assessment-results")
    after = _states(doc)
    flipped = {c for c in before if before[c] != after[c]}
    assert flipped == {"nist-800-53:si-10", "nist-800-53:ac-5", "pci-dss-4:7.2"}
    assert before["soc2:CC6.1"] == after["soc2:CC6.1"] == "satisfied"
    failed = [
        o
        for o in doc["assessment-results"]["results"][0]["observations"]
        if {"name": "verification", "value": "failed", "ns": "https://paygod.dev/ns/oscal"}
        in o["props"]
    ]
    assert [
        int(next(p["value"] for p in o["props"] if p["name"] == "ledger-seq")) for o in failed
    ] == [seq]


def _payload_column(db: sqlite3.Connection) -> tuple[str, str]:
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        if "record_hash" in columns and "kind" in columns and "seq" in columns:
            return table, next(c for c in columns if "payload" in c)
    raise AssertionError("no ledger table")


def test_period_from_after_to_is_refused(ledgered: Ledgered) -> None:
    from paygod.assurance.model import Period

    with pytest.raises(InvalidInput) as caught:
        Period.parse("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert caught.value.errors[0].pointer == "/from"


def test_a_forged_tree_head_is_refused(ledgered: Ledgered) -> None:
    service = ledgered.kernel.assurance
    head = ledgered.kernel.ledger.store.tree_heads()[-1]
    # Signed by a key that is not the ledger's, for a size no head was stored at.
    forged = TreeHeadSigner.generate().sign(head.tree_size - 1, head.root_hash, head.timestamp)
    ledgered.kernel.ledger.store.save_tree_head(forged)
    size_before = ledgered.kernel.ledger.size
    with pytest.raises(TreeHeadUnverified):
        service.document("assessment-results", "default", ledgered.period, forged.tree_size)
    assert ledgered.kernel.ledger.size == size_before


def test_unknown_document_is_not_found(ledgered: Ledgered) -> None:
    with pytest.raises(NotFound):
        ledgered.kernel.assurance.document("ssp", "default", ledgered.period)


def test_assessment_rests_on_the_sealed_packs_not_the_loaded_ones(ledgered: Ledgered) -> None:
    first = ledgered.kernel.assurance.document("assessment-results", "default", ledgered.period)
    settings = ledgered.kernel.settings
    ledgered.kernel.close()
    import shutil

    shutil.rmtree(settings.packs / "payout-gate")  # the pack is gone from disk
    from paygod.bootstrap import build_kernel

    ledgered.kernel = build_kernel(settings)
    again = ledgered.kernel.assurance.document("assessment-results", "default", ledgered.period)
    assert again == first


def test_every_observation_is_validated(ledgered: Ledgered) -> None:
    """Not only the first of its shape: a later observation with unusual but valid text
    (a quote, non-ASCII) is written escaped and validates; one with a value OSCAL refuses
    (a property value ending in a space) is refused by trestle's model."""
    from pydantic import ValidationError

    from paygod.ledger import EntryDraft

    ledger, service = ledgered.kernel.ledger, ledgered.kernel.assurance
    odd = {"decision_id": 'd-"ü"', "decision": "allow", "pack": "payout-gate", "rule": "x"}
    ledger.append(EntryDraft("decision", "urn:agent:9", odd))
    head = ledger.flush_tree_head()
    raw = service.document("assessment-results", "default", ledgered.period, head.tree_size)
    results = json.loads(raw)["assessment-results"]
    AssessmentResults.model_validate(results)
    titles = [o["title"] for o in results["results"][0]["observations"]]
    assert titles[-1] == 'decision d-"ü"' and len(titles) == len(ledgered.decisions) + 1
    ledger.append(EntryDraft("decision", "urn:agent:9", {**odd, "decision": "allow "}))
    head = ledger.flush_tree_head()
    with pytest.raises(ValidationError):
        service.document("assessment-results", "default", ledgered.period, head.tree_size)


def test_documents_stream_one_observation_a_line(ledgered: Ledgered) -> None:
    raw = ledgered.kernel.assurance.document("assessment-results", "default", ledgered.period)
    lines = raw.decode().splitlines()
    observations = [line for line in lines if '"name":"ledger-seq"' in line]
    assert len(observations) == len(ledgered.decisions)
    assert all(json.loads(line.rstrip(","))["props"] for line in observations)


def test_worker_processes_write_the_same_bytes(
    ledgered: Ledgered, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slices observed in spawned worker processes make the document byte for byte, a
    tampered entry included: cut by seq across evidence and decisions, their texts
    streamed and their runs joined in seq order."""
    from paygod.assurance import observing

    kernel = ledgered.kernel
    for i in range(12):  # more decisions, so every slice holds some
        kernel.decisions.decide(
            subject=f"urn:agent:more-{i}",
            context={},
            input={"payout": {"amount_minor": 300 * i}},
            packs=["payout-gate"],
            tenant_id="default",
        )
    kernel.ledger.flush_tree_head()
    service = kernel.assurance
    monkeypatch.setattr(observing, "PARALLEL_FROM", 0)
    cuts: list[int] = []
    cut = observing.cut
    monkeypatch.setattr(observing, "cut", lambda part, n: cuts.append(n) or cut(part, n))

    size = kernel.ledger.store.tree_heads()[-1].tree_size  # the head over them all

    def document(workers: int) -> bytes:
        base = service.basis("default", ledgered.period, size)
        return b"".join(service.assessment_parts(base, workers))

    inline = document(1)
    assert document(3) == inline and cuts == [3]
    monkeypatch.setattr(observing, "PIECE", 7)  # many pieces each for two workers
    assert document(2) == inline and cuts[-1] > 2
    assert len(json.loads(inline)["assessment-results"]["results"][0]["observations"]) == 16
    home = kernel.settings.home
    kernel.close()
    db = sqlite3.connect(home / "paygod.db")
    table, column = _payload_column(db)
    seq, payload = db.execute(
        f"SELECT seq, {column} FROM {table} WHERE kind = 'decision' ORDER BY seq DESC"
    ).fetchone()
    db.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", (payload.replace("0", "1"), seq))
    db.commit()
    db.close()
    from paygod.bootstrap import build_kernel

    ledgered.kernel = kernel = build_kernel(kernel.settings)
    service = kernel.assurance
    tampered = document(1)
    assert tampered != inline and b'"value":"failed"' in tampered
    assert document(2) == tampered


def test_a_reader_that_stops_leaves_no_worker_running(
    ledgered: Ledgered, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    from paygod.assurance import observing

    monkeypatch.setattr(observing, "PARALLEL_FROM", 0)
    service = ledgered.kernel.assurance
    parts = service.assessment_parts(service.basis("default", ledgered.period), 2)
    assert next(parts).startswith(b'{"assessment-results"')
    assert multiprocessing.active_children()  # the workers observe the slices
    parts.close()
    assert multiprocessing.active_children() == []
