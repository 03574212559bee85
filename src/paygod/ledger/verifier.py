"""A standalone auditor's verifier: ledger.jsonl exports, RFC 9162 proofs, signed tree heads.

Depends on nothing in Paygod: only the standard library and `cryptography` (for Ed25519),
so an auditor can copy this one file and check an export without trusting the server.

    python verifier.py ledger.jsonl            # verify an export
    python verifier.py proof.json              # verify an inclusion or consistency proof

Exit codes: 0 valid, 1 invalid (the first finding is printed), 2 malformed input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

GENESIS_HASH = "0" * 64
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()
_HEX = frozenset("0123456789abcdef")
_INT_MAX = 2**53 - 1
HASH_SIZE = 32  # SHA-256
SIGNATURE_SIZE = 64  # Ed25519 (RFC 8032 §5.1.6)


class Malformed(ValueError):
    """The input is not a proof, tree head or export at all (exit 2)."""


# --- RFC 8785 (JCS) -----------------------------------------------------------------------
# The one statement of canonical JSON in Paygod: `paygod.canonical` and the ledger's fast
# paths take orjson's bytes only where they are provably these, and call `canonicalize`
# otherwise. Strings are escaped by CPython's C escaper: JCS escaping (RFC 8785 §3.2.2.2)
# is exactly `json.encoder.encode_basestring` (`"` and `\\` escaped, \b \f \n \r \t short,
# other controls as lowercase \u00xx, everything else verbatim).


class CanonicalizationError(ValueError):
    """The value has no RFC 8785 form (NaN, infinity, an unsafe integer, a lone surrogate...).

    `str(error)` is the reason; `pointer` is the JSON Pointer (RFC 6901) of the offending
    value ("" for the whole value, or the object holding an offending member name)."""

    def __init__(self, reason: str, pointer: str = "") -> None:
        super().__init__(reason)
        self.pointer = pointer


def _utf16_key(key: str) -> bytes:
    # RFC 8785 §3.2.3: members are sorted by their UTF-16 code units, which differs
    # from code-point order for characters above U+FFFF.
    return key.encode("utf-16-be", "surrogatepass")


def es6_number(value: float) -> str:
    """ECMAScript Number.prototype.toString for a double (RFC 8785 §3.2.2.3)."""
    if value.is_integer() and abs(value) <= _INT_MAX:
        # Exact below 2^53; above it ES6 prints the shortest round-trip digits, not the
        # exact binary value (2^64 is "18446744073709552000"), so those take the long way.
        return str(int(value))  # also folds -0.0 to "0"
    text = repr(value)
    if "e" not in text and "n" not in text:
        # Python writes plain notation for 1e-4 <= |x| < 1e16 with the same shortest
        # round-trip digits as ES6, which also writes plain notation in that range.
        return text.removesuffix(".0")
    if not math.isfinite(value):
        name = "NaN" if math.isnan(value) else ("-Infinity" if value < 0 else "Infinity")
        raise CanonicalizationError(f"{name} is not a JSON number (RFC 8785 §3.2.2.3)")
    sign = "-" if value < 0 else ""
    # repr gives the shortest round-trip digits, which is what ES6 prints too.
    parsed = Decimal(repr(abs(value))).as_tuple()
    raw = "".join(str(d) for d in parsed.digits)
    point = len(raw) + int(parsed.exponent)  # decimal point position after the first digit
    digits = raw.lstrip("0")
    point -= len(raw) - len(digits)
    digits = digits.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-")
        out += str(abs(e))
    return sign + out


def _exact_double(value: int) -> bool:
    """An integer beyond ±2^53 that stands for one IEEE double without doubt: the double
    holds it exactly, or its digits are that double's own RFC 8785 form (how a float such
    as -2.0**60 is written, "-1152921504606847000", reads back). Any other integer would be
    silently rounded (2^53+1 becomes 2^53), so it is refused."""
    try:
        nearest = float(value)
    except OverflowError:
        return False
    return int(nearest) == value or es6_number(nearest) == str(value)


def _jcs(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        if -_INT_MAX <= value <= _INT_MAX:
            out.append(str(int(value)))
        elif _exact_double(value):
            # A JSON number is an IEEE double (RFC 8785 §3.2.2.3): 10000000000000000 is
            # exactly 1e16, which is also how a float 1e16 serialises, so reading a
            # canonical document back (integers as ints) gives the same bytes again.
            out.append(es6_number(float(value)))
        else:
            raise CanonicalizationError(
                f"integer {value} is outside the exact range of JSON numbers (±2^53-1)"
            )
    elif isinstance(value, float):
        out.append(es6_number(value))
    elif isinstance(value, Mapping):
        keys = list(value.keys())
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key {key!r} is not a string")
        if any(ord(ch) > 0xFFFF for key in keys for ch in key):
            keys.sort(key=_utf16_key)
        else:
            keys.sort()  # below U+10000 code-point order equals UTF-16 order
        out.append("{")
        first = True
        for key in keys:
            if not first:
                out.append(",")
            first = False
            out.append(encode_basestring(key))
            out.append(":")
            _jcs(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _jcs(item, out)
        out.append("]")
    else:
        raise CanonicalizationError(f"{type(value).__name__} is not a JSON value")


def _surrogate(text: str) -> str | None:
    """The first lone UTF-16 surrogate in `text`, written U+D800 style (RFC 8785 §3.2.2.2:
    none allowed)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(text[exc.start]):04X}"
    return None


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _locate(value: Any) -> CanonicalizationError:
    """The first thing in `value` (in canonical order) without an RFC 8785 form, with its
    JSON Pointer. Only run once encoding has failed, so the encoder's loop stays as it is."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, pointer = stack.pop()
        if isinstance(item, str):
            lone = _surrogate(item)
            if lone:
                return CanonicalizationError(f"string has a lone UTF-16 surrogate {lone}", pointer)
        elif isinstance(item, Mapping):
            keys = list(item.keys())
            for key in keys:
                if not isinstance(key, str):
                    return CanonicalizationError(f"object key {key!r} is not a string", pointer)
                lone = _surrogate(key)
                if lone:
                    return CanonicalizationError(
                        f"object member name {key!a} has a lone UTF-16 surrogate {lone}",
                        pointer,
                    )
            keys.sort(key=_utf16_key)
            stack.extend((item[key], f"{pointer}/{_pointer_token(key)}") for key in reversed(keys))
        elif isinstance(item, Sequence) and not isinstance(item, bytes | bytearray):
            stack.extend((child, f"{pointer}/{i}") for i, child in reversed(list(enumerate(item))))
        else:
            try:
                _jcs(item, [])
            except CanonicalizationError as exc:
                return CanonicalizationError(str(exc), pointer)
    return CanonicalizationError("value has no RFC 8785 form")


def canonicalize(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value (CanonicalizationError if it has none)."""
    out: list[str] = []
    try:
        _jcs(value, out)
        return "".join(out).encode("utf-8")
    except (CanonicalizationError, UnicodeEncodeError):
        raise _locate(value) from None


