from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from paygod.decisions.evidence import find_raw_pii, pii_kind
from paygod.decisions.packs import PackRepository
from paygod.decisions.service import DecisionService
from paygod.decisions.stores.memory import MemoryDecisionIndex
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import Conflict, InvalidInput, NotFound
from paygod.ledger.service import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def service(clock: ManualClock, tmp_path: Path) -> DecisionService:
    ledger = LedgerService(MemoryLedgerStore(), clock)
    return DecisionService(
        ledger, PackRepository(tmp_path / "absent"), clock, MemoryDecisionIndex()
    )


def payment(amount: float = 1000, rail: str = "sepa", verified: bool = True) -> dict[str, Any]:
    return {
        "payment": {
            "amount_minor": amount,
            "currency": "EUR",
            "rail": rail,
            "counterparty": {"ref": "urn:paygod:cp:acme", "verified": verified},
        }
    }


def decide(service: DecisionService, key: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "urn:paygod:agent:7",
        "context": {"channel": "api"},
        "input": payment(),
    }
    body.update(overrides)
    return service.decide(**body, idempotency_key=key)


def test_sealed_decision_is_three_entries_in_one_step_with_event(
    service: DecisionService,
) -> None:
    result = decide(service, "k1")
    assert (result["decision"], result["rule"]) == ("allow", "allow-within-limits")
    kinds = [e.kind for e in service.ledger.entries()]
    assert kinds == ["pack", "measurement", "evidence", "decision"]
    seq = result["ledger"]["seq"]
    assert seq == 3
    proof = result["ledger"]["inclusion_proof"]
    assert proof["leaf_index"] == seq
    assert proof["tree_size"] == result["ledger"]["tree_head"]["tree_size"] == 4
    assert proof["root_hash"] == result["ledger"]["tree_head"]["root_hash"]
    events = service.ledger.outbox
    assert [e["event_type"] for e in events] == ["decision.finalized"]
    assert events[0]["entry_seq"] == seq
    assert result["input_hash"].startswith("sha256:")
    assert all(r.startswith(("urn:", "sha256:")) for r in result["evidence"]["refs"])
    assert result["explanation"]["packs"][0]["outcomes"][0]["status"] == "not_matched"


def test_same_key_same_body_returns_the_same_decision(service: DecisionService) -> None:
    first = decide(service, "k1")
    again = decide(service, "k1")
    assert again["decision_id"] == first["decision_id"]
    assert again["ledger"]["seq"] == first["ledger"]["seq"]
    assert again["replayed"] is True
    assert service.ledger.size == 4  # nothing new recorded


