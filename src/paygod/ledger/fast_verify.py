"""Fast verification of ledger.jsonl files inside Paygod (orjson), by the rules of verifier.py.

`verifier.py` states the rules (standard library only, so an auditor runs it alone); this
module reaches the very same verdict faster, handing it bytes it has already proven to be
RFC 8785 instead of serialising parsed lines again, in two steps:

1. A fast pass (`scan_runs`) over the raw lines. A line already in RFC 8785 form IS the
   canonical serialisation: its members' bytes are cut from it for the verifier's
   `record_bytes`, and the line itself is its Merkle leaf's input. Whether a line is in
   that form is checked, not assumed, in one of two ways. A line of a shape already met in
   this file must match that shape's pattern (`line_shapes`: the pattern matches only
   canonical lines of that shape, in text without escapes). Any other line must parse to
   an object with exactly the five members, orjson must serialise the parsed object back
   to the identical bytes, and the bytes must hold nothing on which orjson and RFC 8785
   differ (see `orjson_is_jcs`); such a line teaches its shape. A line that is not in
   RFC 8785 form is hashed through the exact canonicaliser instead. Large files are split
   at line boundaries and scanned by two forked processes; the parent joins the pieces.
2. The moment the fast pass meets anything but a sound chain (a broken link, a wrong hash,
   a malformed line, a pieced chain that does not join), it gives up and the exact walk of
   `verifier.verify_objects` runs over the whole file, so every finding and every error
   message is the exact path's own.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from paygod.kernel.errors import FieldError, InvalidInput
from paygod.ledger.chain import canonical_parsed_bytes, no_disagreement, orjson_agrees
from paygod.ledger.line_shapes import MISSES_ALLOWED, ShapeBook, plain_text
from paygod.ledger.model import Finding, SignedTreeHead, VerifyReport
from paygod.ledger.verifier import (
    EMPTY_ROOT,
    GENESIS_HASH,
    Malformed,
    check_against_head,
    check_line_shape,
    iter_lines,
    leaf_hash,
    line_hashes,
    node_hash,
    record_bytes,
    strict_loads,
    verify_objects,
)

_CANON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_DATA_AT = len(b'{"data":')  # where data's bytes start in a canonical line
_TIMESTAMP_KEY = len(b',"timestamp":')
_FIVE = frozenset(("data", "entry_index", "previous_hash", "record_hash", "timestamp"))
PARALLEL_MIN_BYTES = 4 << 20  # below this, forking costs more than it saves


# True when orjson's serialisation of an object is also the RFC 8785 one; the number
# forms and key orders where the two differ are listed in `chain`.
orjson_is_jcs = orjson_agrees


@dataclass(frozen=True, slots=True)
class Piece:
    """What the fast pass learned from a run of consecutive lines that chain soundly.

    `edge` is the compact range of the run's leaves: the perfect subtrees, as
    (first leaf, level, hash), that cover it left to right.
    """

    count: int
    first_index: int
    first_previous: str
    last_record: str
    edge: list[tuple[int, int, bytes]]
    leaves: bytes | None


def _push(edge: list[tuple[int, int, bytes]], start: int, level: int, node: bytes) -> None:
    """Add a perfect subtree at the right of a compact range, merging RFC 9162 siblings."""
    while edge:
        left_start, left_level, left = edge[-1]
        # Two adjacent subtrees of one level are siblings when the left one is aligned.
        if left_level != level or left_start & ((2 << level) - 1):
            break
        edge.pop()
        node = node_hash(left, node)
        start, level = left_start, level + 1
    edge.append((start, level, node))


RUN_BYTES = 64 << 10  # lines are checked in runs this long: buffers malloc reuses


def _runs(buf: bytes) -> Iterator[bytes]:
    """`buf` in runs of whole lines of about RUN_BYTES (the last may lack its newline)."""
    start, size = 0, len(buf)
    while start < size:
        end = buf.find(b"\n", start + RUN_BYTES)
        end = size if end < 0 else end + 1
        yield buf[start:end]
        start = end


def _file_runs(path: Path, start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of a file (whole lines) in runs of whole lines, read as they go.

    Reading a piece of tens of megabytes at once costs more than scanning a tenth of it:
    every page of a fresh buffer that size is faulted in. Blocks of RUN_BYTES are reused.
    """
    with path.open("rb", buffering=0) as handle:
        handle.seek(start)
        remaining = end - start
        carry: list[bytes] = []  # a line's start, until its newline is read
        while remaining > 0:
            block = handle.read(min(RUN_BYTES, remaining))
            if not block:
                break  # the file shrank: what is left is judged as it is
            remaining -= len(block)
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                carry.append(block)  # a line longer than a block
                continue
            yield b"".join((*carry, block[:cut])) if carry else block[:cut]
            carry = [block[cut:]] if cut < len(block) else []
        if carry:
            yield b"".join(carry)