# --- hashing ------------------------------------------------------------------------------
# An entry's two hashes (DESIGN.md §4) are over RFC 8785 objects whose members, in their
# sorted order, are data, [entry_index,] previous_hash, [record_hash,] timestamp. Each is
# assembled here from the canonical bytes of its members, so a caller that holds those
# bytes (a payload just sealed, a line already in canonical form) serialises nothing again.


def record_bytes(data: bytes, previous_hash: bytes, timestamp: bytes) -> bytes:
    """The RFC 8785 form of {"data", "previous_hash", "timestamp"}, given each member's."""
    return b"".join(
        (b'{"data":', data, b',"previous_hash":', previous_hash, b',"timestamp":', timestamp, b"}")
    )


def interchange_bytes(
    data: bytes, entry_index: int, previous_hash: bytes, record_hash: bytes, timestamp: bytes
) -> bytes:
    """The RFC 8785 form of a ledger.jsonl object (what its Merkle leaf hashes), given the
    RFC 8785 form of each member but the index."""
    return b"".join(
        (
            b'{"data":',
            data,
            b',"entry_index":',
            str(entry_index).encode(),
            b',"previous_hash":',
            previous_hash,
            b',"record_hash":',
            record_hash,
            b',"timestamp":',
            timestamp,
            b"}",
        )
    )


