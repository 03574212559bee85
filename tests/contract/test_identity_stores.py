"""One contract for every identity store: memory, SQLite, PostgreSQL (`ports.py`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from paygod.identity.model import (
    AccessRecord,
    ApiKey,
    ConsentRecord,
    EnrolmentToken,
    Principal,
    PrincipalKind,
    Role,
    SigningKey,
    Tenant,
    TotpFactor,
)
from paygod.identity.ports import DuplicateKey, IdentityStore
from paygod.identity.stores.identity_sql import SqlIdentityStore
from paygod.identity.stores.memory import MemoryIdentityStore
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.database import Database
from tests.contract.outbox_support import postgres_database, sqlite_database

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database | None]:
    if request.param == "memory":
        yield None
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield db
        db.close()
    else:  # skipped, with the reason, when PostgreSQL is unreachable (`postgres_url`)
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield pg


@pytest.fixture
def store(database: Database | None) -> IdentityStore:
    return MemoryIdentityStore() if database is None else SqlIdentityStore(database)


def _principal(pid: str, tenant: str = "acme", name: str | None = None, **kw: object) -> Principal:
    fields: dict[str, object] = {
        "principal_id": pid,
        "tenant_id": tenant,
        "kind": PrincipalKind.AGENT,
        "name": name or pid,
        "roles": frozenset({Role.AGENT}),
        "created_at": T0,
        **kw,
    }
    return Principal(**fields)  # type: ignore[arg-type]


def _key(key_id: str, principal: Principal, **kw: object) -> ApiKey:
    fields: dict[str, object] = {
        "key_id": key_id,
        "prefix": f"{key_id:a<12}"[:12],
        "principal_id": principal.principal_id,
        "tenant_id": principal.tenant_id,
        "scopes": ("payments:create",),
        "created_at": T0,
        **kw,
    }
    return ApiKey(**fields)  # type: ignore[arg-type]


def test_tenants_are_unique_and_listed_by_id(store: IdentityStore) -> None:
    store.add_tenant(None, Tenant("globex", "Globex", T0))
    store.add_tenant(None, Tenant("acme", "Acme", T0))
    with pytest.raises(DuplicateKey):
        store.add_tenant(None, Tenant("acme", "Other", T0))
    assert [t.tenant_id for t in store.tenants()] == ["acme", "globex"]
    assert store.get_tenant("acme") == Tenant("acme", "Acme", T0)
    assert store.get_tenant("initech") is None


def test_principals_round_trip_and_filter_by_tenant_and_kind(store: IdentityStore) -> None:
    assert not store.has_principals()
    human = _principal("p2", kind=PrincipalKind.HUMAN, roles=frozenset({Role.ADMIN, Role.AUDITOR}))
    store.add_principal(None, human)
    store.add_principal(None, _principal("p1", external_id="cert:CN=bot", created_by="p2"))
    store.add_principal(None, _principal("p3", tenant="globex"))
    assert store.has_principals()
    assert store.get_principal("p2") == human
    assert store.get_principal("nope") is None
    assert [p.principal_id for p in store.principals()] == ["p1", "p2", "p3"]
    assert [p.principal_id for p in store.principals("acme")] == ["p1", "p2"]
    assert [p.principal_id for p in store.principals("acme", PrincipalKind.HUMAN)] == ["p2"]
    assert store.principals("initech") == []
    got = store.get_principal("p1")
    assert got is not None and got.external_id == "cert:CN=bot" and got.created_by == "p2"


def test_a_name_and_an_external_id_are_unique_per_tenant_only(store: IdentityStore) -> None:
    store.add_principal(None, _principal("p1", name="bot", external_id="oidc:sub-1"))
    with pytest.raises(DuplicateKey):
        store.add_principal(None, _principal("p2", name="bot"))
    with pytest.raises(DuplicateKey):
        store.add_principal(None, _principal("p3", name="other", external_id="oidc:sub-1"))
    with pytest.raises(DuplicateKey):
        store.add_principal(None, _principal("p1", tenant="globex", name="fresh"))
    store.add_principal(
        None, _principal("p4", tenant="globex", name="bot", external_id="oidc:sub-1")
    )
    store.add_principal(None, _principal("p5", name="nameless-1"))  # no external id: no clash
    store.add_principal(None, _principal("p6", name="nameless-2"))
    found = store.principals_with_external_id("oidc:sub-1")
    assert [(p.tenant_id, p.principal_id) for p in found] == [("acme", "p1"), ("globex", "p4")]
    assert [p.principal_id for p in store.principals("acme")] == ["p1", "p5", "p6"]


def test_roles_and_disabled_are_updated_in_place(store: IdentityStore) -> None:
    store.add_principal(None, _principal("p1"))
    after_roles = store.set_roles(None, "p1", frozenset({Role.OPERATOR, Role.AUDITOR}))
    after_disable = store.set_disabled(None, "p1", True)
    got = store.get_principal("p1")
    assert got is not None and got.roles == {Role.OPERATOR, Role.AUDITOR} and got.disabled
    # What the service seals: the whole state after each change.
    assert after_roles == replace(got, disabled=False)
    assert after_disable == got
    assert store.set_disabled(None, "p1", False) == replace(got, disabled=False)
    assert not store.get_principal("p1").disabled  # type: ignore[union-attr]
    assert store.set_roles(None, "nobody", frozenset({Role.ADMIN})) is None
    assert store.set_disabled(None, "nobody", True) is None


def test_keys_are_found_by_prefix_with_their_principal(store: IdentityStore) -> None:
    owner = _principal("p1")
    store.add_principal(None, owner)
    key = _key("k1", owner, expires_at=T0 + timedelta(days=1), rotated_from="k0")
    store.add_key(None, key, "hash-1")
    assert store.get_key("k1") == key
    found = store.key_by_prefix(key.prefix)
    assert found == (key, "hash-1", owner)
    assert store.key_by_prefix("zzzzzzzzzzzz") is None
    with pytest.raises(DuplicateKey):
        store.add_key(None, key, "hash-2")


def test_keys_are_listed_by_id_per_principal_and_tenant(store: IdentityStore) -> None:
    a, b = _principal("p1"), _principal("p2", tenant="globex")
    store.add_principal(None, a)
    store.add_principal(None, b)
    for key_id, owner in (("k3", a), ("k1", b), ("k2", a)):
        store.add_key(None, _key(key_id, owner), "h")
    assert [k.key_id for k in store.api_keys()] == ["k1", "k2", "k3"]
    assert [k.key_id for k in store.api_keys(principal_id="p1")] == ["k2", "k3"]
    assert [k.key_id for k in store.api_keys(tenant_id="globex")] == ["k1"]
    assert store.api_keys(principal_id="p1", tenant_id="globex") == []


def test_an_end_is_brought_forward_never_pushed_back(store: IdentityStore) -> None:
    owner = _principal("p1")
    store.add_principal(None, owner)
    store.add_key(None, _key("k1", owner), "h")
    ended = store.end_key(None, "k1", T0 + timedelta(hours=1))
    assert ended == _key("k1", owner, revoked_at=T0 + timedelta(hours=1))
    assert store.end_key(None, "k1", T0 + timedelta(hours=2)) is None  # later: ignored
    assert store.get_key("k1").revoked_at == T0 + timedelta(hours=1)  # type: ignore[union-attr]
    assert store.end_key(None, "k1", T0) == _key("k1", owner, revoked_at=T0)
    assert store.get_key("k1").revoked_at == T0  # type: ignore[union-attr]
    assert store.end_key(None, "nope", T0) is None
    store.touch_key("k1", T0 + timedelta(minutes=5))
    assert store.get_key("k1").last_used_at == T0 + timedelta(minutes=5)  # type: ignore[union-attr]


def test_ending_a_key_ends_the_keys_it_replaced(store: IdentityStore) -> None:
    owner = _principal("p1")
    store.add_principal(None, owner)
    store.add_key(None, _key("k1", owner, revoked_at=T0 - timedelta(days=1)), "h")  # long dead
    store.add_key(
        None, _key("k2", owner, rotated_from="k1", revoked_at=T0 + timedelta(hours=1)), "h"
    )
    store.add_key(None, _key("k3", owner, rotated_from="k2"), "h")
    store.add_key(None, _key("k4", owner), "h")  # unrelated
    changed = store.end_key_chain(None, "k3", T0)
    ends = {k.key_id: k.revoked_at for k in store.api_keys()}
    assert ends == {"k1": T0 - timedelta(days=1), "k2": T0, "k3": T0, "k4": None}
    # Only the keys this call changed, after the change, in chain order (k1 was dead).
    assert changed == [store.get_key("k3"), store.get_key("k2")]
    assert store.end_key_chain(None, "k3", T0) == []


def test_a_rotation_cycle_terminates(store: IdentityStore) -> None:
    owner = _principal("p1")
    store.add_principal(None, owner)
    store.add_key(None, _key("k1", owner, rotated_from="k2"), "h")
    store.add_key(None, _key("k2", owner, rotated_from="k1"), "h")
    store.end_key_chain(None, "k1", T0)
    assert all(k.revoked_at == T0 for k in store.api_keys())


def test_the_newest_signing_key_wins_and_pems_swap_only_from_the_old(
    store: IdentityStore,
) -> None:
    assert store.newest_signing_key() is None
    store.add_signing_key(SigningKey("a", "pem-a", T0 + timedelta(seconds=1)))
    store.add_signing_key(SigningKey("b", "pem-b", T0))
    with pytest.raises(DuplicateKey):
        store.add_signing_key(SigningKey("a", "pem-x", T0))
    assert store.newest_signing_key() == SigningKey("a", "pem-a", T0 + timedelta(seconds=1))
    assert [k.key_id for k in store.signing_keys()] == ["a", "b"]
    assert not store.replace_signing_pem("a", "wrong", "sealed-a")
    assert store.replace_signing_pem("a", "pem-a", "sealed-a")
    assert store.newest_signing_key().private_pem == "sealed-a"  # type: ignore[union-attr]


def test_a_totp_counter_is_accepted_once_and_only_upwards(store: IdentityStore) -> None:
    store.put_factor(TotpFactor("p1", "sealed", confirmed=False, created_at=T0))
    assert not store.claim_counter("nobody", 5)
    assert store.confirm_factor("p1", 10)
    assert not store.confirm_factor("p1", 11)  # already confirmed
    factor = store.get_factor("p1")
    assert factor == TotpFactor("p1", "sealed", True, T0, 10)
    assert not store.claim_counter("p1", 10)  # the confirming code, replayed
    assert store.claim_counter("p1", 11)
    assert not store.claim_counter("p1", 11)
    assert not store.claim_counter("p1", 9)
    assert store.get_factor("p1").last_counter == 11  # type: ignore[union-attr]


def test_one_winner_when_threads_race_for_a_counter(store: IdentityStore) -> None:
    store.put_factor(TotpFactor("p1", "s", confirmed=True, created_at=T0))
    wins: list[bool] = []
    threads = [
        threading.Thread(target=lambda: wins.append(store.claim_counter("p1", 7))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1


def test_putting_a_factor_replaces_it_and_secrets_swap_only_from_the_old(
    store: IdentityStore,
) -> None:
    store.put_factor(TotpFactor("p1", "old", confirmed=True, created_at=T0, last_counter=3))
    store.put_factor(TotpFactor("p1", "new", confirmed=False, created_at=T0))
    assert store.get_factor("p1") == TotpFactor("p1", "new", False, T0, None)
    store.put_factor(TotpFactor("p0", "zero", confirmed=False, created_at=T0))
    assert [f.principal_id for f in store.factors()] == ["p0", "p1"]
    assert not store.replace_factor_secret("p1", "old", "sealed")
    assert store.replace_factor_secret("p1", "new", "sealed")
    assert store.get_factor("p1").secret == "sealed"  # type: ignore[union-attr]
    assert store.get_factor("nobody") is None


def _token(token_hash: str, at: datetime, issued_by: str | None = "admin") -> EnrolmentToken:
    return EnrolmentToken(token_hash, "p1", "acme", issued_by, at, at + timedelta(minutes=10))


def test_an_enrolment_token_resets_the_factor_and_voids_older_tokens(
    store: IdentityStore,
) -> None:
    store.put_factor(TotpFactor("p1", "s", confirmed=True, created_at=T0))
    store.start_enrolment(_token("h1", T0))
    assert store.get_factor("p1") is None
    later = T0 + timedelta(minutes=1)
    store.start_enrolment(_token("h2", later, issued_by=None))
    assert not store.redeem_enrolment("h1", "p1", later)  # voided by h2
    assert store.newest_enrolment("p1") == _token("h2", later, issued_by=None)
    assert store.newest_enrolment("p2") is None
    assert not store.redeem_enrolment("h2", "p2", later)  # someone else's
    assert store.redeem_enrolment("h2", "p1", later)
    assert not store.redeem_enrolment("h2", "p1", later)  # once
    got = store.newest_enrolment("p1")
    assert got is not None and got.used_at == later


def test_an_expired_enrolment_token_is_refused(store: IdentityStore) -> None:
    store.start_enrolment(_token("h1", T0))
    assert not store.redeem_enrolment("h1", "p1", T0 + timedelta(minutes=10))
    assert store.redeem_enrolment("h1", "p1", T0 + timedelta(minutes=9))


def _consent(cid: str, at: datetime, granted: bool = True, **kw: str) -> ConsentRecord:
    fields = {"tenant_id": "acme", "subject": "urn:s:1", "purpose": "marketing", **kw}
    return ConsentRecord(
        cid, fields["tenant_id"], fields["subject"], fields["purpose"], granted, at, "p1"
    )


def test_consent_history_is_per_tenant_and_subject_in_time_order(store: IdentityStore) -> None:
    store.add_consent(None, _consent("c2", T0 + timedelta(seconds=1), granted=False))
    store.add_consent(None, _consent("c1", T0))
    store.add_consent(None, _consent("c0", T0 + timedelta(seconds=1)))  # same instant: by id
    store.add_consent(None, _consent("c3", T0, tenant_id="globex"))
    store.add_consent(None, _consent("c4", T0, subject="urn:s:2"))
    with pytest.raises(DuplicateKey):
        store.add_consent(None, _consent("c1", T0))
    history = store.consent_history("acme", "urn:s:1")
    assert [(c.consent_id, c.granted) for c in history] == [
        ("c1", True),
        ("c0", True),
        ("c2", False),
    ]
    assert history[0] == _consent("c1", T0)
    assert [c.consent_id for c in store.consent_history("globex", "urn:s:1")] == ["c3"]


def test_a_consent_written_on_a_transaction_is_rolled_back_with_it(
    store: IdentityStore, database: Database | None
) -> None:
    if database is None:
        pytest.skip("the memory store has no transaction to join")
    with pytest.raises(RuntimeError), SqlRunner(database).transaction() as tx:
        store.add_consent(tx.conn, _consent("c1", T0))
        raise RuntimeError("the ledger refused the entry")
    assert store.consent_history("acme", "urn:s:1") == []
    with SqlRunner(database).transaction() as tx:
        store.add_consent(tx.conn, _consent("c1", T0))
    assert [c.consent_id for c in store.consent_history("acme", "urn:s:1")] == ["c1"]


def test_identity_writes_on_a_transaction_are_rolled_back_with_it(
    store: IdentityStore, database: Database | None
) -> None:
    """The identity service writes a tenant, a principal, a key and their changes on the
    ledger's transaction: a refused entry must leave none of them."""
    if database is None:
        pytest.skip("the memory store has no transaction to join")
    owner = _principal("p1")
    with pytest.raises(RuntimeError), SqlRunner(database).transaction() as tx:
        store.add_tenant(tx.conn, Tenant("acme", "Acme", T0))
        store.add_principal(tx.conn, owner)
        store.add_key(tx.conn, _key("k1", owner), "h")
        raise RuntimeError("the ledger refused the entry")
    assert store.tenants() == [] and store.principals() == [] and store.api_keys() == []
    with SqlRunner(database).transaction() as tx:
        store.add_tenant(tx.conn, Tenant("acme", "Acme", T0))
        store.add_principal(tx.conn, owner)
        store.add_key(tx.conn, _key("k1", owner), "h")
    with pytest.raises(RuntimeError), SqlRunner(database).transaction() as tx:
        # Read back on the transaction: the state sealed is the state written.
        assert store.set_roles(tx.conn, "p1", frozenset({Role.ADMIN})).roles == {Role.ADMIN}  # type: ignore[union-attr]
        assert store.set_disabled(tx.conn, "p1", True).disabled  # type: ignore[union-attr]
        assert [k.key_id for k in store.end_key_chain(tx.conn, "k1", T0)] == ["k1"]
        assert store.end_key(tx.conn, "k1", T0 - timedelta(hours=1)) is not None
        raise RuntimeError("the ledger refused the entry")
    assert store.get_principal("p1") == owner
    assert store.get_key("k1") == _key("k1", owner)
    assert [t.tenant_id for t in store.tenants()] == ["acme"]


