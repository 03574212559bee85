"""Restore a backup into an empty home or database: verify everything first, then replay.

Order matters for "nothing changed" on a refusal: the backup is verified and the target
found empty before the home is created, the key written or a table migrated.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paygod.banking.backup import VerifiedBackup, head_of, refuse_non_empty, verify_backup
from paygod.banking.service import PROJECTORS
from paygod.kernel.errors import Conflict, FieldError, InvalidInput
from paygod.kernel.settings import Settings
from paygod.ledger.chain import canonical_parsed_bytes
from paygod.ledger.signing import KEY_FILE

TABLES = [t.name for p in PROJECTORS.values() for t in p.tables]


def _count_sqlite(path: Path) -> tuple[int, dict[str, int]]:
    if not path.exists():
        return 0, {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        counts = {
            t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
            for t in ["ledger_entries", *TABLES]
            if t in present
        }
    finally:
        conn.close()
    return counts.pop("ledger_entries", 0), counts


def _count_postgres(url: str) -> tuple[int, dict[str, int]]:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        counts: dict[str, int] = {}
        for t in ["ledger_entries", *TABLES]:
            row = conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()
            if row and row[0] is not None:
                found = conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()
                counts[t] = int(found[0]) if found else 0
    return counts.pop("ledger_entries", 0), counts


def check_empty(settings: Settings) -> None:
    if settings.distributed:
        assert settings.database_url is not None
        entries, rows = _count_postgres(settings.database_url)
        refuse_non_empty("the database", entries, rows)
        return
    entries, rows = _count_sqlite(settings.sqlite_path)
    refuse_non_empty(f"the home {settings.home}", entries, rows)


def _place_key(settings: Settings, verified: VerifiedBackup) -> bool:
    """Put the backup's signing key where the kernel loads it; False when it has none."""
    from paygod.banking.backup import _check_pair, _private_write

    if verified.signing_key is None:
        return False
    path = settings.signing_key or settings.home / KEY_FILE
    if path.exists():
        try:
            _check_pair(verified.path, path.read_bytes(), verified.public_key_pem)
        except Exception:
            raise Conflict(
                f"restore refused: {path} holds another ledger signing key; nothing restored"
            ) from None
        return True
    _private_write(path, verified.signing_key)
    return True


def _restore_heads(kernel: Any, verified: VerifiedBackup, size: int, keyed: bool) -> int:
    """The backup's signed heads up to `size`. Without the signing key this home signs with
    a key of its own: heads signed by another key would fail its `ledger verify`, and no
    head at all would look like removed ones. So it signs, with its key and now, a head at
    each of those sizes and roots (checked against the old signatures before anything was
    touched); the backup keeps the old signatures and public key as the proof of those."""
    from paygod.kernel.clock import isoformat

    heads = [doc for doc in verified.heads if doc["tree_size"] <= size]
    for doc in heads:
        head = head_of(doc)
        if not keyed:
            now = isoformat(kernel.clock.now())
            head = kernel.ledger.signer.sign(head.tree_size, head.root_hash, now)
        kernel.ledger.store.save_tree_head(head)
    return len(heads)


def _restore_payees(kernel: Any, verified: VerifiedBackup, size: int) -> int:
    """The payee vault rows of the payments the restored ledger holds."""
    tenants = {
        str(line["data"]["payload"]["payment"]["payment_id"]): str(
            line["data"]["payload"]["payment"].get("tenant_id") or "default"
        )
        for line in verified.lines[:size]
        if line["data"]["kind"] == "payment"
    }
    vault = kernel.payments.payees
    count = 0
    for row in verified.payees:
        if row["payment_id"] in tenants:  # sealed again under the payment's own tenant
            count += int(
                vault.put(None, row["payment_id"], row["payee"], tenants[row["payment_id"]])
            )
    return count


def restore(
    settings: Settings,
    source: Path,
    tree_size: int | None = None,
    *,
    open_kernel: Callable[[Settings], Any],
) -> dict[str, Any]:
    """`open_kernel`: the composition root's `build_kernel` (the caller's: this package sits
    below the root and must not import it)."""
    verified = verify_backup(source)
    size = verified.tree_size if tree_size is None else tree_size
    if not 0 < size <= verified.tree_size:
        raise InvalidInput(
            f"--tree-size {tree_size} is outside the backup (1 to {verified.tree_size})",
            errors=[FieldError("--tree-size", f"1 to {verified.tree_size}")],
        )
    check_empty(settings)
    keyed = _place_key(settings, verified)
    kernel = open_kernel(settings)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / "ledger.jsonl"
            with part.open("wb") as f:
                for line in verified.lines[:size]:
                    f.write(canonical_parsed_bytes(line) + b"\n")
            imported = kernel.ledger.import_jsonl(part)
        heads = _restore_heads(kernel, verified, size, keyed)
        payees = _restore_payees(kernel, verified, size)
        rebuilt = kernel.projections.rebuild(resolve=verified.metadata.get)
        audit = kernel.accounting.rebuild_check(None)
        return {
            "restored_from": str(source),
            "tree_size": size,
            "backup_tree_size": verified.tree_size,
            "entries_imported": imported,
            "root_hash": kernel.ledger.root_hash(),
            "tree_heads_restored": heads,  # re-signed by this home's key without the old one
            "signing_key_restored": keyed,
            "payees_restored": payees,
            "projections": [r.as_dict() for r in rebuilt],
            "accounts_audit": audit.as_dict(),
        }
    finally:
        kernel.close()