def record_hash(data: Any, previous_hash: str, timestamp: str) -> str:
    """sha256 hex of the RFC 8785 form of {"data", "previous_hash", "timestamp"} (DESIGN.md §4)."""
    return hashlib.sha256(
        record_bytes(canonicalize(data), canonicalize(previous_hash), canonicalize(timestamp))
    ).hexdigest()


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def interchange_leaf_hash(line: Mapping[str, Any]) -> bytes:
    """The Merkle leaf of one ledger.jsonl object: the RFC 8785 bytes of its five members."""
    return line_hashes(line, canonicalize)[1]


MerkleStack = list[tuple[int, bytes]]  # (size, hash) of the perfect subtrees, left to right


def push_leaf(stack: MerkleStack, leaf: bytes) -> None:
    """Append a leaf hash to a tree kept as its perfect subtrees (a compact stack)."""
    size, node = 1, leaf
    while stack and stack[-1][0] == size:
        left_size, left = stack.pop()
        node = node_hash(left, node)
        size += left_size
    stack.append((size, node))


def stack_root(stack: MerkleStack) -> bytes:
    """MTH of the tree a compact stack holds (RFC 9162 §2.1.1)."""
    if not stack:
        return hashlib.sha256(b"").digest()
    node = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        node = node_hash(left, node)
    return node


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (RFC 9162 §2.1.1), with a compact stack: O(n) time, O(log n) space."""
    stack: MerkleStack = []
    for leaf in leaves:
        push_leaf(stack, leaf)
    return stack_root(stack)


# --- RFC 9162 proof verification ----------------------------------------------------------


def _hex32(value: Any, name: str) -> bytes:
    # Lowercase only (DESIGN.md §4): one spelling per hash, so a document that hashes,
    # signs or compares as text cannot hold two spellings of one value.
    if not isinstance(value, str) or len(value) != 2 * HASH_SIZE or not set(value) <= _HEX:
        raise Malformed(f"{name} must be {2 * HASH_SIZE} lowercase hex characters")
    return bytes.fromhex(value)


def _size(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed(f"{name} must be a non-negative integer")
    return value


def _path(value: Any, name: str) -> list[bytes]:
    if not isinstance(value, list):
        raise Malformed(f"{name} must be an array of hashes")
    return [_hex32(item, f"{name}[{i}]") for i, item in enumerate(value)]


def _wrong_size(path: Sequence[bytes], name: str) -> str | None:
    for i, node in enumerate(path):
        if len(node) != HASH_SIZE:
            return f"{name}[{i}] is {len(node)} bytes, not {HASH_SIZE}"
    return None


def verify_inclusion_raw(
    leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> str | None:
    """RFC 9162 §2.1.3.2 step by step. None when the proof holds, else why it fails."""
    if leaf_index >= tree_size:
        return f"leaf_index {leaf_index} is not below tree_size {tree_size}"
    # Every value hashed is a SHA-256 output; without this an empty leaf hash and an empty
    # root "prove" a one-entry tree (transparency-dev/merkle TestVerifyInclusionSingleEntry).
    if len(leaf) != HASH_SIZE:
        return f"leaf_hash is {len(leaf)} bytes, not {HASH_SIZE}"
    wrong = _wrong_size(path, "audit_path")
    if wrong:
        return wrong
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return "audit_path is too long for this leaf_index and tree_size"
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return "audit_path is too short for this leaf_index and tree_size"
    if r != root:
        return "computed root does not match root_hash"
    return None


def verify_consistency_raw(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> str | None:
    """RFC 9162 §2.1.4.2, with the conventions of the CT conformance suite for the sizes the
    RFC leaves open: equal sizes need an empty path and equal roots; from size 0 every tree
    is consistent and the path must be empty."""
    if first > second:
        return f"first_size {first} is larger than second_size {second}"
    if first == second:
        if path:
            return "first_size equals second_size, so consistency_path must be empty"
        if first_root != second_root:
            return "first_size equals second_size but the roots differ"
        return None
    if first == 0:
        if path:
            return "a consistency proof from the empty tree must have an empty path"
        return None
    if not path:
        return "consistency_path is empty"
    wrong = _wrong_size(path, "consistency_path")
    if wrong:
        return wrong
    nodes = list(path)
    if first & (first - 1) == 0:  # an exact power of 2
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return "consistency_path is too long"
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return "consistency_path is too short"
    if fr != first_root:
        return "computed first root does not match first_root"
    if sr != second_root:
        return "computed second root does not match second_root"
    return None


def proof_kind(proof: Any) -> str:
    if not isinstance(proof, dict):
        raise Malformed("a proof is a JSON object")
    if "audit_path" in proof or "leaf_index" in proof:
        return "inclusion"
    if "consistency_path" in proof or "first_size" in proof:
        return "consistency"
    if "signature" in proof and "root_hash" in proof:
        return "tree_head"
    raise Malformed("not an inclusion proof, consistency proof or tree head")


def _require(proof: Mapping[str, Any], keys: Iterable[str]) -> None:
    missing = [k for k in keys if k not in proof]
    if missing:
        raise Malformed(f"missing field(s): {', '.join(missing)}")


def check_inclusion(proof: Mapping[str, Any]) -> str | None:
    _require(proof, ("leaf_index", "tree_size", "leaf_hash", "audit_path", "root_hash"))
    return verify_inclusion_raw(
        _size(proof["leaf_index"], "leaf_index"),
        _size(proof["tree_size"], "tree_size"),
        _hex32(proof["leaf_hash"], "leaf_hash"),
        _path(proof["audit_path"], "audit_path"),
        _hex32(proof["root_hash"], "root_hash"),
    )


def check_consistency(proof: Mapping[str, Any]) -> str | None:
    _require(proof, ("first_size", "second_size", "first_root", "second_root", "consistency_path"))
    first = _size(proof["first_size"], "first_size")
    first_root = _hex32(proof["first_root"], "first_root")
    reason = verify_consistency_raw(
        first,
        _size(proof["second_size"], "second_size"),
        first_root,
        _hex32(proof["second_root"], "second_root"),
        _path(proof["consistency_path"], "consistency_path"),
    )
    # A document states its first_root; the empty tree has exactly one (RFC 9162 §2.1.1:
    # MTH({}) = SHA-256()). verify_consistency_raw takes the roots as the caller's own, as
    # the CT suite does, so it cannot check this.
    if reason is None and first == 0 and first_root.hex() != EMPTY_ROOT:
        return "first_size is 0, but first_root is not the empty tree's root (SHA-256 of nothing)"
    return reason


# --- signed tree heads --------------------------------------------------------------------

_SIGNED = ("tree_size", "root_hash", "timestamp", "key_id")


def tree_head_bytes(head: Mapping[str, Any]) -> bytes:
    """What a tree head's Ed25519 signature signs: the RFC 8785 form of its other members."""
    return canonicalize({k: head[k] for k in _SIGNED})


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def load_public_key(pem: bytes) -> Any:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise Malformed(f"the public key is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Malformed("the public key is not an Ed25519 key")
    return key


def check_tree_head(head: Mapping[str, Any], public_key_pem: bytes | None) -> str | None:
    """None when the signature is valid for `public_key_pem` (and its key_id matches)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    _require(head, ("tree_size", "root_hash", "timestamp", "key_id", "signature"))
    _size(head["tree_size"], "tree_size")
    _hex32(head["root_hash"], "root_hash")
    if not isinstance(head["timestamp"], str) or not isinstance(head["key_id"], str):
        raise Malformed("timestamp and key_id must be strings")
    if not isinstance(head["signature"], str):
        raise Malformed("signature must be a base64 string")
    try:
        signature = base64.b64decode(head["signature"], validate=True)
    except ValueError:
        raise Malformed("signature must be base64") from None
    if len(signature) != SIGNATURE_SIZE:
        raise Malformed(f"signature must be {SIGNATURE_SIZE} bytes (Ed25519), not {len(signature)}")
    if public_key_pem is None:
        return "no public key given to check the tree head signature"
    key = load_public_key(public_key_pem)
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if head["key_id"] != key_id_of(raw):
        return f"tree head key_id {head['key_id']} is not the given key ({key_id_of(raw)})"
    try:
        key.verify(signature, tree_head_bytes(head))
    except InvalidSignature:
        return "tree head signature is invalid"
    return None


# --- ledger.jsonl -------------------------------------------------------------------------

_FIELDS = ("entry_index", "timestamp", "previous_hash", "data", "record_hash")


def _finding(
    index: int | None, field: str, expected: Any, found: Any, message: str
) -> dict[str, Any]:
    return {
        "index": index,
        "field": field,
        "expected": expected,
        "found": found,
        "message": message,
    }


class DuplicateMember(ValueError):
    """An object names a member twice. Parsers disagree on which value counts (this one
    keeps the last, others the first), so a line could be hashed over one amount and shown
    with another: an export must be I-JSON (RFC 7493 §2.3) to be judged at all."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateMember(f"repeats the member name {key!r}")
            seen.add(key)
    return result


def strict_loads(raw: bytes | str) -> Any:
    """json.loads that refuses an object naming a member twice (DuplicateMember)."""
    return json.loads(raw, object_pairs_hook=_unique_members)


def iter_lines(
    path: Path, loads: Callable[[bytes], Any] = strict_loads
) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object) per non-empty line; Malformed on anything not I-JSON."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise Malformed(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield number, loads(raw)
            except RecursionError:
                raise Malformed(f"line {number} is nested too deeply to be an entry") from None
            except DuplicateMember as exc:
                raise Malformed(
                    f"line {number} {exc}: which value was hashed is ambiguous (RFC 7493 §2.3)"
                ) from None
            except ValueError as exc:
                raise Malformed(f"line {number} is not JSON: {exc}") from None