def _access(eid: str, at: datetime, tenant: str = "acme") -> AccessRecord:
    return AccessRecord(eid, "audit.access", tenant, "p1", "ledger:read", "/v1/x", None, "ok", at)


def test_accesses_since_filter_by_time_and_tenant_in_order_with_a_limit(
    store: IdentityStore,
) -> None:
    store.add_access(_access("e3", T0 + timedelta(seconds=2)))
    store.add_access(_access("e1", T0))
    store.add_access(_access("e0", T0 - timedelta(seconds=1)))
    store.add_access(_access("e2", T0 + timedelta(seconds=1), tenant="globex"))
    store.add_access(replace(_access("e4", T0 + timedelta(seconds=2)), reason="why"))
    with pytest.raises(DuplicateKey):
        store.add_access(_access("e1", T0))
    assert [a.event_id for a in store.accesses_since(T0)] == ["e1", "e2", "e3", "e4"]
    assert [a.event_id for a in store.accesses_since(T0, tenant_id="acme")] == ["e1", "e3", "e4"]
    assert [a.event_id for a in store.accesses_since(T0, limit=2)] == ["e1", "e2"]
    assert store.accesses_since(T0)[-1].reason == "why"
    assert store.accesses_since(T0)[0] == _access("e1", T0)


def test_deleting_accesses_before_an_instant_touches_one_tenant_only(
    store: IdentityStore,
) -> None:
    store.add_access(_access("old", T0 - timedelta(days=2)))
    store.add_access(_access("new", T0))
    store.add_access(_access("other", T0 - timedelta(days=2), tenant="globex"))
    assert store.delete_accesses_before("acme", T0 - timedelta(days=1)) == 1
    assert store.delete_accesses_before("acme", T0 - timedelta(days=1)) == 0
    left = store.accesses_since(T0 - timedelta(days=3))
    assert [a.event_id for a in left] == ["other", "new"]