def test_same_key_other_body_is_conflict(service: DecisionService) -> None:
    decide(service, "k1")
    with pytest.raises(Conflict):
        decide(service, "k1", input=payment(amount=2000))
    assert service.ledger.size == 4


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"input": {"payment": {"amount_minor": "10"}}}, "/input/payment"),
        ({"input": payment(rail="pigeon")}, "/input/payment/rail"),
        ({"context": {"customer_email": "jane@example.com"}}, "/context/customer_email"),
        ({"context": {"evidence_refs": ["a raw note"]}}, "/context/evidence_refs/0"),
        ({"subject": "DE89370400440532013000"}, "/subject"),
        ({"packs": ["no-such-pack"]}, "/packs/0"),
        ({"input": {"unknown": {}}}, "/packs"),
    ],
)
def test_invalid_requests_record_nothing(
    service: DecisionService, overrides: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        decide(service, "bad", **overrides)
    assert pointer in [e.pointer for e in info.value.errors]
    assert service.ledger.size == 0
    assert service.ledger.outbox == []
    assert service.index.by_key("default", "bad") is None


def test_velocity_and_daily_volume_come_from_sealed_decisions(
    service: DecisionService, clock: ManualClock
) -> None:
    for i in range(3):
        decide(service, f"v{i}", input=payment(amount=1_600_000, rail="wire"))
        clock.advance(60)
    fourth = decide(service, "v3", input=payment(amount=400_000))
    assert fourth["decision"] == "deny"
    assert fourth["rule"] == "deny-daily-volume"
    measures = {m["name"]: m["value"] for m in fourth["measurements"]}
    assert measures["velocity_1h"] == 3
    assert measures["amount_24h"] == 4_800_000
    window = next(m for m in fourth["measurements"] if m["name"] == "velocity_1h")["window"]
    assert window["to"].startswith("2026-03-01T09:03")
    clock.advance(25 * 3600)
    later = decide(service, "v4", input=payment(amount=400_000))
    assert later["decision"] == "allow"


def test_an_amount_written_as_a_whole_float_is_measured_and_counted(
    service: DecisionService, clock: ManualClock
) -> None:
    # 1600000.0 passes the pack's `type: integer` and is sealed as 1600000 (RFC 8785), so
    # it is that amount everywhere: it was measured as null and left out of amount_24h,
    # so amounts written as X.0 got past the daily volume limit.
    for i in range(3):
        decide(service, f"f{i}", input=payment(amount=1_600_000.0, rail="wire"))
        clock.advance(60)
    fourth = decide(service, "f3", input=payment(amount=400_000.0))
    measures = {m["name"]: m["value"] for m in fourth["measurements"]}
    assert measures["amount_minor"] == 400_000
    assert type(measures["amount_minor"]) is int
    assert measures["amount_24h"] == 4_800_000
    assert (fourth["decision"], fourth["rule"]) == ("deny", "deny-daily-volume")
    # The review threshold of high-risk-review reads measure.amount_minor.
    risky = {"new_counterparty": True, "autonomous_agent": True, "score": 0.1}
    flagged = decide(service, "f4", input={**payment(amount=150_000.0), "risk": risky})
    by_pack = {p["name"]: p for p in flagged["packs"]}
    assert by_pack["high-risk-review"]["rule"] == "flag-new-counterparty-autonomous"


@pytest.mark.parametrize(
    ("amount", "measured"),
    [(4999, 4999), (4999.0, 4999), (-0.0, 0), (4999.5, None), (2.0**53, None), ("5", None)],
)
def test_request_amount_reads_whole_numbers_only(amount: Any, measured: int | None) -> None:
    from paygod.decisions.measurements import request_amount

    assert request_amount({"payment": {"amount_minor": amount}}, {}) == measured
    assert request_amount({}, {"amount_minor": amount}) == measured


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        # Whole floats beyond 2^53 were accepted and measured as no amount, while the same
        # integers were refused: the amount escaped amount_1h/amount_24h.
        ({"input": payment(amount=1e20)}, "/input/payment/amount_minor"),
        ({"input": payment(amount=9007199254740993.0)}, "/input/payment/amount_minor"),
        ({"input": payment(amount=-(2.0**60))}, "/input/payment/amount_minor"),
        ({"context": {"amount_minor": 1e20}}, "/context/amount_minor"),
        ({"context": {"risk": {"exposure": 1.5e300}}}, "/context/risk/exposure"),
        # The context has no pack schema: an amount no integer was measured as none.
        ({"context": {"amount_minor": 4999.5}}, "/context/amount_minor"),
        ({"context": {"amount_minor": "4999"}}, "/context/amount_minor"),
        ({"context": {"amount_minor": True}}, "/context/amount_minor"),
    ],
)
def test_an_amount_that_is_no_exact_minor_unit_integer_is_refused(
    service: DecisionService, overrides: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        decide(service, "amount", **overrides)
    assert [e.pointer for e in info.value.errors] == [pointer]
    assert service.ledger.size == 0
    assert service.index.by_key("default", "amount") is None


def test_whole_amounts_within_2_53_and_absent_amounts_are_still_decided(
    service: DecisionService,
) -> None:
    for key, overrides in {
        "int": {"input": payment(amount=2**53 - 1)},
        "float": {"input": payment(amount=float(2**53 - 1))},
        "null": {"context": {"amount_minor": None}},
        "small-float": {"context": {"score": 0.25, "big": 9.0e15}},
    }.items():
        assert decide(service, key, **overrides)["decision"] in {"allow", "deny", "flag"}


def test_replay_reproduces_and_names_a_pack_that_changed(
    service: DecisionService, tmp_path: Path
) -> None:
    from paygod.decisions.packs import DEFAULT_PACKS_DIR

    result = decide(service, "r1", input=payment(amount=600_000, rail="card"))
    assert result["decision"] == "deny"
    report = service.replay(result["ledger"]["seq"])
    assert report["identical"] is True

    # A new version of the pack raises the card limit: replay still uses the recorded one.
    packs = tmp_path / "packs"
    (packs / "agent-payment-limits").mkdir(parents=True)
    source = (DEFAULT_PACKS_DIR / "agent-payment-limits" / "pack.yaml").read_text()
    (packs / "agent-payment-limits" / "pack.yaml").write_text(
        source.replace("amount_minor > 500000)", "amount_minor > 900000)").replace(
            'version: "1.0.0"', 'version: "1.1.0"'
        )
    )
    service.packs = PackRepository(packs)
    report = service.replay(result["ledger"]["seq"])
    assert report["identical"] is True
    assert report["current_packs"][0]["changed_outcome"] is True
    assert "agent-payment-limits 1.1.0" in report["notes"][0]


def test_get_and_not_found(service: DecisionService) -> None:
    result = decide(service, "g1")
    fetched = service.get(result["decision_id"])
    assert fetched["decision"] == result["decision"]
    assert fetched["evidence"] == result["evidence"]
    assert fetched["ledger"]["seq"] == result["ledger"]["seq"]
    with pytest.raises(NotFound):
        service.get("nope")
    with pytest.raises(NotFound):
        service.replay(0)  # a pack entry, not a decision


def test_policy_set_by_default_takes_every_applicable_pack(service: DecisionService) -> None:
    body_input = {
        **payment(),
        "risk": {"score": 0.8},
    }
    result = decide(service, "s1", input=body_input)
    assert result["decision"] == "flag"
    assert result["pack"] == "high-risk-review"
    assert {p["name"] for p in result["packs"]} == {"agent-payment-limits", "high-risk-review"}


def test_dry_run_records_nothing(service: DecisionService) -> None:
    result = service.evaluate("agent-payment-limits", payment(verified=False))
    assert result["decision"] == "deny"
    assert result["sealed"] is False
    assert service.ledger.size == 0


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("jane.doe@example.com", "an e-mail address"),
        ("4111 1111 1111 1111", "a card number"),
        ("GB82 WEST 1234 5698 7654 32", "an IBAN"),
        ("+49 30 1234567", "a phone number"),
        ("urn:paygod:person:42", None),
        ("sha256:" + "a" * 64, None),
        ("order 1234567890123", None),  # 13 digits failing Luhn
        ("EUR", None),
    ],
)
def test_pii_detection(text: str, kind: str | None) -> None:
    assert pii_kind(text) == kind