# A line that matched no known shape, parsed: (the object, entry_index, previous_hash,
# record_hash, the record hash recomputed (hex), the Merkle leaf, whether the line is its
# own RFC 8785 form). A plain tuple: this is made for every line of a file of new shapes.
_Parsed = tuple[dict[str, Any], int, bytes, bytes, bytes, bytes, bool]


def _parse_line(line: bytes, orjson_safe: bool) -> _Parsed | None:
    """Parse and hash one line; None when only the exact walk can judge it."""
    try:
        obj = orjson.loads(line)
        canon = orjson.dumps(obj, option=_CANON_OPTS)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None  # not JSON, a blank line of spaces, an unsafe integer: walk exactly
    if type(obj) is not dict or obj.keys() != _FIVE:
        return None
    index, prev, record = obj["entry_index"], obj["previous_hash"], obj["record_hash"]
    if type(index) is not int or type(prev) is not str or type(record) is not str:
        return None
    canonical = (
        canon == line
        and line[8] == 123  # data is an object: the line starts {"data":{
        and line[-2] == 34  # timestamp is a string: the line ends "}
        and (orjson_safe or no_disagreement(line))
    )
    if canonical:
        # `line` is the RFC 8785 form (see `orjson_is_jcs`): members data, entry_index,
        # previous_hash, record_hash, timestamp in this order, and no string's canonical
        # form holds `,"`, so the last `,"entry_index":` and `,"timestamp":` are those
        # members, and what lies between the keys is each member's RFC 8785 bytes.
        # `prev` needs no escaping, being the previous record hash (or, for a piece's
        # first line, checked when joined).
        cut = line.rindex(b',"entry_index":')
        tail = line.rindex(b',"timestamp":')
        expected = hashlib.sha256(
            record_bytes(
                line[_DATA_AT:cut], b'"' + prev.encode() + b'"', line[tail + _TIMESTAMP_KEY : -1]
            )
        ).hexdigest()
        leaf = leaf_hash(line)
    else:
        if type(obj["timestamp"]) is not str or type(obj["data"]) is not dict:
            return None
        try:
            # A line in its own RFC 8785 form cannot name a member twice (its bytes would
            # not survive orjson's round trip); any other line might, and orjson keeps the
            # last value silently: the strict parse refuses it (then the exact walk says so).
            strict_loads(line)
            expected, leaf = line_hashes(obj, canonical_parsed_bytes)
        except ValueError:
            return None
    try:
        previous, record_text = prev.encode(), record.encode()
    except UnicodeEncodeError:
        return None  # a lone surrogate: no hash is written so
    return obj, index, previous, record_text, expected.encode(), leaf, canonical


def scan(buf: bytes, *, keep_leaves: bool = False) -> Piece | None:
    """The fast pass over the whole lines of `buf`; None if only the exact walk can judge."""
    return scan_runs(_runs(buf), keep_leaves=keep_leaves)


