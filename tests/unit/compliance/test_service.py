"""Screening and KYC services on a standalone kernel (SQLite): imports are ledgered and
atomic, re-screening raises hit events for the delta, payees with a hit go to review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from paygod.bootstrap import Kernel
from paygod.compliance.model import ListFormatError, ScreeningQuery
from paygod.compliance.service import SAMPLES
from paygod.kernel.errors import InvalidInput, NotFound, Unauthorized
from paygod.payments.model import PaymentStatus
from paygod.payments.signing import sign
from tests.support.accounts import open_funded_payer


def events(kernel: Kernel, event_type: str) -> list[dict[str, Any]]:
    rows = kernel.db.connection().execute(
        "SELECT envelope FROM outbox WHERE event_type = ? ORDER BY entry_seq", (event_type,)
    )
    return [orjson.loads(r[0]) for r in rows]


def uk_without(tmp_path: Path, unique_id: str) -> Path:
    lines = (SAMPLES / "uk_sanctions_list.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if f",{unique_id}," not in line]
    path = tmp_path / "uk.csv"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def test_an_import_is_a_ledgered_versioned_snapshot(standalone_kernel: Kernel) -> None:
    kernel, screening = standalone_kernel, standalone_kernel.compliance.screening
    outcome = screening.import_list(
        "default", SAMPLES / "un_consolidated.xml", "un-xml", source="https://un.example/list.xml"
    )
    entry = kernel.ledger.get(outcome.seq)  # type: ignore[arg-type]
    assert (
        entry is not None and entry.kind == "sanctions.snapshot" and entry.subject == "sanctions:un"
    )
    assert entry.payload["digest"] == outcome.snapshot.digest
    assert entry.payload["entry_count"] == 13 and entry.payload["version"] == 1
    assert entry.payload["source"] == "https://un.example/list.xml"
    again = screening.import_list("default", SAMPLES / "un_consolidated.xml", "un-xml")
    assert again.unchanged and again.snapshot.snapshot_id == outcome.snapshot.snapshot_id
    assert kernel.ledger.size == outcome.seq + 1  # type: ignore[operator]
    assert [e["event_type"] for e in events(kernel, "compliance.sanctions_list_imported")] == [
        "compliance.sanctions_list_imported"
    ]


def test_a_bad_file_imports_nothing(standalone_kernel: Kernel, tmp_path: Path) -> None:
    kernel, screening = standalone_kernel, standalone_kernel.compliance.screening
    text = (SAMPLES / "ofac_sdn.xml").read_text(encoding="utf-8")
    broken = tmp_path / "sdn.xml"
    # The third entry loses its uid: entries 1 and 2 are fine, and still nothing is kept.
    third = text.split("<sdnEntry>")[3].split("<uid>")[1].split("</uid>")[0]
    broken.write_text(text.replace(f"<uid>{third}</uid>", "", 1), encoding="utf-8")
    size = kernel.ledger.size
    with pytest.raises(ListFormatError, match="entry 3"):
        screening.import_list("default", broken, "ofac-xml")
    with pytest.raises(InvalidInput, match="unknown list format"):
        screening.import_list("default", SAMPLES / "ofac_sdn.xml", "ofac-json")
    assert kernel.ledger.size == size
    assert screening.snapshots("default") == []


def test_a_list_change_rescreens_known_subjects_and_raises_new_hits(
    standalone_kernel: Kernel, tmp_path: Path
) -> None:
    kernel, screening = standalone_kernel, standalone_kernel.compliance.screening
    first = screening.import_list("default", uk_without(tmp_path, "RUS0005"), "uk-csv")
    assert first.new_hits == []
    seen = screening.screen_recorded(
        "default", ScreeningQuery("Roman Abramovich"), subject="customer:7"
    )
    assert seen["decision"] == "no-hit"  # not on the first version of the list
    second = screening.import_list("default", SAMPLES / "uk_sanctions_list.csv", "uk-csv")
    assert second.added == 1 and second.rescreened == 1
    assert [h["subject"] for h in second.new_hits] == ["customer:7"]
    (event,) = events(kernel, "compliance.screening_hit")
    payload = event["payload"]
    assert payload["subject"] == "customer:7" and payload["source"] == "rescreen"
    assert payload["alert_type"] == "sanctions_hit" and payload["rule"] == "sanctions/uk:RUS0005"
    assert payload["risk_score"] >= payload["threshold"] == 0.85
    assert payload["hits"][0]["entry_id"] == "RUS0005"
    assert screening.screen("default", ScreeningQuery("Roman Abramovich")).decision == "hit"


def test_thresholds_are_per_tenant_and_ledgered(standalone_kernel: Kernel) -> None:
    screening = standalone_kernel.compliance.screening
    query = ScreeningQuery("Wladimir Putin")  # scores 0.88 against the samples
    assert screening.screen("t2", query).decision == "hit"
    recorded = screening.set_threshold("t2", 0.95, actor="officer")
    assert standalone_kernel.ledger.get(recorded["seq"]).kind == "sanctions.threshold"  # type: ignore[union-attr]
    assert screening.screen("t2", query).decision == "no-hit"
    assert screening.screen("default", query).decision == "hit"
    with pytest.raises(InvalidInput) as caught:
        screening.set_threshold("t2", 0.2, actor="officer")
    assert caught.value.errors[0].pointer == "/threshold"


def pay(kernel: Kernel, payee: dict[str, str], key: str) -> Any:
    payment, _ = kernel.payments.create(
        {
            "payer_account": "agent-1",
            "payee": payee,
            "amount": 1_000,
            "currency": "USD",
            "purpose": "invoice",
            "metadata": {"counterparty_verified": True},
        },
        tenant_id="default",
        requested_by="agent-bot",
        idempotency_key=key,
    )
    return payment


BANK = {"account_number": "000123456789", "routing_number": "021000021"}


def test_a_sanctioned_payee_is_stopped_for_review(standalone_kernel: Kernel) -> None:
    kernel = standalone_kernel
    open_funded_payer(kernel.accounting)
    clean = pay(kernel, {"name": "Acme Supplies", **BANK}, "clean-1")
    assert clean.status is PaymentStatus.HELD
    assert clean.decision["evidence"]["screening"]["decision"] == "no-hit"
    # A transliterated alias of a sample SDN entry.
    flagged = pay(kernel, {"name": "Usama bin Ladin", "country": "SA", **BANK}, "flagged-1")
    assert flagged.status is PaymentStatus.DECIDED and flagged.decision["verdict"] == "review"
    assert "sanctions screening hit" in flagged.decision["reason"]
    screening = flagged.decision["evidence"]["screening"]
    assert screening["decision"] == "hit" and screening["hits"][0]["score"] >= 0.85
    assert any(f.startswith("sanctions/ofac:") for f in flagged.decision["risk_flags"])
    sealed = kernel.ledger.get(screening["seq"])
    assert sealed is not None and sealed.kind == "screening"
    # The payee's own spelling and account stay out of the ledger (the list's do not).
    sealed_text = orjson.dumps(dict(sealed.payload)).decode()
    assert "Usama bin Ladin" not in sealed_text and BANK["account_number"] not in sealed_text
    (event,) = events(kernel, "compliance.screening_hit")
    assert event["payload"]["payment_id"] == flagged.payment_id
    assert event["payload"]["subject"] == flagged.payee_ref
    assert event["correlation_id"] == flagged.payment_id
    assert kernel.ledger.verify().ok


def test_kyc_levels_expiry_pending_and_signed_callbacks(standalone_kernel: Kernel) -> None:
    kyc = standalone_kernel.compliance.kyc
    basic = kyc.verify(
        "default",
        {"subject": "customer:1", "check": "identity", "data": {"name": "Zoë Müller"}},
        actor="t",
    )
    assert basic["level"] == "basic" and basic["status"] == "verified" and basic["expires_at"]
    assert kyc.measurements("default", "customer:1")["level"] == "basic"
    full = kyc.verify("default", {"subject": "customer:1", "check": "document"}, actor="t")
    assert full["level"] == "full"
    assert kyc.status("default", "customer:1", as_of=None)["level"] == "full"
    entry = standalone_kernel.ledger.get(basic["seq"])
    assert entry is not None and entry.kind == "kyc.status"
    assert "Zoë" not in orjson.dumps(dict(entry.payload)).decode()
    then = kyc.status("default", "customer:1", as_of=entry.recorded_at)
    assert then["level"] == "basic"
    assert kyc.status("other", "customer:1")["status"] == "none"
    with pytest.raises(InvalidInput) as caught:
        kyc.verify("default", {"subject": "", "check": "selfie"}, actor="t")
    assert {e.pointer for e in caught.value.errors} == {"/subject", "/check"}

    reference = full["reference"]
    body = orjson.dumps({"reference": reference, "status": "rejected", "level": "none"})
    secret = kyc.webhook_secret
    updated = kyc.callback("simulated", sign(secret, body), body)
    assert updated["status"] == "rejected" and updated["effective_level"] == "none"
    with pytest.raises(Unauthorized):
        kyc.callback("simulated", sign(secret, body), body)  # a replay
    with pytest.raises(Unauthorized):
        kyc.callback("simulated", sign(b"wrong", body), body)
    unknown = orjson.dumps({"reference": "nope", "status": "verified", "level": "full"})
    with pytest.raises(NotFound):
        kyc.callback("simulated", sign(secret, unknown), unknown)


def test_simulated_provider_is_deterministic_by_fixture() -> None:
    from paygod.compliance.kyc import SimulatedKycProvider
    from paygod.kernel.errors import Unavailable

    provider = SimulatedKycProvider(
        fixtures={
            "customer:bad": {"status": "rejected", "reason": "document forged"},
            "customer:slow": {"status": "pending", "then": {"status": "verified", "level": "full"}},
        },
        failure_rate=0.5,
        seed=3,
    )
    rejected = provider.verify_document("customer:bad", {})
    assert rejected.status == "rejected" and rejected.reason == "document forged"
    pending = provider.verify_identity("customer:slow", {})
    assert pending.status == "pending"
    assert provider.check_status(pending.reference).level.value == "full"
    outcomes = []
    for n in range(20):
        try:
            provider.verify_identity(f"customer:{n}", {})
            outcomes.append(True)
        except Unavailable:
            outcomes.append(False)
    again = []
    for n in range(20):
        try:
            provider.verify_identity(f"customer:{n}", {})
            again.append(True)
        except Unavailable:
            again.append(False)
    assert outcomes == again and 0 < outcomes.count(False) < 20