def test_pii_pointers() -> None:
    errors = find_raw_pii({"a": [{"b": "x@y.io"}]}, "/input")
    assert [e.pointer for e in errors] == ["/input/a/0/b"]


def test_every_decision_of_a_mixed_ledger_replays_identically(
    service: DecisionService, clock: ManualClock
) -> None:
    rails = ["card", "sepa", "wire", "ach"]
    verdicts = set()
    for i in range(400):
        result = decide(
            service,
            f"m{i}",
            subject=f"urn:paygod:agent:{i % 7}",
            input={
                **payment(
                    amount=(i * 7919) % 3_000_000 - 1000, rail=rails[i % 4], verified=i % 5 != 0
                ),
                "risk": {"score": (i % 10) / 10},
            },
        )
        verdicts.add(result["decision"])
        clock.advance(97)
    assert verdicts == {"allow", "deny", "flag"}
    seqs = [e.seq for e in service.ledger.iter_entries() if e.kind == "decision"]
    assert len(seqs) == 400
    assert all(service.replay(seq)["identical"] for seq in seqs)


def test_get_after_restart_finds_the_entry_without_the_seq_cache(
    service: DecisionService, clock: ManualClock
) -> None:
    result = decide(service, "restart")
    fresh = DecisionService(service.ledger, service.packs, clock, service.index)
    assert fresh.get(result["decision_id"])["ledger"]["seq"] == result["ledger"]["seq"]
    assert decide(fresh, "restart")["decision_id"] == result["decision_id"]