def scan_runs(runs: Iterable[bytes], *, keep_leaves: bool = False) -> Piece | None:
    """The fast pass over runs of whole lines; None as soon as only the exact walk can say more.

    This loop is the whole cost of verifying an export, so it is written flat. A line of a
    shape already met (`line_shapes`) costs one pattern match and two byte-string hashes;
    any other line is parsed (`_parse_line`), and teaches its shape when it is canonical.
    The Merkle nodes above the leaves are hashed after the loop (`compact_range`).
    """
    sha256, leaf_of, record_of = hashlib.sha256, leaf_hash, record_bytes  # locals: per line
    shapes = ShapeBook()
    leaves: list[bytes] = []
    add = leaves.append
    position = first_index = -1
    previous = first_previous = b""
    same_shape: Callable[[bytes, int], re.Match[bytes] | None] | None = None  # last line's
    shaping, misses = True, 0  # shapes are looked for while they pay (MISSES_ALLOWED)
    for run in runs:
        plain = shaping and plain_text(run)
        orjson_safe: bool | None = None  # searched for once per run, if a line is parsed
        at, size = 0, len(run)
        while at < size:
            match = None
            if plain:
                match = same_shape(run, at) if same_shape is not None else None
                if match is None:
                    match = shapes.find(run, at)
                    if match is not None:
                        same_shape = match.re.match
            if match is not None:
                line, data, index_text, prev_json, prev, record, timestamp = match.groups()
                at = match.end()
                index = int(index_text)
                expected = sha256(record_of(data, prev_json, timestamp)).hexdigest().encode()
                leaf = leaf_of(line)
            else:
                end = run.find(b"\n", at)
                end = size if end < 0 else end
                line, at = run[at:end], end + 1
                if not line:
                    continue
                if orjson_safe is None:
                    orjson_safe = no_disagreement(run)
                parsed = _parse_line(line, orjson_safe)
                if parsed is None:
                    return None
                obj, index, prev, record, expected, leaf, canonical = parsed
                if plain:
                    misses += 1
                    if misses > MISSES_ALLOWED and 2 * misses > position - first_index:
                        shaping = plain = False
                    elif canonical:
                        learnt = shapes.learn(line, obj)
                        if learnt is not None:
                            same_shape = learnt.match
            if position < 0:
                position = first_index = index
                previous = first_previous = prev
            if index != position or prev != previous or expected != record:
                return None
            add(leaf)
            previous = record
            position += 1
    if position < 0:
        return Piece(0, -1, "", "", [], b"" if keep_leaves else None)
    # No duplicate check is needed here, unlike the exact walk: every link holds, so two
    # equal record hashes would need equal inputs all the way back to genesis, i.e. a
    # SHA-256 collision or preimage; the exact walk's duplicate finding cannot fire either.
    return Piece(
        position - first_index,
        first_index,
        first_previous.decode(),
        previous.decode(),
        compact_range(first_index, leaves),
        b"".join(leaves) if keep_leaves else None,
    )


def compact_range(start: int, leaves: list[bytes]) -> list[tuple[int, int, bytes]]:
    """The perfect subtrees, as (first leaf, level, hash), that cover leaves [start, ...).

    Level by level: a node whose sibling lies outside the range (an odd first index, or
    a last node without a right neighbour) is part of the range's edge; the others pair
    up into the next level (RFC 9162 nodes), one list comprehension per level.
    """
    left: list[tuple[int, int, bytes]] = []
    right: list[tuple[int, int, bytes]] = []
    nodes, index, level = leaves, start, 0
    while nodes:
        if index & 1:
            left.append((index << level, level, nodes[0]))
            nodes, index = nodes[1:], index + 1
        if len(nodes) & 1:
            right.append(((index + len(nodes) - 1) << level, level, nodes[-1]))
            nodes = nodes[:-1]
        pairs = iter(nodes)
        nodes = [node_hash(a, b) for a, b in zip(pairs, pairs, strict=False)]
        index, level = index >> 1, level + 1
    return left + right[::-1]


