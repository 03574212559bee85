"""Backup and restore of the books: the ledger is the record, every table is rebuilt.

A backup directory holds (see docs/event-store.md):
  manifest.json            format, tree size, root, key id, sha256 of every file
  ledger.jsonl             every entry, the ledger.jsonl interchange form (DESIGN.md §4)
  tree-head.json           a head signed at the backup's tree size
  tree-heads.json          every signed head the ledger had stored
  ledger-public-key.pem    the key the heads verify with
  metadata.jsonl           account/transfer metadata by digest (the ledger seals digests
                           only: this file may hold personal data)
  vault/payment-payees.jsonl  the payee vault (personal data: names, account numbers),
                           each payee checked on restore against the payee_ref its
                           payment sealed
  keys/ledger-ed25519.pem  the ledger signing key (left out with include_signing_key=False)
Never in it: the identity KEY-ENCRYPTION KEY (PAYGOD_KEK / keys/kek), which by its own
policy never sits beside the data it protects, and the tables themselves.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from paygod.banking.errors import BankingCode
from paygod.banking.metadata import MetadataStore, live_metadata
from paygod.canonical import digest
from paygod.kernel.clock import isoformat
from paygod.kernel.database import Database, SqliteDatabase
from paygod.kernel.errors import CheckFailed, InvalidInput
from paygod.ledger import LedgerService
from paygod.ledger.chain import canonical_parsed_bytes, entry_from_interchange, entry_leaf_hash
from paygod.ledger.model import SignedTreeHead
from paygod.ledger.verifier import check_tree_heads, key_id_of, load_public_key, node_hash
from paygod.payments.ports import PayeeVault

FORMAT = "paygod-backup/1"
LEDGER = "ledger.jsonl"
HEAD = "tree-head.json"
HEADS = "tree-heads.json"
PUBLIC_KEY = "ledger-public-key.pem"
METADATA = "metadata.jsonl"
SIGNING_KEY = "keys/ledger-ed25519.pem"
PAYEES = "vault/payment-payees.jsonl"
LEFT_OUT = [
    "the identity key-encryption key (PAYGOD_KEK or PAYGOD_HOME/keys/kek): keep it apart",
    "tables: every one is rebuilt from the ledger on restore",
]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _private_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def backup(
    ledger: LedgerService,
    db: Database,
    out: Path,
    *,
    signing_key: Path | None = None,
    payees: PayeeVault | None = None,
) -> dict[str, Any]:
    """Write a backup of the ledger into `out` (absent or empty); returns its manifest.
    `signing_key`: the PEM file of the ledger signing key to include (None: left out).
    `payees`: the payee vault to read payees through (they may be sealed per data subject
    in the privacy vault: the rows then hold only a reference); None reads the rows."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out} exists and is not an empty directory; nothing written")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(out, 0o700)
    head = ledger.flush_tree_head()  # the backup covers exactly this many entries
    size = head.tree_size
    fd = os.open(out / LEDGER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        after = -1
        while after + 1 < size:
            batch = ledger.entries(after, min(5000, size - after - 1))
            if not batch:
                break
            for entry in batch:
                f.write(canonical_parsed_bytes(entry.to_interchange()) + b"\n")
            after = batch[-1].seq
    _private_write(out / HEAD, orjson.dumps(head.as_dict()))
    heads = [h.as_dict() for h in ledger.store.tree_heads() if h.tree_size <= size]
    _private_write(out / HEADS, orjson.dumps(heads))
    _private_write(out / PUBLIC_KEY, ledger.public_key_pem())
    metadata = live_metadata(db)
    metadata.write(out / METADATA)
    os.chmod(out / METADATA, 0o600)
    rows = read_payees(db, payees)
    _private_write(out / PAYEES, b"".join(orjson.dumps(r) + b"\n" for r in rows))
    files = [LEDGER, HEAD, HEADS, PUBLIC_KEY, METADATA, PAYEES]
    if signing_key is not None:
        _private_write(out / SIGNING_KEY, signing_key.read_bytes())
        files.append(SIGNING_KEY)
    manifest = {
        "format": FORMAT,
        "created_at": isoformat(ledger.clock.now()),
        "tree_size": size,
        "root_hash": head.root_hash,
        "key_id": head.key_id,
        "metadata_objects": len(metadata.objects),
        "payees": len(rows),
        "signing_key_included": signing_key is not None,
        "files": {name: _sha256(out / name) for name in files},
        "left_out": LEFT_OUT,
    }
    _private_write(out / "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


@dataclass(frozen=True)
class VerifiedBackup:
    """A backup whose files, chain, heads and metadata all checked out."""

    path: Path
    manifest: Mapping[str, Any]
    lines: list[dict[str, Any]]  # the interchange objects, in order
    heads: list[dict[str, Any]]
    public_key_pem: bytes
    metadata: MetadataStore
    signing_key: bytes | None
    payees: list[dict[str, Any]]

    @property
    def tree_size(self) -> int:
        return len(self.lines)


def _refuse(path: Path, why: str) -> CheckFailed:
    return CheckFailed(f"backup {path} refused: {why}; nothing restored")


def verify_backup(path: Path) -> VerifiedBackup:
    """Check everything in a backup before anything is touched (CheckFailed says why)."""
    from paygod.ledger.fast_verify import read_interchange, verify_jsonl_report

    try:
        manifest = orjson.loads((path / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise _refuse(path, f"no readable manifest.json ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise _refuse(path, f"format {manifest.get('format')!r} is not {FORMAT}")
    for name, expected in dict(manifest.get("files") or {}).items():
        file = path / name
        if not file.is_file():
            raise _refuse(path, f"{name} is missing")
        if _sha256(file) != expected:
            raise _refuse(path, f"{name} does not match its sha256 in manifest.json")
    for name in (LEDGER, HEAD, HEADS, PUBLIC_KEY):
        if name not in manifest["files"]:
            raise _refuse(path, f"manifest.json does not list {name}")
    public = (path / PUBLIC_KEY).read_bytes()
    head = orjson.loads((path / HEAD).read_bytes())
    report = verify_jsonl_report(path / LEDGER, tree_head=head, public_key_pem=public)
    if not report.ok:
        raise _refuse(path, f"the ledger does not verify: {report.findings[0].message}")
    if report.tree_size != head["tree_size"] or head["tree_size"] != manifest["tree_size"]:
        raise _refuse(path, "the signed tree head does not cover the whole ledger.jsonl")
    lines = read_interchange(path / LEDGER)
    heads = list(orjson.loads((path / HEADS).read_bytes()))
    problems = check_tree_heads(heads, _roots(lines, heads), len(lines), public)
    if problems:
        raise _refuse(path, f"a stored tree head fails: {problems[0]['message']}")
    signing_key = None
    if SIGNING_KEY in manifest["files"]:
        signing_key = (path / SIGNING_KEY).read_bytes()
        _check_pair(path, signing_key, public)
    metadata = MetadataStore.read(path / METADATA)
    payees = _checked_payees(path, lines)
    return VerifiedBackup(path, manifest, lines, heads, public, metadata, signing_key, payees)


def _check_pair(path: Path, private_pem: bytes, public_pem: bytes) -> None:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )

    key = load_pem_private_key(private_pem, password=None)
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    expected = load_public_key(public_pem).public_bytes(Encoding.Raw, PublicFormat.Raw)
    if key_id_of(raw) != key_id_of(expected):
        raise _refuse(path, "the signing key is not the key the tree heads verify with")


def _roots(
    lines: Sequence[Mapping[str, Any]], heads: Sequence[Mapping[str, Any]]
) -> dict[int, str]:
    """The Merkle root at every head's tree size (one pass, RFC 9162 stack)."""
    from paygod.ledger.verifier import merkle_root

    sizes = {h.get("tree_size") for h in heads}
    roots: dict[int, str] = {0: merkle_root([]).hex()}
    stack: list[tuple[int, bytes]] = []
    for position, line in enumerate(lines, 1):
        size, node = 1, entry_leaf_hash(entry_from_interchange(line))
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            node = node_hash(left, node)
            size += left_size
        stack.append((size, node))
        if position in sizes:
            top = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                top = node_hash(left, top)
            roots[position] = top.hex()
    return roots


def head_of(doc: Mapping[str, Any]) -> SignedTreeHead:
    return SignedTreeHead(
        int(doc["tree_size"]),
        str(doc["root_hash"]),
        str(doc["timestamp"]),
        str(doc["key_id"]),
        str(doc["signature"]),
    )


def refuse_non_empty(what: str, entries: int, rows: Mapping[str, int]) -> None:
    filled = {t: n for t, n in rows.items() if n}
    if entries or filled:
        detail = f"{entries} ledger entries" + "".join(
            f", {n} rows in {t}" for t, n in filled.items()
        )
        raise InvalidInput(
            f"restore refused: {what} is not empty ({detail}); nothing restored",
            code=BankingCode.RESTORE_TARGET_NOT_EMPTY,
        )


def read_payees(db: Database, vault: PayeeVault | None = None) -> list[dict[str, Any]]:
    """Every payee of the payee vault, by payment id; through `vault` when given (a payee
    whose data subject was erased is left out: its key is gone, its digest stays sealed)."""
    sql = "SELECT payment_id, payee FROM payment_payees ORDER BY payment_id"
    if isinstance(db, SqliteDatabase):
        lite = db.connect()
        try:
            rows = lite.execute(sql).fetchall()
        finally:
            lite.close()
    else:
        with db.connection() as conn:
            rows = conn.execute(sql).fetchall()
    if vault is None:
        return [{"payment_id": r[0], "payee": orjson.loads(r[1])} for r in rows]
    found = [(str(r[0]), vault.get(str(r[0]))) for r in rows]
    return [{"payment_id": pid, "payee": payee} for pid, payee in found if payee is not None]


def _checked_payees(path: Path, lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The vault's payees, each the one its payment sealed (by payee_ref digest)."""
    file = path / PAYEES
    if not file.exists():
        return []
    sealed: dict[str, str] = {}
    for line in lines:
        data = line["data"]
        if data.get("kind") == "payment":
            payment = data["payload"].get("payment") or {}
            sealed[str(payment.get("payment_id"))] = str(payment.get("payee_ref"))
    rows = [orjson.loads(x) for x in file.read_bytes().splitlines() if x.strip()]
    # A payment created while the backup ran has its payee in the vault but its entries
    # after the backup's tree size: it is not part of this backup.
    rows = [r for r in rows if r["payment_id"] in sealed]
    for row in rows:
        if sealed[row["payment_id"]] != digest(dict(row["payee"])):
            raise _refuse(path, f"the vault's payee of payment {row['payment_id']} is not the "
                          "one its payment sealed")  # fmt: skip
    return rows