def line_hashes(obj: Mapping[str, Any], canon: Callable[[Any], bytes]) -> tuple[str, bytes]:
    """(record_hash recomputed, Merkle leaf hash) of one interchange object, `data`
    serialised once (by `canon`, which must give RFC 8785 bytes)."""
    data = canon(obj["data"])
    previous = canon(obj["previous_hash"])
    timestamp = canon(obj["timestamp"])
    record = hashlib.sha256(record_bytes(data, previous, timestamp)).hexdigest()
    leaf = leaf_hash(
        interchange_bytes(data, obj["entry_index"], previous, canon(obj["record_hash"]), timestamp)
    )
    return record, leaf


def check_line_shape(number: int, obj: Any) -> None:
    if not isinstance(obj, dict):
        raise Malformed(f"line {number} is not a JSON object")
    missing = [k for k in _FIELDS if k not in obj]
    if missing:
        raise Malformed(f"line {number} lacks {', '.join(missing)}")
    if isinstance(obj["entry_index"], bool) or not isinstance(obj["entry_index"], int):
        raise Malformed(f"line {number}: entry_index must be an integer")
    if not isinstance(obj["timestamp"], str):
        raise Malformed(f"line {number}: timestamp must be a string")
    if not isinstance(obj["data"], dict):
        raise Malformed(f"line {number}: data must be an object")
    for name in ("previous_hash", "record_hash"):
        if not isinstance(obj[name], str):
            raise Malformed(f"line {number}: {name} must be a string")


