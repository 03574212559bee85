"""The ledger as the event store, on SQLite and PostgreSQL: every projection rebuilt from
the entries of a busy home equals the live tables row by row; a backup restored into an
empty home serves the same balances, statements, decisions and proofs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest

from paygod.banking.backup import backup
from paygod.banking.restore import restore
from paygod.banking.service import PROJECTORS
from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import Role
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import CheckFailed, Conflict, InvalidInput, NotFound, Unauthorized
from paygod.kernel.settings import Settings, load_settings
from paygod.ledger.signing import KEY_FILE
from tests.support.busy_home import make_busy

Factory = Callable[..., Settings]


@pytest.fixture(params=["sqlite", "postgres"])
def settings_for(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Settings for a fresh home (and, on PostgreSQL, a fresh schema) per name."""
    schemas: list[str] = []
    if request.param == "postgres":
        postgres_url: str = request.getfixturevalue("postgres_url")

    def make(name: str, **extra: Any) -> Settings:
        if request.param == "sqlite":
            return load_settings(home=tmp_path / name, database_url=None, redis_url=None, **extra)
        schema = f"t_{uuid4().hex}"
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        url = f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
        return load_settings(home=tmp_path / name, database_url=url, redis_url=None, **extra)

    yield make
    if schemas:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            for schema in schemas:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def busy(settings_for: Factory) -> Iterator[tuple[Kernel, dict[str, Any], Factory]]:
    kernel = build_kernel(settings_for("busy"))
    try:
        ids = make_busy(kernel)
        yield kernel, ids, settings_for
    finally:
        kernel.close()


def _check_all(kernel: Kernel) -> None:
    for comparison in kernel.projections.compare():
        assert comparison.ok, comparison.as_dict()
        assert all(comparison.rows.values()), comparison.as_dict()  # something was compared


def test_every_projection_rebuilds_row_for_row(busy: Any) -> None:
    kernel, _, _ = busy
    _check_all(kernel)  # folded in memory: equal to what the write path wrote
    before = {
        t.name: list(kernel.projections.swap.live_rows(t))
        for p in PROJECTORS.values()
        for t in p.tables
    }
    swap = kernel.projections.swap
    tables = [t.name for p in PROJECTORS.values() for t in p.tables]
    schemas = {t: _schema(swap, t) for t in tables}
    reports = kernel.projections.rebuild()
    # The switched-in tables have the live ones' keys and indexes, under the same names.
    assert {t: _schema(swap, t) for t in tables} == schemas
    assert {r.name for r in reports} == set(PROJECTORS)
    assert all(r.unresolved_metadata == 0 for r in reports)
    _check_all(kernel)
    for p in PROJECTORS.values():
        for t in p.tables:
            assert len(list(kernel.projections.swap.live_rows(t))) == len(before[t.name])
    # The switched-in tables serve: keys, indexes and idempotency behave as before.
    assert kernel.accounting.rebuild_check(None).ok
    kernel.accounting.transfer("default", _request("after-rebuild"))
    with pytest.raises(Conflict):
        kernel.accounting.transfer("default", _request("after-rebuild", amount=2))
    _check_all(kernel)
    status = {s.name: s for s in kernel.projections.status()}
    assert all(s.state == "live" and s.lag_entries == 0 for s in status.values())
    assert status["accounting"].rebuilt_at is not None
    assert status["accounting"].position == kernel.ledger.size


def test_entries_sealed_during_a_rebuild_are_caught_up_at_the_switch(busy: Any) -> None:
    kernel, _, _ = busy
    swap = kernel.projections.swap
    create = swap.create_shadow
    written: list[str] = []

    def create_and_write(table: Any) -> None:
        # After the fold, before the switch: the live tables take these, the shadows not.
        if not written:
            kernel.accounting.transfer("default", _request("during", amount=3))
            kernel.accounting.post_pending("default", "h2")  # a hold the fold saw pending
            kernel.accounting.update_metadata("default", "fees", {"late": True})
            written.append(table.name)
        create(table)

    swap.create_shadow = create_and_write
    (report,) = kernel.projections.rebuild("accounting")
    assert written and report.caught_up == 3
    assert report.position == kernel.ledger.size
    _check_all(kernel)
    assert kernel.accounting.get_transfer("default", "h2").state.value == "posted"
    assert kernel.accounting.get_account("default", "fees").metadata == {"late": True}


def test_a_rebuild_while_transfers_keep_coming(busy: Any) -> None:
    import threading

    kernel, _, _ = busy
    stop = threading.Event()
    done: list[str] = []
    errors: list[BaseException] = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set() or n < 20:
            try:
                kernel.accounting.transfer("default", _request(f"live-{n}"))
                done.append(f"live-{n}")
            except BaseException as exc:
                errors.append(exc)
                return
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        reports = kernel.projections.rebuild()
    finally:
        stop.set()
        writer.join(60)
    assert not errors, errors
    assert len(done) >= 20
    assert reports[0].position <= kernel.ledger.size
    _check_all(kernel)
    assert kernel.accounting.rebuild_check(None).ok