def test_numbers_without_an_exact_json_form_are_422_not_500(service: DecisionService) -> None:
    big = payment()
    big["payment"]["extra"] = {"n": 2**60}
    with pytest.raises(InvalidInput) as info:
        decide(service, "big", input=big)
    assert [e.pointer for e in info.value.errors] == ["/input/payment/extra/n"]
    with pytest.raises(InvalidInput) as info:
        decide(service, "surrogate", context={"note": "\ud800"})
    assert [e.pointer for e in info.value.errors] == ["/context/note"]
    lone = payment()
    lone["payment"]["memo"] = ["ok", "\udc00"]
    with pytest.raises(InvalidInput) as info:
        decide(service, "surrogate-input", input=lone)
    assert [e.pointer for e in info.value.errors] == ["/input/payment/memo/1"]
    assert service.ledger.size == 0


def test_receipts_reuse_a_fresh_covering_tree_head_and_still_verify(
    service: DecisionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    import paygod.ledger.receipt as module
    from paygod.ledger.verifier import check_inclusion

    signed: list[int] = []
    sign = service.ledger.receipt_head

    def counting(seq: int) -> Any:
        head = sign(seq)
        assert head.tree_size > seq  # it covers the entry
        signed.append(head.tree_size)
        return head

    monkeypatch.setattr(service.ledger, "receipt_head", counting)
    now = [100.0]
    # Only this module's clock: the ledger reads time.monotonic too.
    monkeypatch.setattr(module, "time", SimpleNamespace(monotonic=lambda: now[0]))

    first = decide(service, "h1")  # nothing cached: signs
    second = decide(service, "h2")  # the cached head ends before this entry: signs
    assert signed == [first["ledger"]["seq"] + 1, second["ledger"]["seq"] + 1]
    now[0] = 100.5
    again = service.get(first["decision_id"])  # the newer head covers it: reused
    assert again["ledger"]["tree_head"] == second["ledger"]["tree_head"]
    assert check_inclusion(again["ledger"]["inclusion_proof"]) is None
    assert (
        again["ledger"]["inclusion_proof"]["root_hash"]
        == second["ledger"]["tree_head"]["root_hash"]
    )
    assert len(signed) == 2
    now[0] = 101.5  # over a second old: signed again
    service.get(first["decision_id"])
    assert len(signed) == 3


def test_callers_woken_together_sign_one_tree_head(
    service: DecisionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    sealed = decide(service, "t1")
    signed: list[int] = []
    sign = service.ledger.receipt_head

    def counting(seq: int) -> Any:
        signed.append(1)
        return sign(seq)

    monkeypatch.setattr(service.ledger, "receipt_head", counting)
    service.ledger.receipts._head = None  # as if the last head had gone stale
    barrier = threading.Barrier(8)
    heads: list[Any] = []

    def read() -> None:
        barrier.wait()
        heads.append(service.get(sealed["decision_id"])["ledger"]["tree_head"])

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(heads) == 8 and all(h == heads[0] for h in heads)
    assert len(signed) == 1


def test_without_receipt_the_decision_is_sealed_the_same_minus_proof_and_head(
    service: DecisionService,
) -> None:
    bare = service.decide(
        subject="urn:paygod:agent:7",
        context={"channel": "api"},
        input=payment(),
        idempotency_key="bare",
        receipt=False,
    )
    assert set(bare["ledger"]) == {
        "seq",
        "entry_id",
        "record_hash",
        "recorded_at",
        "evidence_seq",
        "measurements_seq",
    }
    entry = service.ledger.get(bare["ledger"]["seq"])
    assert entry is not None and entry.payload["decision_id"] == bare["decision_id"]
    full = service.get(bare["decision_id"])  # anyone can still ask for the receipt later
    assert full["ledger"]["inclusion_proof"]["leaf_index"] == bare["ledger"]["seq"]


def test_the_index_row_carries_the_decision_seq_so_a_restart_reads_no_history(
    service: DecisionService, clock: ManualClock
) -> None:
    for n in range(5):
        decide(service, f"other-{n}")  # the subject's history grows
    result = decide(service, "indexed")
    row = service.index.by_id(result["decision_id"])
    assert row is not None and row.seq == result["ledger"]["seq"]
    fresh = DecisionService(service.ledger, service.packs, clock, service.index)

    def no_history(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("a read of an indexed decision walked the subject's history")

    service.ledger.history = no_history  # type: ignore[method-assign]
    assert fresh.get(result["decision_id"])["ledger"]["seq"] == result["ledger"]["seq"]


def test_companions_are_sealed_in_the_decisions_transaction(service: DecisionService) -> None:
    """An in-process caller's entries ride in the decision's transaction, built from its
    record and seq inside the writer; the response still names the decision's entry."""
    from paygod.ledger import EntryDraft

    seen: list[dict[str, Any]] = []

    def companions(conn: Any, record: Any) -> list[EntryDraft]:
        seen.append(dict(record))
        return [EntryDraft("note", "urn:paygod:note:1", {"about": record["decision_id"]})]

    result = decide(service, "c1", companions=companions)
    entries = service.ledger.entries()
    assert [e.kind for e in entries[-4:]] == ["measurement", "evidence", "decision", "note"]
    assert result["ledger"]["seq"] == entries[-2].seq == seen[0]["ledger"]["seq"]
    assert entries[-1].payload == {"about": result["decision_id"]}
    assert seen[0]["decision"] == result["decision"]
    # The same key replays the decision without calling the companions again.
    again = decide(service, "c1", companions=companions)
    assert again["replayed"] and len(seen) == 1


def test_prepare_sees_the_record_outside_the_writer_before_the_companions(
    service: DecisionService,
) -> None:
    """`prepare` gets the decision as evaluated, from the caller's thread (not the ledger's
    writer) and before the companions; a replay calls neither."""
    import threading

    calls: list[tuple[str, str, str]] = []

    def prepare(record: Any) -> None:
        calls.append(("prepare", threading.current_thread().name, record["decision_id"]))

    def companions(conn: Any, record: Any) -> list[Any]:
        calls.append(("companions", threading.current_thread().name, record["decision_id"]))
        return []

    result = decide(service, "p1", companions=companions, prepare=prepare)
    mine = threading.current_thread().name
    assert [(c[0], c[1] == mine, c[2]) for c in calls] == [
        ("prepare", True, result["decision_id"]),
        ("companions", False, result["decision_id"]),
    ]
    decide(service, "p1", companions=companions, prepare=prepare)
    assert len(calls) == 2


def test_a_companion_that_refuses_seals_nothing(service: DecisionService) -> None:
    size = service.ledger.size

    def refuse(conn: Any, record: Any) -> list[Any]:
        raise Conflict("the caller's state moved on")

    with pytest.raises(Conflict):
        decide(service, "c2", companions=refuse)
    assert service.ledger.size == size and service.index.by_key("default", "c2") is None