def link_finding(
    position: int, previous: str, index: Any, previous_hash: Any, where: str
) -> dict[str, Any] | None:
    """Why an entry does not follow the chain at `position` after `previous` (the record
    hash before it, GENESIS_HASH first), or None. `where` names the entry in the message."""
    if index != position:
        if isinstance(index, int) and index < position:
            kind = "is a duplicate or out of order"
        else:
            kind = f"follows a gap: entries {position}..{index - 1} are missing"
        return _finding(
            position, "entry_index", position, index, f"{where}: entry_index {index} {kind}"
        )
    if previous_hash != previous:
        return _finding(
            index,
            "previous_hash",
            previous,
            previous_hash,
            f"entry {index}: previous_hash does not link to entry {index - 1}"
            if index
            else "entry 0: previous_hash is not the genesis hash",
        )
    return None


def record_finding(index: int, expected: str, found: Any) -> dict[str, Any] | None:
    """Why an entry's record_hash is not the one its content hashes to, or None."""
    if found == expected:
        return None
    return _finding(
        index,
        "record_hash",
        expected,
        found,
        f"entry {index}: record_hash does not match its content "
        "(data, previous_hash or timestamp was changed)",
    )


def verify_objects(
    lines: Iterable[tuple[int, Any]],
    *,
    tree_head: Mapping[str, Any] | None = None,
    public_key_pem: bytes | None = None,
    canon: Callable[[Any], bytes] = canonicalize,
) -> dict[str, Any]:
    """Walk the chain; report the first bad entry precisely. Malformed lines raise Malformed."""
    previous = GENESIS_HASH
    leaves: list[bytes] = []
    seen_hashes: dict[str, int] = {}
    finding: dict[str, Any] | None = None
    position = 0
    for number, obj in lines:
        check_line_shape(number, obj)
        index = obj["entry_index"]
        finding = link_finding(position, previous, index, obj["previous_hash"], f"line {number}")
        if finding:
            break
        try:
            expected, leaf = line_hashes(obj, canon)
        except ValueError as exc:
            raise Malformed(f"line {number}: {exc}") from None
        finding = record_finding(index, expected, obj["record_hash"])
        if finding:
            break
        if expected in seen_hashes:
            finding = _finding(
                index,
                "record_hash",
                None,
                expected,
                f"entry {index} duplicates entry {seen_hashes[expected]}",
            )
            break
        seen_hashes[expected] = index
        leaves.append(leaf)
        previous = expected
        position += 1
    root = merkle_root(leaves).hex()
    head_result: dict[str, Any] | None = None
    if finding is None and tree_head is not None:
        finding = check_against_head(tree_head, leaves, public_key_pem)
        head_result = dict(tree_head)
    return {
        "ok": finding is None,
        "entries_checked": position,
        "tree_size": len(leaves),
        "root_hash": root,
        "tree_head": head_result,
        "findings": [finding] if finding else [],
    }