def _schema(swap: Any, table: str) -> Any:
    with swap._conn() as conn:
        found = swap.schema(conn, table)
    return (found.constraints, found.indexes)


def test_unknown_projection_names_the_known_ones(busy: Any) -> None:
    kernel, _, _ = busy
    with pytest.raises(
        NotFound, match="accounting, cases, consents, decisions, identity, payments"
    ):
        kernel.projections.rebuild("ledgers")


def _request(id: str, amount: int = 1) -> Any:
    from paygod.accounting.model import TransferRequest

    return TransferRequest(id, "cash", "fees", amount)


def _books(kernel: Kernel, ids: dict[str, Any]) -> dict[str, Any]:
    """Everything a user reads back: balances, statements, transfers, decisions, payments,
    proofs at a fixed tree size."""
    acc = kernel.accounting
    out: dict[str, Any] = {"accounts": {}, "statements": {}}
    for tenant in ("default", "other", "acme"):
        for a in acc.list_accounts(tenant, limit=1000):
            now = acc.balance(tenant, a.id).as_dict()
            del now["at"]  # the instant asked at, not the books
            then = acc.balance(tenant, a.id, at=a.created_at + timedelta(milliseconds=50))
            # On both time axes: the valid-time postings index is rebuilt from the transfers.
            both = acc.valid_balance(tenant, a.id, a.created_at + timedelta(milliseconds=50))
            out["accounts"][f"{tenant}/{a.id}"] = (
                a.as_dict(),
                now,
                then.as_dict(),
                (both.debits_posted, both.credits_posted),
                (acc.valid_balance(tenant, a.id).debits_posted,),
            )
            start = a.created_at - timedelta(days=1)
            end = parse_instant("2100-01-01T00:00:00Z")
            out["statements"][f"{tenant}/{a.id}"] = acc.statement(
                tenant, a.id, start, end
            ).as_dict()
        out[f"transfers-{tenant}"] = [t.as_dict() for t in acc.list_transfers(tenant, limit=1000)]
    out["decisions"] = [kernel.decisions.get(d) for d in ids["decisions"]]
    for decision in out["decisions"]:
        # A receipt's proof is at the size of a head signed when asked (cached a second):
        # the entry it proves is compared, the proofs at one fixed size below.
        for receipt in (decision["ledger"], decision.get("receipt") or {}):
            receipt.pop("inclusion_proof", None)
            receipt.pop("tree_head", None)
    for i, d in enumerate(ids["decisions"]):
        if i % 2:
            assert kernel.decisions.get(d, owner="agent-bot")["decision_id"] == d
        else:
            with pytest.raises(NotFound):
                kernel.decisions.get(d, owner="agent-bot")
    out["payments"] = [
        kernel.payments.get(p, tenant_id="default").as_dict() for p in ids["payments"]
    ]
    out["payees"] = [kernel.payments.payees.get(p) for p in ids["payments"]]
    assert all(out["payees"])  # the vault came back: a payment can still be sent
    out["cases"] = [c.as_dict() for c in kernel.cases.list("default")]
    out["consents"] = [
        r.as_dict() for r in kernel.identity.consent.history("default", "urn:person:1")
    ]
    out["tenants"] = [t.as_dict() for t in kernel.identity.list_tenants()]
    out["principals"] = [p.as_dict() for p in kernel.identity.list_principals()]
    # A key's last use is an operational hint, not sealed: empty after a restore.
    out["keys"] = [{**k.as_dict(), "last_used_at": None} for k in kernel.identity.list_keys()]
    out["loan"] = _loan(kernel, ids["loan"])
    size = kernel.ledger.size
    out["proofs"] = [kernel.ledger.inclusion_proof(s, size).as_dict() for s in range(0, size, 7)]
    out["root"] = kernel.ledger.root_hash(size)
    return json.loads(json.dumps(out, default=str))


def test_backup_restore_round_trip(busy: Any, tmp_path: Path) -> None:
    kernel, ids, settings_for = busy
    manifest = backup(
        kernel.ledger,
        kernel.db,
        tmp_path / "bk",
        signing_key=kernel.settings.home / KEY_FILE,
        payees=kernel.payments.payees,
    )
    size = manifest["tree_size"]
    expected = _books(kernel, ids)
    target = settings_for("restored")
    report = restore(target, tmp_path / "bk", open_kernel=build_kernel)
    assert report["entries_imported"] == size
    assert report["accounts_audit"]["ok"], report
    restored = build_kernel(target)
    try:
        assert restored.accounting.rebuild_check(None).ok
        assert restored.ledger.verify().ok
        got = _books(restored, ids)
        for key in expected:
            _same(got[key], expected[key], key)
        _check_all(restored)
        # Principals, their roles and their keys came back: the same key authenticates
        # (its verifier was sealed), a revoked one stays revoked.
        who = restored.identity.authenticate_key(ids["identity"]["token"])
        assert who.principal.principal_id == ids["identity"]["clerk"]
        assert who.principal.roles == {Role.OPERATOR, Role.AUDITOR}
        with pytest.raises(Unauthorized, match="revoked"):
            restored.identity.authenticate_key(ids["identity"]["revoked_token"])
        # A restored home is not a first start: no dev key is minted over it.
        assert restored.identity.dev_key() is None
    finally:
        restored.close()