def _split_points(path: Path, size: int, parts: int) -> list[int]:
    """Byte offsets that cut the file into `parts` runs of whole lines."""
    points = [0]
    with path.open("rb") as handle:
        for k in range(1, parts):
            handle.seek(max(points[-1], size * k // parts))
            handle.readline()  # to the end of the line the cut fell in
            points.append(handle.tell())
    points.append(size)
    return points


def _forked_scan(path: Path, start: int, end: int, keep_leaves: bool) -> tuple[int, int]:
    """Scan a byte range in a forked child; returns (pid, read end of its result pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: scan, send the pickled Piece, exit without cleanup
        code = 1
        try:
            os.close(read_fd)
            piece = scan_runs(_file_runs(path, start, end), keep_leaves=keep_leaves)
            with os.fdopen(write_fd, "wb") as out:
                out.write(pickle.dumps(piece, protocol=pickle.HIGHEST_PROTOCOL))
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


# Forked scanners that had sent their piece but were still exiting when it was read: the
# kernel tears down a child's copy of our address space before it can be reaped, which
# takes milliseconds for a large heap. They are reaped by the next forking scan instead.
_EXITING: list[int] = []


def _reap_exited() -> None:
    for pid in list(_EXITING):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid  # already reaped (e.g. SIGCHLD ignored)
        if done:
            _EXITING.remove(pid)


def _collect(pid: int, read_fd: int) -> Piece | None:
    """The piece a forked scanner sent. It is judged by what it sent (a complete pickle of
    a Piece), so the parent need not wait for the child to finish exiting."""
    with os.fdopen(read_fd, "rb") as results:
        data = results.read()
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done, status = pid, 0
    if not done:
        _EXITING.append(pid)
    elif status != 0:
        return None
    try:
        piece = pickle.loads(data)  # our own child's output, never foreign input
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None  # the child died while writing
    return piece if isinstance(piece, Piece) else None


def _can_fork() -> bool:
    # fork() copies only the calling thread; with other threads alive a lock they hold
    # (logging, OpenSSL) could stay locked in the child forever, so servers scan in-process.
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except AttributeError:
        return (os.cpu_count() or 1) >= 2


def fast_pieces(
    path: Path, *, keep_leaves: bool, parts: int | None = None, fork: bool | None = None
) -> list[Piece] | None:
    """Scan the file in `parts` runs of whole lines (by default two forked processes for a
    large file on a machine with two cores free to us, else one in-process scan)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if parts is None:
        parts = 2 if size >= PARALLEL_MIN_BYTES and _can_fork() else 1
    if fork is None:
        fork = parts > 1 and _can_fork()
    _reap_exited()
    try:
        if parts <= 1:
            piece = scan_runs(_file_runs(path, 0, size), keep_leaves=keep_leaves)
            return None if piece is None else [piece]
        points = _split_points(path, size, parts)
        ranges = list(itertools.pairwise(points))
        if not fork:
            found = [scan_runs(_file_runs(path, a, b), keep_leaves=keep_leaves) for a, b in ranges]
        else:
            children = [_forked_scan(path, a, b, keep_leaves) for a, b in ranges[1:]]
            try:
                first = scan_runs(_file_runs(path, *ranges[0]), keep_leaves=keep_leaves)
            finally:  # every child is reaped, whatever happened here
                rest = [_collect(pid, fd) for pid, fd in children]
            found = [first, *rest]
    except OSError:
        return None
    pieces = [piece for piece in found if piece is not None]
    return pieces if len(pieces) == len(found) else None


def fast_verify(
    path: Path,
    tree_head: Mapping[str, Any] | None = None,
    public_key_pem: bytes | None = None,
    *,
    parts: int | None = None,
    fork: bool | None = None,
) -> dict[str, Any] | None:
    """`verify_objects`' result for a file whose chain is sound, or None (then walk exactly)."""
    pieces = fast_pieces(path, keep_leaves=tree_head is not None, parts=parts, fork=fork)
    if pieces is None:
        return None
    position, previous = 0, GENESIS_HASH
    edge: list[tuple[int, int, bytes]] = []
    leaves: list[bytes] = []
    for piece in pieces:
        if piece.count == 0:
            continue
        if piece.first_index != position or piece.first_previous != previous:
            return None  # the pieces do not join (or the chain does not start at genesis)
        for start, level, node in piece.edge:
            _push(edge, start, level, node)
        if piece.leaves is not None:
            blob = piece.leaves
            leaves.extend(blob[k : k + 32] for k in range(0, len(blob), 32))
        position += piece.count
        previous = piece.last_record
    if edge:
        root = edge[-1][2]
        for _, _, left in reversed(edge[:-1]):
            root = node_hash(left, root)
    else:
        root = bytes.fromhex(EMPTY_ROOT)
    result: dict[str, Any] = {
        "ok": True,
        "entries_checked": position,
        "tree_size": position,
        "root_hash": root.hex(),
        "tree_head": None,
        "findings": [],
    }
    if tree_head is not None:
        finding = check_against_head(tree_head, leaves, public_key_pem)
        result["tree_head"] = dict(tree_head)
        if finding is not None:
            result["ok"] = False
            result["findings"] = [finding]
    return result


def verify_jsonl_report(
    path: Path,
    *,
    tree_head: Mapping[str, Any] | None = None,
    public_key_pem: bytes | None = None,
) -> VerifyReport:
    try:
        result = fast_verify(path, tree_head, public_key_pem)
        if result is None:
            result = verify_objects(
                iter_lines(path),
                tree_head=tree_head,
                public_key_pem=public_key_pem,
                canon=canonical_parsed_bytes,
            )
    except Malformed as exc:
        raise InvalidInput(f"{path}: {exc}", errors=[FieldError("", str(exc))]) from None
    head = None
    if tree_head is not None:
        try:
            head = SignedTreeHead(
                int(tree_head["tree_size"]),
                str(tree_head["root_hash"]),
                str(tree_head["timestamp"]),
                str(tree_head["key_id"]),
                str(tree_head["signature"]),
            )
        except (KeyError, TypeError, ValueError):
            head = None
    return VerifyReport(
        entries_checked=result["entries_checked"],
        tree_size=result["tree_size"],
        root_hash=result["root_hash"],
        findings=tuple(Finding(**f) for f in result["findings"]),
        tree_head=head,
        extra={"file": str(path)},
    )


def read_interchange(path: Path) -> list[dict[str, Any]]:
    lines = []
    try:
        for number, obj in iter_lines(path):
            check_line_shape(number, obj)
            lines.append(obj)
    except Malformed as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    return lines
