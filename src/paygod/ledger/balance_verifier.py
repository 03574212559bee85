"""A standalone verifier of balance proofs: one account's statement in a sealed period.

Depends on nothing in Paygod but its sibling `verifier.py` (itself standalone: the
standard library and `cryptography`), so an account holder copies both files and checks
a proof without trusting the server:

    python balance_verifier.py proof.json [PUBLIC_KEY.pem]

What a proof shows, and how:

1. The statement (account, currency, debits, credits, a random salt) is a leaf of a
   Merkle *sum* tree: every node carries, per currency, the sums of debits and credits
   beneath it, and its hash binds both children's hashes and both children's sums (the
   fix of Hu, Zhang and Guo, "Fixing the Maxwell protocol", 2019: a hash over the total
   alone lets a prover shift value between siblings). Folding the audit path from the
   leaf reproduces the root hash and sums; every sum is a non-negative integer.
2. The root sums balance: per currency, the debits of every account in the period equal
   the credits (double entry), so the statements sum to zero per ledger. The holder sees
   only sums of anonymous subtrees: the salt makes a sibling leaf's hash reveal nothing,
   and leaves are shuffled per period.
3. The root is sealed in the ledger: the proof carries the `balance_period` entry naming
   the root hash and sums, an RFC 9162 inclusion proof of that entry, and a signed tree
   head (Ed25519) whose root the inclusion proof reaches.

Exit codes: 0 valid, 1 invalid (the first finding is printed), 2 malformed input.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    from paygod.ledger import verifier as ledger_verifier
except ImportError:  # copied beside verifier.py, outside the package
    import verifier as ledger_verifier  # type: ignore[no-redef, import-not-found]

FORMAT = "paygod-balance-proof/1"
Sums = dict[str, list[int]]  # currency -> [debits, credits]


class Malformed(ValueError):
    """The input is not a balance proof at all (exit 2)."""


def _sums(value: Any, where: str) -> Sums:
    """Decimal strings (exact beyond 2^53, as the ledger writes amounts), non-negative."""
    if not isinstance(value, Mapping):
        raise Malformed(f"{where}: sums must be an object")
    out: Sums = {}
    for currency, pair in value.items():
        if (
            not isinstance(currency, str)
            or not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, str) and x.isdigit() and x.isascii() for x in pair)
        ):
            raise Malformed(f"{where}: {currency!r} must be [debits, credits] as digit strings")
        out[currency] = [int(pair[0]), int(pair[1])]
    return out


def sums_json(sums: Mapping[str, Sequence[int]]) -> dict[str, list[str]]:
    return {c: [str(d), str(k)] for c, (d, k) in sorted(sums.items()) if d or k}


def add_sums(a: Mapping[str, Sequence[int]], b: Mapping[str, Sequence[int]]) -> Sums:
    out: Sums = {c: [v[0], v[1]] for c, v in a.items()}
    for c, (d, k) in b.items():
        have = out.setdefault(c, [0, 0])
        have[0] += d
        have[1] += k
    return out


def statement_leaf(statement: Mapping[str, Any]) -> bytes:
    """H(0x00 || RFC 8785 statement): the salt hides which account a sibling leaf is."""
    fields = ("tenant_id", "period", "account_id", "ledger", "debits", "credits", "salt")
    missing = [f for f in fields if f not in statement]
    if missing:
        raise Malformed(f"statement lacks {', '.join(missing)}")
    body = {f: statement[f] for f in fields}
    return hashlib.sha256(b"\x00" + ledger_verifier.canonicalize(body)).digest()


def statement_sums(statement: Mapping[str, Any]) -> Sums:
    return _sums({statement["ledger"]: [statement["debits"], statement["credits"]]}, "statement")


def node(left: bytes, left_sums: Sums, right: bytes, right_sums: Sums) -> bytes:
    """H(0x01 || left || right || RFC 8785 [left sums, right sums])."""
    both = ledger_verifier.canonicalize([sums_json(left_sums), sums_json(right_sums)])
    return hashlib.sha256(b"\x01" + left + right + both).digest()


def fold(leaf: bytes, sums: Sums, path: Sequence[Any]) -> tuple[bytes, Sums]:
    """The root (hash, sums) an audit path leads to from a leaf."""
    for i, step in enumerate(path):
        if not isinstance(step, Mapping) or step.get("side") not in ("left", "right"):
            raise Malformed(f"path/{i}: expected {{side: left|right, hash, sums}}")
        sibling = ledger_verifier._hex32(step.get("hash"), f"path/{i}/hash")
        sibling_sums = _sums(step.get("sums"), f"path/{i}/sums")
        if step["side"] == "left":
            leaf = node(sibling, sibling_sums, leaf, sums)
        else:
            leaf = node(leaf, sums, sibling, sibling_sums)
        sums = add_sums(sums, sibling_sums)
    return leaf, sums


def _balanced(sums: Sums) -> str | None:
    for currency, (debits, credits) in sorted(sums.items()):
        if debits != credits:
            return f"the period does not balance in {currency}: debits {debits}, credits {credits}"
    return None


def check_balance_proof(doc: Any, public_key_pem: bytes | None = None) -> str | None:
    """None when every claim holds, else the first that does not."""
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise Malformed(f"not a {FORMAT} document")
    for key in ("statement", "path", "root", "period_entry", "inclusion", "tree_head"):
        if key not in doc:
            raise Malformed(f"missing {key}")
    statement, root = doc["statement"], doc["root"]
    if not isinstance(statement, Mapping) or not isinstance(root, Mapping):
        raise Malformed("statement and root must be objects")
    if not isinstance(doc["path"], list):
        raise Malformed("path must be a list")
    got_hash, got_sums = fold(statement_leaf(statement), statement_sums(statement), doc["path"])
    root_hash = ledger_verifier._hex32(root.get("hash"), "root/hash")
    root_sums = _sums(root.get("sums"), "root/sums")
    if got_hash != root_hash:
        return "the statement and path do not lead to the root hash"
    if sums_json(got_sums) != sums_json(root_sums):
        return "the path's sums do not add up to the root sums"
    unbalanced = _balanced(root_sums)
    if unbalanced:
        return unbalanced
    return _check_sealed(doc, statement, root, public_key_pem)


def _check_sealed(
    doc: Mapping[str, Any],
    statement: Mapping[str, Any],
    root: Mapping[str, Any],
    public_key_pem: bytes | None,
) -> str | None:
    entry = doc["period_entry"]
    data = entry.get("data") if isinstance(entry, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(data.get("payload"), Mapping):
        raise Malformed("period_entry must be a ledger.jsonl line")
    payload = data["payload"]
    if data.get("kind") != "balance_period":
        return f"the sealed entry is a {data.get('kind')!r} entry, not balance_period"
    if data.get("tenant_id") != statement.get("tenant_id"):
        return "the sealed period belongs to another tenant"
    if payload.get("period") != statement.get("period"):
        return "the sealed period is not the statement's period"
    if payload.get("root_hash") != root.get("hash") or payload.get("sums") != root.get("sums"):
        return "the sealed entry names another root"
    inclusion, head = doc["inclusion"], doc["tree_head"]
    if not isinstance(inclusion, Mapping) or not isinstance(head, Mapping):
        raise Malformed("inclusion and tree_head must be objects")
    leaf = ledger_verifier.interchange_leaf_hash(entry)
    if inclusion.get("leaf_hash") != leaf.hex():
        return "the inclusion proof is not for the sealed entry"
    if inclusion.get("leaf_index") != entry.get("entry_index"):
        return "the inclusion proof is for another position than the entry's"
    reason = ledger_verifier.check_inclusion(inclusion)
    if reason:
        return f"ledger inclusion: {reason}"
    if (inclusion.get("root_hash"), inclusion.get("tree_size")) != (
        head.get("root_hash"),
        head.get("tree_size"),
    ):
        return "the inclusion proof does not reach the signed tree head"
    if public_key_pem is None:
        return None  # the signature is checked when the holder gives the ledger's key
    return ledger_verifier.check_tree_head(head, public_key_pem)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write("usage: balance_verifier.py PROOF.json [PUBLIC_KEY.pem]\n")
        return 2
    try:
        doc = ledger_verifier.load_document(Path(args[0]).read_bytes())
        pem = Path(args[1]).read_bytes() if len(args) > 1 else None
        reason = check_balance_proof(doc, pem)
    except (Malformed, ledger_verifier.Malformed, OSError, ValueError) as exc:
        sys.stderr.write(f"malformed: {exc}\n")
        return 2
    result = {
        "valid": reason is None,
        "reason": reason,
        "signature_checked": len(args) > 1,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0 if reason is None else 1


if __name__ == "__main__":
    sys.exit(main())