def test_restore_refuses_and_changes_nothing(busy: Any, tmp_path: Path) -> None:
    kernel, _, settings_for = busy
    backup(kernel.ledger, kernel.db, tmp_path / "bk", payees=kernel.payments.payees)
    size_before = kernel.ledger.size
    with pytest.raises(InvalidInput, match="not empty"):
        restore(kernel.settings, tmp_path / "bk", open_kernel=build_kernel)  # the busy home itself
    assert kernel.ledger.size == size_before
    vault = tmp_path / "bk" / "vault" / "payment-payees.jsonl"
    original = vault.read_bytes()
    vault.write_bytes(original.replace(b"Vendor", b"Mallory", 1))
    _rehash(tmp_path / "bk", "vault/payment-payees.jsonl")
    with pytest.raises(CheckFailed, match="is not the one its payment sealed"):
        restore(settings_for("wrong-payee"), tmp_path / "bk", open_kernel=build_kernel)
    vault.write_bytes(original)
    _rehash(tmp_path / "bk", "vault/payment-payees.jsonl")
    lines = (tmp_path / "bk" / "ledger.jsonl").read_bytes().splitlines()
    lines[3] = lines[3].replace(b'"tenant_id":"default"', b'"tenant_id":"evil"', 1)
    (tmp_path / "bk" / "ledger.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    target = settings_for("refused")
    with pytest.raises(CheckFailed, match=r"ledger\.jsonl does not match its sha256"):
        restore(target, tmp_path / "bk", open_kernel=build_kernel)
    _rehash(tmp_path / "bk", "ledger.jsonl")  # a forger who also fixed the manifest
    with pytest.raises(CheckFailed, match=r"the ledger does not verify: entry 3.*nothing restored"):
        restore(target, tmp_path / "bk", open_kernel=build_kernel)
    assert not target.home.exists()
    assert kernel.ledger.verify().ok


def test_restore_without_the_signing_key(settings_for: Factory, tmp_path: Path) -> None:
    """A home signing with a key of its own re-signs the backup's heads (checked against
    the old signatures first): its own `ledger verify` passes, schedule included."""
    kernel = build_kernel(settings_for("keyed", tree_head_every_entries=10))
    try:
        make_busy(kernel, rounds=2, loans=False)
        old_key = kernel.ledger.signer.key_id
        manifest = backup(
            kernel.ledger, kernel.db, tmp_path / "bk", payees=kernel.payments.payees
        )  # no signing key
        heads = len(kernel.ledger.store.tree_heads())
    finally:
        kernel.close()
    assert not manifest["signing_key_included"]
    target = settings_for("new-key", tree_head_every_entries=10)
    report = restore(target, tmp_path / "bk", open_kernel=build_kernel)
    assert report["tree_heads_restored"] == heads and not report["signing_key_restored"]
    restored = build_kernel(target)
    try:
        assert restored.ledger.signer.key_id != old_key
        verified = restored.ledger.verify()
        assert verified.ok, verified.findings
        assert restored.accounting.rebuild_check(None).ok
    finally:
        restored.close()


def test_point_in_time_restore(busy: Any, tmp_path: Path) -> None:
    kernel, _, settings_for = busy
    backup(kernel.ledger, kernel.db, tmp_path / "bk", payees=kernel.payments.payees)
    cut = kernel.ledger.size // 2
    root = kernel.ledger.root_hash(cut)
    target = settings_for("pit")
    report = restore(target, tmp_path / "bk", tree_size=cut, open_kernel=build_kernel)
    assert report["tree_size"] == cut and report["root_hash"] == root
    assert report["accounts_audit"]["ok"]
    restored = build_kernel(target)
    try:
        assert restored.ledger.size == cut
        _check_all_nonempty(restored)
    finally:
        restored.close()


def _check_all_nonempty(kernel: Kernel) -> None:
    for comparison in kernel.projections.compare():
        assert comparison.ok, comparison.as_dict()


def _rehash(folder: Path, name: str) -> None:
    """Update the manifest's sha256 of `name`, as someone forging a backup would."""
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _loan(kernel: Kernel, loan_id: str) -> Any:
    loan = kernel.loans.get(loan_id)
    return loan.as_dict() if hasattr(loan, "as_dict") else loan


def _same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), (where, set(a) ^ set(b))
        for k in a:
            _same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}/{i}")
    else:
        assert a == b, (where, a, b)
