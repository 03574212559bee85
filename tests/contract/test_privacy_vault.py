"""One contract for the privacy vault over every adapter: memory, SQLite, PostgreSQL.

Driven through the services, with a ledger on the same database, because what the vault
promises is about both: a record sealed under its subject's key, an erasure that shreds
the key and is itself a verifiable ledger entry, holds and retention that are ledgered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from paygod.identity.sealing import SecretBox
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import Conflict, Gone, InvalidInput, NotFound
from paygod.ledger import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.ledger.wiring import store_for
from paygod.privacy.retention import RetentionService
from paygod.privacy.service import PrivacyService
from paygod.privacy.stores.memory import MemoryVault
from paygod.privacy.stores.sql import SqlVault
from tests.contract.outbox_support import postgres_database, sqlite_database

PAYEE = {"name": "Zoë Müller", "iban": "DE89370400440532013000"}
ANNA = "urn:paygod:person:anna"
BEN = "urn:paygod:person:ben"


@dataclass
class Vault:
    service: PrivacyService
    retention: RetentionService
    ledger: LedgerService
    clock: ManualClock
    purged: list[tuple[str, datetime]]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Vault]:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    box = SecretBox.ephemeral()

    def build(store: MemoryVault | SqlVault, ledger: LedgerService) -> Vault:
        purged: list[tuple[str, datetime]] = []

        def purge(tenant_id: str, before: datetime) -> int:
            purged.append((tenant_id, before))
            return 3

        service = PrivacyService(ledger, store, store, clock, box)
        retention = RetentionService(ledger, service, store, store, clock, purge)
        return Vault(service, retention, ledger, clock, purged)

    if request.param == "memory":
        yield build(MemoryVault(), LedgerService(MemoryLedgerStore(), clock))
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        ledger = LedgerService(store_for(db), clock)
        yield build(SqlVault(db), ledger)
        ledger.close()
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            ledger = LedgerService(store_for(pg), clock)
            yield build(SqlVault(pg), ledger)
            ledger.close()


def test_a_sealed_record_reads_back_and_the_ledger_holds_only_its_digest(vault: Vault) -> None:
    record, entry = vault.service.put("t1", ANNA, "payee", PAYEE)
    assert vault.service.read("t1", record.urn)["data"] == PAYEE
    assert entry.kind == "vault.record" and entry.payload["digest"] == record.digest
    assert "Müller" not in str(entry.payload) and "DE89" not in str(entry.payload)
    with pytest.raises(NotFound):
        vault.service.read("t2", record.urn)  # another tenant's record is not there


def test_erasure_shreds_the_key_records_the_erasure_and_reads_say_when(vault: Vault) -> None:
    record, _ = vault.service.put("t1", ANNA, "payee", PAYEE)
    other, _ = vault.service.put("t1", BEN, "kyc", {"document": "passport 123"})
    vault.clock.advance(3600)
    erased = vault.service.erase("t1", ANNA, "officer-1")
    entry = vault.ledger.get(erased["seq"])
    assert entry is not None and entry.kind == "gdpr.erasure"
    assert entry.payload == {
        "subject": ANNA,
        "erased_at": erased["erased_at"],
        "requested_by": "officer-1",
        "records": 1,
    }
    with pytest.raises(Gone) as gone:
        vault.service.read("t1", record.urn)
    assert gone.value.extra["erased_at"] == erased["erased_at"]
    assert vault.service.read("t1", other.urn)["data"] == {"document": "passport 123"}
    assert vault.ledger.verify().ok
    proof = vault.ledger.inclusion_proof(erased["seq"])
    assert proof.leaf_index == erased["seq"]
    with pytest.raises(Gone):
        vault.service.erase("t1", ANNA, "officer-1")  # twice: nothing more recorded
    with pytest.raises(Gone):
        vault.service.put("t1", ANNA, "payee", PAYEE)


def test_unknown_subject_and_held_subject_record_nothing(vault: Vault) -> None:
    vault.service.put("t1", ANNA, "payee", PAYEE)
    size = vault.ledger.size
    with pytest.raises(NotFound):
        vault.service.erase("t1", "urn:paygod:person:nobody", "officer-1")
    with pytest.raises(NotFound):
        vault.service.erase("t2", ANNA, "officer-1")
    with pytest.raises(InvalidInput):
        vault.service.erase("t1", "anna", "officer-1")
    assert vault.ledger.size == size
    vault.retention.hold("t1", ANNA, "litigation 2026-17", "officer-1")
    size = vault.ledger.size
    with pytest.raises(Conflict) as held:
        vault.service.erase("t1", ANNA, "officer-1")
    assert held.value.instance_code == "legal-hold" and "litigation 2026-17" in held.value.detail
    assert vault.ledger.size == size
    vault.retention.release("t1", ANNA, "officer-1")
    assert vault.service.erase("t1", ANNA, "officer-1")["records"] == 1


def test_export_gathers_records_ledger_references_and_is_recorded(vault: Vault) -> None:
    _, entry = vault.service.put("t1", ANNA, "payee", PAYEE)
    vault.service.put("t1", ANNA, "kyc", {"level": "full"})
    result = vault.service.export("t1", ANNA, "officer-1")
    document = result["export"]
    assert [r["data"] for r in document["records"]] == [PAYEE, {"level": "full"}]
    assert entry.seq in [e["seq"] for e in document["ledger"]]
    access = vault.ledger.get(result["access_seq"])
    assert access is not None and access.kind == "gdpr.access"
    assert access.payload["export_digest"] == result["digest"]
    vault.service.erase("t1", ANNA, "officer-1")
    after = vault.service.export("t1", ANNA, "officer-2")["export"]
    assert after["erased_at"] is not None
    assert [r["data"] for r in after["records"]] == [None, None]
    assert len(after["exports"]) == 1  # the first export is on the register


def test_retention_shreds_stale_subjects_spares_held_ones_and_is_ledgered(vault: Vault) -> None:
    vault.service.put("t1", ANNA, "payee", PAYEE)
    vault.service.put("t1", BEN, "payee", PAYEE)
    vault.service.export("t1", BEN, "officer-1")
    vault.retention.hold("t1", BEN, "audit", "officer-1")
    vault.clock.advance(20 * 86400)
    fresh, _ = vault.service.put("t1", "urn:paygod:person:cleo", "payee", PAYEE)
    vault.retention.set_policy("t1", "vault", 10, "officer-1")
    vault.retention.set_policy("t1", "access_logs", 30, "officer-1")
    vault.retention.set_policy("t1", "exports", 5, "officer-1")
    run = vault.retention.run("t1", "officer-1")
    assert run["shredded_subjects"] == [ANNA]
    assert run["held_subjects"] == [BEN]
    assert run["counts"] == {
        "vault_subjects_shredded": 1,
        "vault_subjects_held": 1,
        "access_logs_deleted": 3,
        "exports_deleted": 1,
    }
    assert vault.purged == [("t1", vault.clock.now() - timedelta(days=30))]
    entry = vault.ledger.get(run["seq"])
    assert entry is not None and entry.kind == "retention.run"
    assert vault.service.read("t1", fresh.urn)["data"] == PAYEE
    assert vault.ledger.verify().ok
    assert vault.retention.run_all()[0]["shredded_subjects"] == []


def test_policies_are_validated_and_kept_per_tenant(vault: Vault) -> None:
    with pytest.raises(InvalidInput) as bad:
        vault.retention.set_policy("t1", "everything", 0, "officer-1")
    assert [e.pointer for e in bad.value.errors] == ["/data_class", "/max_age_days"]
    vault.retention.set_policy("t1", "vault", 30, "officer-1")
    vault.retention.set_policy("t1", "vault", 60, "officer-1")
    assert [p.max_age_days for p in vault.retention.policies("t1")] == [60]
    assert vault.retention.policies("t2") == []