def check_against_head(
    head: Mapping[str, Any], leaves: Sequence[bytes], public_key_pem: bytes | None
) -> dict[str, Any] | None:
    problem = check_tree_head(head, public_key_pem)
    if problem:
        return _finding(None, "signature", head.get("key_id"), None, problem)
    size = head["tree_size"]
    if size > len(leaves):
        return _finding(
            len(leaves),
            "tree_size",
            size,
            len(leaves),
            f"the signed tree head covers {size} entries but only {len(leaves)} are present: "
            "the tail was removed",
        )
    root = merkle_root(leaves[:size]).hex()
    if root != head["root_hash"]:
        return _finding(
            None,
            "root_hash",
            head["root_hash"],
            root,
            f"the first {size} entries do not hash to the signed root",
        )
    return None


def check_tree_heads(
    heads: Sequence[Mapping[str, Any]],
    roots: Mapping[int, str],
    present: int,
    public_key_pem: bytes | None,
    *,
    every_entries: int | None = None,
    commit_of: Callable[[int], Any] | None = None,
) -> list[dict[str, Any]]:
    """Every finding about a ledger's signed tree heads, oldest head first.

    `roots` maps each head's tree_size to the Merkle root the entries have at that size;
    `present` is how many entries there are. Each head must be well formed, signed by the
    key, cover no more than `present` entries and match the root at its size: an older
    head that no longer matches means the entries under it were rewritten.

    With `every_entries` (the signing schedule: a head at the first commit that leaves
    that many entries unsigned), a stretch of entries that the schedule would have signed
    but no head covers is reported: deleted heads, or history rewritten above an older
    head with the newer heads removed. `commit_of(index)` (an entry's recorded_at, the
    same for every entry of one commit) places a missing head between two stored ones; a
    commit that appended more than `every_entries` entries at once is not a gap.
    """
    findings: list[dict[str, Any]] = []
    # Where a head stands, even a bad one (reported on its own), no head is missing.
    standing: list[int] = []
    for number, head in enumerate(sorted(heads, key=_head_order)):
        size: int = head.get("tree_size", -1)  # its type is checked by check_tree_head
        label = f"tree head {number} (tree_size {size})"
        if isinstance(size, int) and not isinstance(size, bool) and 0 < size <= present:
            standing.append(size)
        try:
            problem = check_tree_head(head, public_key_pem)
        except Malformed as exc:
            problem = f"malformed: {exc}"
        if problem:
            findings.append(
                _finding(
                    None,
                    "signature",
                    head.get("key_id"),
                    head.get("signature"),
                    f"{label}: {problem}",
                )
            )
            continue
        if size > present:
            findings.append(
                _finding(
                    present,
                    "tree_size",
                    size,
                    present,
                    f"{label} covers {size} entries but only {present} are present: "
                    "the tail was removed",
                )
            )
            continue
        root = roots.get(size)
        if root != head["root_hash"]:
            findings.append(
                _finding(
                    None,
                    "root_hash",
                    head["root_hash"],
                    root,
                    f"{label}: the first {size} entries do not hash to the signed root",
                )
            )
    if every_entries is not None:
        findings.extend(_schedule_gaps(sorted(set(standing)), present, every_entries, commit_of))
    return findings


def _head_order(head: Mapping[str, Any]) -> tuple[int, str]:
    size = head.get("tree_size")
    return (size if isinstance(size, int) else -1, str(head.get("timestamp")))


def _schedule_gaps(
    sizes: Sequence[int], present: int, every: int, commit_of: Callable[[int], Any] | None
) -> list[dict[str, Any]]:
    findings = []
    signed = 0
    for end in [*sizes, None]:
        due = signed + every  # the head the schedule signs at the commit holding entry due-1
        if end is None:
            if present >= due:
                findings.append(
                    _finding(
                        due - 1,
                        "tree_head",
                        f"a signed head at a size >= {due}",
                        f"none after {signed}",
                        f"entries {signed} to {present - 1} are covered by no signed tree "
                        f"head, though one is signed every {every} entries: heads were "
                        "removed",
                    )
                )
            break
        if end > due and commit_of is not None and commit_of(due - 1) != commit_of(end - 1):
            findings.append(
                _finding(
                    due - 1,
                    "tree_head",
                    f"a signed head at a size >= {due}",
                    f"next head at {end}",
                    f"no signed tree head between sizes {signed} and {end}, though one is "
                    f"signed every {every} entries: a head was removed",
                )
            )
        signed = end
    return findings


def verify_jsonl(
    path: Path, *, tree_head: Mapping[str, Any] | None = None, public_key_pem: bytes | None = None
) -> dict[str, Any]:
    return verify_objects(iter_lines(path), tree_head=tree_head, public_key_pem=public_key_pem)


def load_document(raw: bytes) -> Any:
    """One JSON document; Malformed for anything that is not JSON, however it fails."""
    try:
        return json.loads(raw)
    except RecursionError:  # nesting deeper than the parser's stack
        raise Malformed("the JSON is nested too deeply") from None
    except ValueError as exc:  # includes UnicodeDecodeError and over-long integers
        raise Malformed(f"not JSON: {exc}") from None


def check_proof_document(doc: Any, public_key_pem: bytes | None = None) -> dict[str, Any]:
    """{"kind", "valid", "reason"} for an inclusion proof, consistency proof or tree head."""
    kind = proof_kind(doc)
    if kind == "inclusion":
        reason = check_inclusion(doc)
    elif kind == "consistency":
        reason = check_consistency(doc)
    else:
        reason = check_tree_head(doc, public_key_pem)
    return {"kind": kind, "valid": reason is None, "reason": reason}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write("usage: verifier.py FILE [PUBLIC_KEY.pem]\n")
        return 2
    path = Path(args[0])
    try:
        pem = Path(args[1]).read_bytes() if len(args) > 1 else None
        if path.suffix == ".jsonl":
            result = verify_jsonl(path, public_key_pem=pem)
            ok = result["ok"]
        else:
            result = check_proof_document(load_document(path.read_bytes()), pem)
            ok = result["valid"]
    except (Malformed, OSError, ValueError) as exc:
        sys.stderr.write(f"malformed: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
