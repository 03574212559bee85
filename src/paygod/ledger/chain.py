"""Hashing and linking entries (pure functions), by the rules of `verifier`.

record_hash = sha256(RFC 8785 of {"data", "previous_hash", "timestamp"}) and the Merkle
leaf is the RFC 8785 form of the whole interchange object (DESIGN.md §4). `verifier`
states both (and RFC 8785 itself); this module supplies it the bytes fast: ONE canonical
serialisation of `data` per entry, by orjson where its output is provably RFC 8785
(`canonical_bytes`, which `paygod.canonical` is), the other members being fixed-form
strings whose JSON text is written directly.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from paygod.kernel.clock import isoformat
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.record_ids import new_id
from paygod.ledger.model import (
    GENESIS_HASH,
    Entry,
    EntryDraft,
    EntryRow,
    entry_from_row,
    sealed_entry,
)
from paygod.ledger.verifier import (
    CanonicalizationError,
    canonicalize,
    es6_number,
    interchange_bytes,
    leaf_hash,
    node_hash,
    record_bytes,
)

_ORJSON_OPTS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER  # refuse integers beyond ±(2^53-1), as JCS does
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
# Where orjson's sorted output differs from RFC 8785: characters above U+FFFF in keys
# (JCS sorts by UTF-16 units) and some number forms. For a number inside an array or
# object (always followed by a delimiter) orjson differs from ES6 exactly when it writes
# an integral float with ".0" (1.0, -0.0) or an exponent ES6 writes as plain digits
# (e+16..e+20, e-6); "+" only appears in orjson's exponents. None of these spans a line.
# A false positive (the same text inside a string) only costs the slower exact path.
# Property tests keep this true.
INTEGRAL_FLOAT = re.compile(rb"\.0[,}\]]")
SMALL_EXPONENT = re.compile(rb"e-6[,}\]]")  # the number ends there (not a UUID's "e-6b")
ASTRAL = re.compile(rb"[\xf0-\xf4]")
NEGATIVE_ZERO = re.compile(rb"-0\.0[,}\]]")
_NUMBER_START = frozenset(b"-0123456789")
NULL = re.compile(rb"null")  # twice as fast as `in` over a batch: n, u and l are common


def orjson_agrees(raw: bytes) -> bool:
    """True when orjson's serialisation `raw` of a value is also its RFC 8785 one."""
    if not raw:
        return True  # nothing serialised (a batch with no payloads): nothing to disagree on
    if raw[0] in _NUMBER_START:
        return False  # a bare number: let the exact encoder format it
    return no_disagreement(raw)


def no_disagreement(text: bytes) -> bool:
    """No number form or key on which orjson and RFC 8785 differ occurs in `text` (JSON
    text, or whole lines of it: no pattern spans a line), so one search clears a run."""
    if b"+" in text or INTEGRAL_FLOAT.search(text) or SMALL_EXPONENT.search(text):
        return False
    return text.isascii() or not ASTRAL.search(text)


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of `value`: orjson when provably identical, else the exact encoder
    (`verifier.canonicalize`, which raises CanonicalizationError for a value with none).

    orjson escapes strings exactly as JCS does (only `"`, `\\` and controls, short forms
    for \\b\\t\\n\\f\\r, lowercase \\u00xx) — a hypothesis test keeps the two in agreement.
    """
    try:
        raw = orjson.dumps(value, option=_ORJSON_OPTS)
    except (TypeError, orjson.JSONEncodeError):
        return canonicalize(value)
    if orjson_agrees(raw):
        # orjson writes NaN and infinities as null, which JCS refuses: a null in the output
        # is a real None only when every float in plain JSON data is finite (checked by a
        # walk far cheaper than the exact encoder; anything else takes the exact path,
        # which raises).
        if b"null" in raw and not _plain_and_finite(value):
            return canonicalize(value)
        return raw
    return _with_float_fragments(value, raw) or canonicalize(value)


def _with_float_fragments(value: Any, raw: bytes) -> bytes | None:
    """RFC 8785 bytes of `value`, whose orjson bytes `raw` differ from them in number forms
    only, or None when something else may differ (the exact encoder then decides).

    orjson is handed each float as a fragment of the verifier's own RFC 8785 text (a risk
    assessment's features would otherwise all go through the pure-Python encoder, value by
    value); orjson still writes strings and order. A NaN or infinity raises in
    `es6_number`, so a null in the result is a real None."""
    if raw[0] in _NUMBER_START or (not raw.isascii() and ASTRAL.search(raw)):
        return None
    points_dropped = _without_integral_points(value, raw)
    if points_dropped is not None:
        return points_dropped
    try:
        return orjson.dumps(_float_fragments(value), option=_ORJSON_OPTS)
    except (_NotPlain, CanonicalizationError, TypeError, orjson.JSONEncodeError):
        return None


def _without_integral_points(value: Any, raw: bytes) -> bytes | None:
    """`raw` with each integral float's ".0" dropped (orjson's 0.0 is RFC 8785's 0), when
    that is provably all that differed, else None. Most floats sealed are integral (a new
    subject's features are 0.0), and this is C-speed work where `_float_fragments` walks
    the payload in Python.

    Proof, not hope: the text is read back and compared with `value`. A dropped ".0" that
    sat inside a string changes that string, and the comparison fails (1 == 1.0 holds for
    the numbers, nothing holds for an altered string); a NaN, written as null, compares
    unequal too. -0.0 would become "-0" where RFC 8785 writes "0", so it is left to
    `_float_fragments`; the other number forms are checked on the result as on any."""
    if NEGATIVE_ZERO.search(raw):
        return None
    # Plain replaces (C speed; a regex with a look-behind is ten times slower here): a
    # ".0" before a delimiter that is not a number's comes from a string, caught below.
    dropped = raw.replace(b".0,", b",").replace(b".0}", b"}").replace(b".0]", b"]")
    if not no_disagreement(dropped):
        return None
    try:
        return dropped if orjson.loads(dropped) == value else None
    except orjson.JSONDecodeError:
        return None


class _NotPlain(Exception):
    """A value that is not plain JSON data: the exact encoder takes (and names) it."""


def _float_fragments(item: Any) -> Any:
    """`item` with every float an `orjson.Fragment` of `verifier.es6_number`'s text."""
    kind = type(item)
    if kind is float:
        return orjson.Fragment(es6_number(item))
    if kind is dict:
        return {key: _float_fragments(child) for key, child in item.items()}
    if kind is list or kind is tuple:
        return [_float_fragments(child) for child in item]
    if kind is str or kind is int or kind is bool or item is None:
        return item
    raise _NotPlain


def _plain_and_finite(value: Any) -> bool:
    """Plain JSON data (exact dict/list/tuple/str/int/bool/None types) with finite floats.

    A loop over an explicit stack, not recursion through `all(...)`: payloads with a null
    (payments, decisions) take this walk on every seal, and it runs twice as fast."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:
            extend(item.values())
        elif kind is list or kind is tuple:
            extend(item)
        elif kind is not float or not math.isfinite(item):
            return False
    return True


def canonical_parsed_bytes(value: Any) -> bytes:
    """`canonical_bytes` for values parsed from JSON text, which cannot hold NaN/infinity."""
    if type(value) is str:
        return json_str(value)
    try:
        raw = orjson.dumps(value, option=_ORJSON_OPTS)
    except (TypeError, orjson.JSONEncodeError):
        return canonicalize(value)
    if not orjson_agrees(raw):
        return canonicalize(value)
    return raw


def json_str(text: str) -> bytes:
    # Printable ASCII without a quote or a backslash is its own JSON string (RFC 8785 §3.2.2.2).
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return b'"' + text.encode() + b'"'
    return canonicalize(text)


def record_input(data_bytes: bytes, previous_hash: str, timestamp: str) -> bytes:
    """What an entry's record_hash hashes, given the RFC 8785 bytes of its data."""
    return record_bytes(data_bytes, json_str(previous_hash), json_str(timestamp))


def leaf_bytes(
    data_bytes: bytes, entry_index: int, previous_hash: str, record_hash: str, timestamp: str
) -> bytes:
    """What an entry's Merkle leaf hashes (its interchange object), given its data's bytes."""
    return interchange_bytes(
        data_bytes, entry_index, json_str(previous_hash), json_str(record_hash), json_str(timestamp)
    )


def entry_row(entry: Entry) -> EntryRow:
    """The row a store keeps for `entry`: its payload as sealed (RFC 8785 text)."""
    data = entry.data()
    return (
        entry.seq,
        entry.entry_id,
        entry.kind,
        entry.tenant_id,
        entry.subject,
        canonical_parsed_bytes(data["payload"]).decode(),
        entry.timestamp,
        data["valid_from"],
        data["valid_to"],
        entry.supersedes,
        entry.previous_hash,
        entry.record_hash,
    )


def _json_opt(text: str | None) -> bytes:
    return b"null" if text is None else json_str(text)


# row_hashes' text forms: the entry's data object with plain members, and the verifier's
# record and interchange layouts with a slot per member (each a JSON string but the data
# and the index). Taken from `record_bytes` and `interchange_bytes` so the layout is stated
# once; a "%" in them would be doubled, there is none.
_DATA = (
    '{"entry_id":"%s","kind":"%s","payload":%s,"subject":"%s","supersedes":%s,'
    '"tenant_id":"%s","valid_from":%s,"valid_to":%s}'
)
_RECORD = record_bytes(b"\x00", b'"\x00"', b'"\x00"').decode().replace("\x00", "%s")
_LEAF = (
    interchange_bytes(b"\x00", 0, b'"\x00"', b'"\x00"', b'"\x00"')
    .decode()
    .replace('"entry_index":0,', '"entry_index":%d,')
    .replace("\x00", "%s")
)


def row_hashes(row: EntryRow) -> tuple[str, bytes]:
    """(record hash, Merkle leaf hash) of a stored entry, recomputed from what is stored.

    The ledger stores a payload as its RFC 8785 text and times in their one ISO form, so
    the record and leaf inputs are assembled around the stored text (members in RFC 8785
    order) with no parse and no serialisation; when every other member is printable ASCII
    without a quote or a backslash (its own JSON string), as one text. When the record
    hash does not come out as stored, the row is hashed the exact way (parsed,
    canonicalised): a payload stored in another spelling of the same JSON hashes as it
    did when sealed. A payload that is not JSON at all keeps the first hashes, which
    cannot match.
    """
    if _plain_members([row]):
        found = _plain_hashes(row)
        if found is not None:
            return found
    return _exact_hashes(row)


def rows_hashes(rows: Sequence[EntryRow]) -> list[tuple[str, bytes]]:
    """`row_hashes` of each row, their members' plainness checked once for all."""
    if not _plain_members(rows):
        return [_exact_hashes(row) for row in rows]
    return [_plain_hashes(row) or _exact_hashes(row) for row in rows]


_NON_NULL = operator.itemgetter(1, 2, 3, 4, 6, 10, 11)  # a row's text members but the payload
_NULLABLE = operator.itemgetter(7, 8, 9)


def _plain_members(rows: Sequence[EntryRow]) -> bool:
    """Every text member of the rows but the payload is its own JSON string."""
    text = "".join(itertools.chain.from_iterable(map(_NON_NULL, rows)))
    text += "".join(filter(None, itertools.chain.from_iterable(map(_NULLABLE, rows))))
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _plain_hashes(row: EntryRow) -> tuple[str, bytes] | None:
    """The hashes of a row whose members are plain (`_plain_members`), the record and leaf
    inputs each one text around the stored payload in the verifier's layouts (_RECORD,
    _LEAF); None when the record hash does not come out as stored."""
    seq, entry_id, kind, tenant, subject, payload, at, start, end, supersedes, previous, stored = (
        row
    )
    data = _DATA % (
        entry_id,
        kind,
        payload,
        subject,
        "null" if supersedes is None else f'"{supersedes}"',
        tenant,
        "null" if start is None else f'"{start}"',
        "null" if end is None else f'"{end}"',
    )
    record = hashlib.sha256((_RECORD % (data, previous, at)).encode()).hexdigest()
    if record != stored:
        return None
    return record, leaf_hash((_LEAF % (data, seq, previous, stored, at)).encode())


def _exact_hashes(row: EntryRow) -> tuple[str, bytes]:
    """`row_hashes` the exact way: the data's RFC 8785 bytes member by member, and parsed
    and canonicalised when the record hash does not come out as stored."""
    seq, _, _, _, _, _, at, _, _, _, previous, stored = row
    data_bytes = _row_data_bytes(row)
    record = hashlib.sha256(record_input(data_bytes, previous, at)).hexdigest()
    if record != stored:
        try:
            entry = entry_from_row(row)
            data_bytes = canonical_parsed_bytes(entry.data())
        except (ValueError, CanonicalizationError):  # orjson's JSONDecodeError included
            return record, leaf_hash(leaf_bytes(data_bytes, seq, previous, stored, at))
        at = entry.timestamp
        record = hashlib.sha256(record_input(data_bytes, previous, at)).hexdigest()
    return record, leaf_hash(leaf_bytes(data_bytes, seq, previous, stored, at))


def _row_data_bytes(row: EntryRow) -> bytes:
    """RFC 8785 bytes of a stored entry's `data`, around its stored payload text."""
    _, entry_id, kind, tenant, subject, payload, _, start, end, supersedes = row[:10]
    return b"".join(
        (
            b'{"entry_id":',
            json_str(entry_id),
            b',"kind":',
            json_str(kind),
            b',"payload":',
            payload.encode(),
            b',"subject":',
            json_str(subject),
            b',"supersedes":',
            _json_opt(supersedes),
            b',"tenant_id":',
            json_str(tenant),
            b',"valid_from":',
            _json_opt(start),
            b',"valid_to":',
            _json_opt(end),
            b"}",
        )
    )


def entry_leaf_hash(entry: Entry) -> bytes:
    data = canonical_parsed_bytes(entry.data())
    return leaf_hash(
        leaf_bytes(data, entry.seq, entry.previous_hash, entry.record_hash, entry.timestamp)
    )


def compute_record_hash(entry: Entry) -> str:
    data = canonical_parsed_bytes(entry.data())
    return hashlib.sha256(record_input(data, entry.previous_hash, entry.timestamp)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainState:
    """The head of the chain and the right edge of the Merkle tree (its complete subtrees).

    `frontier` holds (level, hash) of the perfect subtrees whose sizes are the set bits of
    `size`, left to right — everything needed to append and to compute the current root.
    """

    size: int = 0
    last_hash: str = GENESIS_HASH
    last_recorded_at: str | None = None
    frontier: tuple[tuple[int, bytes], ...] = ()

    def root(self) -> bytes:
        if not self.frontier:
            return hashlib.sha256(b"").digest()
        node = self.frontier[-1][1]
        for _, left in reversed(self.frontier[:-1]):
            node = node_hash(left, node)
        return node

    def frontier_json(self) -> str:
        return orjson.dumps([[level, h.hex()] for level, h in self.frontier]).decode()

    @staticmethod
    def frontier_from_json(text: str | None) -> tuple[tuple[int, bytes], ...]:
        if not text:
            return ()
        return tuple((int(level), bytes.fromhex(h)) for level, h in orjson.loads(text))


MerkleNode = tuple[int, int, bytes]  # (level, index within level, hash)


@dataclass(frozen=True, slots=True)
class Sealed:
    """Sealed entries, their rows and the Merkle nodes they complete.

    `levels[l]` holds the new nodes of level l in index order; they start at index
    `first_size >> l`, `first_size` being the tree size before these entries. (Plain
    per-level lists: sealing appends one hash per node, no tuple per node.)
    """

    entries: list[Entry]
    levels: list[list[bytes]]
    first_size: int
    rows: list[tuple[Any, ...]]  # ledger_entries rows (SQL stores), text already rendered
    state: ChainState

    @property
    def nodes(self) -> list[MerkleNode]:
        """The new nodes as (level, index, hash)."""
        return [
            (level, (self.first_size >> level) + k, node)
            for level, hashes in enumerate(self.levels)
            for k, node in enumerate(hashes)
        ]


def _new_levels(final_size: int) -> list[list[bytes]]:
    # A tree of n leaves has nodes up to level n.bit_length() - 1.
    return [[] for _ in range(max(final_size.bit_length(), 1))]


def _trimmed(levels: list[list[bytes]]) -> list[list[bytes]]:
    while levels and not levels[-1]:
        levels.pop()
    return levels


def grow_tree(
    frontier: Sequence[tuple[int, bytes]], size: int, leaves: list[bytes]
) -> tuple[list[list[bytes]], tuple[tuple[int, bytes], ...]]:
    """The new nodes, level by level, when `leaves` are appended to a tree of `size` leaves
    whose perfect subtrees are `frontier`; and the frontier after.

    Level l gains the nodes [size >> l, final >> l). Each level is hashed from the one
    below in one pass (RFC 9162 nodes), its first node's left sibling taken from the old
    frontier when the level's new run starts at an odd index.
    """
    old = dict(frontier)
    final = size + len(leaves)
    levels = [leaves]
    nodes, level = leaves, 0
    while True:
        run = [old[level], *nodes] if (size >> level) & 1 else nodes
        pairs = iter(run)  # an odd last node waits for its sibling in a later batch
        parents = [node_hash(left, right) for left, right in zip(pairs, pairs, strict=False)]
        if not parents:
            break
        levels.append(parents)
        nodes, level = parents, level + 1
    # The last perfect subtree of each set bit of `final`: new if it ends past `size`.
    edge = tuple(
        (level, levels[level][-1] if final >> level > size >> level else old[level])
        for level in range(final.bit_length() - 1, -1, -1)
        if final >> level & 1
    )
    return _trimmed(levels), edge


def _check_draft(draft: EntryDraft, position: int) -> None:
    where = f"/{position}"
    for name in ("kind", "subject", "tenant_id"):
        value = getattr(draft, name)
        if not isinstance(value, str) or not value:
            raise InvalidInput(
                f"ledger entry {name} must be a non-empty string",
                errors=[FieldError(f"{where}/{name}", "must be a non-empty string")],
            )
    if not isinstance(draft.payload, Mapping):
        raise InvalidInput(
            "ledger entry payload must be a JSON object",
            errors=[FieldError(f"{where}/payload", "must be a JSON object")],
        )
    for name in ("valid_from", "valid_to"):
        value = getattr(draft, name)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise InvalidInput(
                f"ledger entry {name} must be a timezone-aware datetime",
                errors=[FieldError(f"{where}/{name}", "must be a timezone-aware instant")],
            )
    if draft.valid_from and draft.valid_to and draft.valid_to <= draft.valid_from:
        raise InvalidInput(
            "valid_to must be after valid_from",
            errors=[FieldError(f"{where}/valid_to", "must be after valid_from")],
        )


def presealed(draft: EntryDraft) -> EntryDraft:
    """`draft` with its payload's RFC 8785 bytes, computed now, by the caller, outside the
    ledger's single writer (which then only hashes them): for drafts built before their
    transaction, such as a decision's. A payload with no RFC 8785 form is left as it is,
    for the writer to refuse with its pointer."""
    if draft.payload_json is not None or type(draft.payload) is not dict:
        return draft
    try:
        return replace(draft, payload_json=canonical_bytes(draft.payload))
    except (CanonicalizationError, TypeError, ValueError):
        return draft


def _drafts_payloads(drafts: Sequence[EntryDraft]) -> list[bytes | None]:
    """Each draft's payload bytes: its own (`presealed`), else `_batch_payloads`' look."""
    if all(draft.payload_json is None for draft in drafts):
        return _batch_payloads(drafts)
    pending = [draft for draft in drafts if draft.payload_json is None]
    computed = iter(_batch_payloads(pending))
    return [
        draft.payload_json if draft.payload_json is not None else next(computed) for draft in drafts
    ]


def _batch_payloads(drafts: Sequence[EntryDraft]) -> list[bytes | None]:
    """orjson's bytes of each payload where they are provably RFC 8785's, else None.

    `canonical_bytes`' checks, made once for the whole batch: no pattern of
    `orjson_agrees` spans a newline, so one search of the payloads joined by newlines
    clears them all; only a batch with a hit checks payload by payload. A null may stand
    for a NaN: a payload with one keeps orjson's bytes only if a walk finds every float
    finite (and every value plain JSON); otherwise `_payload_bytes` looks closer.
    """
    dumps = orjson.dumps
    try:
        raws = [
            dumps(draft.payload, option=_ORJSON_OPTS) if type(draft.payload) is dict else b"null"
            for draft in drafts
        ]
    except (TypeError, orjson.JSONEncodeError):
        return [None] * len(drafts)  # each payload gets its own look (and its own error)
    joined = b"\n".join(raws)
    # One search clears the whole batch; only a batch with a hit looks payload by payload.
    everyone = orjson_agrees(joined)
    agreed = [everyone or orjson_agrees(raw) for raw in raws]
    nulls = NULL.search(joined) is not None
    fine: list[bytes | None] = []
    for raw, agrees, draft in zip(raws, agreed, drafts, strict=True):
        if not agrees:
            # Number forms differ (an integral float): the fragments path, whose nulls are
            # real Nones, instead of `canonical_bytes` serialising it twice more.
            fine.append(_with_float_fragments(draft.payload, raw))
        elif (
            nulls
            and b"null" in raw
            and not (type(draft.payload) is dict and _plain_and_finite(draft.payload))
        ):
            # orjson's bytes stand when the nulls are real Nones: plain data with finite
            # floats (what `canonical_bytes` checks, without serialising it again).
            fine.append(None)
        else:
            fine.append(raw)
    return fine


def _payload_bytes(payload: Any, position: int) -> bytes:
    """The RFC 8785 bytes of one payload, by `canonical_bytes` (InvalidInput if it has none)."""
    try:
        return canonical_bytes(payload if type(payload) is dict else dict(payload))
    except CanonicalizationError as exc:
        raise InvalidInput(
            "ledger entry payload has no RFC 8785 form",
            errors=[FieldError(f"/{position}/payload{exc.pointer}", str(exc))],
        ) from None


def seal(state: ChainState, drafts: Sequence[EntryDraft], now: datetime) -> Sealed:
    """Give drafts consecutive seqs, one transaction time, their hashes and Merkle nodes.

    This loop is the ledger's write hot path (group commit runs it for every entry), so
    per-entry work is kept to: one canonical serialisation of the payload, two SHA-256 of
    byte strings assembled by concatenation, and one row tuple; the Merkle nodes above the
    leaves are hashed after the loop, level by level (`grow_tree`). Strings repeated
    across a batch (kind, subject, tenant) are encoded once (`_Batch`).
    """
    timestamp = isoformat(now)
    if state.last_recorded_at is not None and timestamp < state.last_recorded_at:
        # Transaction time never runs backwards along the chain, whatever the wall clock does.
        timestamp = state.last_recorded_at
        from paygod.kernel.clock import parse_instant

        now = parse_instant(timestamp)
    batch = _Batch(now, timestamp)
    entries: list[Entry] = []
    leaves: list[bytes] = []
    rows: list[tuple[Any, ...]] = []
    previous = state.last_hash
    previous_json = json_str(previous)
    seq = state.size
    payloads = _drafts_payloads(drafts)
    for position, draft in enumerate(drafts):
        entry, leaf, row, previous_json = batch.entry(
            draft, position, payloads[position], seq, previous, previous_json
        )
        entries.append(entry)
        leaves.append(leaf)
        rows.append(row)
        previous = entry.record_hash
        seq += 1
    levels, frontier = grow_tree(state.frontier, state.size, leaves)
    new_state = ChainState(
        size=seq,
        last_hash=previous,
        last_recorded_at=timestamp if entries else state.last_recorded_at,
        frontier=frontier,
    )
    return Sealed(entries, levels, state.size, rows, new_state)


class _Batch:
    """What the entries of one `seal` share: the transaction time, its encoded members,
    and the JSON text of strings repeated across the batch (kind, subject, tenant)."""

    __slots__ = ("now", "texts", "timestamp", "timestamp_json", "timestamp_member")

    def __init__(self, now: datetime, timestamp: str) -> None:
        self.now = now
        self.timestamp = timestamp
        self.timestamp_json = json_str(timestamp)
        self.timestamp_member = b',"valid_from":"' + timestamp.encode() + b'","valid_to":'
        self.texts: dict[str, bytes] = {}

    def text(self, value: str) -> bytes:
        found = self.texts[value] = json_str(value)
        return found

    def entry(
        self,
        draft: EntryDraft,
        position: int,
        payload_bytes: bytes | None,
        seq: int,
        previous: str,
        previous_json: bytes,
    ) -> tuple[Entry, bytes, tuple[Any, ...], bytes]:
        """One draft sealed after `previous` (`previous_json` its JSON text): its entry,
        RFC 9162 leaf hash, row, and its record hash's JSON text (the next one's previous)."""
        kind, subject, tenant = draft.kind, draft.subject, draft.tenant_id
        simple = (  # the common shape, which `_check_draft` would accept without a look
            type(kind) is str
            and type(subject) is str
            and type(tenant) is str
            and bool(kind and subject and tenant)
            and type(draft.payload) is dict
            and draft.valid_from is None
            and draft.valid_to is None
        )
        if not simple:
            _check_draft(draft, position)
        entry_id = new_id()
        if payload_bytes is None:
            payload_bytes = _payload_bytes(draft.payload, position)
        texts = self.texts  # a JSON string is never empty (b'""' at least): `or` is safe
        kind_json = texts.get(kind) or self.text(kind)
        subject_json = texts.get(subject) or self.text(subject)
        tenant_json = texts.get(tenant) or self.text(tenant)
        supersedes = draft.supersedes
        if simple:
            valid_from, valid_from_text, valid_to_text = self.now, self.timestamp, None
            times = self.timestamp_member + b"null}"
        else:
            valid_from, valid_from_text, valid_to_text, times = _valid_times(
                draft, self.now, self.timestamp
            )
        data_bytes = _data_bytes(
            entry_id, kind_json, payload_bytes, subject_json, supersedes, tenant_json, times
        )
        # The entry keeps text, which the row needs anyway, not orjson's output buffer:
        # malloc'd large, then shrunk, thousands of those kept alive fragment the heap.
        payload_text = payload_bytes.decode()
        rh, rh_json, lh = _hashes(data_bytes, previous_json, seq, self.timestamp_json)
        entry = sealed_entry(
            seq,
            entry_id,
            kind,
            tenant,
            subject,
            payload_text,  # the entry's own copy of what was sealed, parsed when read
            self.now,
            valid_from,
            draft.valid_to,
            supersedes,
            previous,
            rh,
        )
        row = (
            seq,
            entry_id,
            kind,
            tenant,
            subject,
            payload_text,
            self.timestamp,
            valid_from_text,
            valid_to_text,
            supersedes,
            previous,
            rh,
        )
        return entry, lh, row, rh_json


def _valid_times(
    draft: EntryDraft, now: datetime, timestamp: str
) -> tuple[datetime, str, str | None, bytes]:
    """A draft's valid time (from, its text, to's text) and the members closing its data."""
    valid_from = draft.valid_from or now
    valid_from_text = timestamp if draft.valid_from is None else isoformat(valid_from)
    valid_to_text = None if draft.valid_to is None else isoformat(draft.valid_to)
    times = (
        b',"valid_from":"'
        + valid_from_text.encode()
        + b'","valid_to":'
        + (b"null" if valid_to_text is None else b'"' + valid_to_text.encode() + b'"')
        + b"}"
    )
    return valid_from, valid_from_text, valid_to_text, times


def _data_bytes(
    entry_id: str,
    kind_json: bytes,
    payload_bytes: bytes,
    subject_json: bytes,
    supersedes: str | None,
    tenant_json: bytes,
    times: bytes,
) -> bytes:
    """The RFC 8785 bytes of an entry's data object (its members in RFC 8785 order)."""
    return b"".join(
        (
            b'{"entry_id":"',
            entry_id.encode(),
            b'","kind":',
            kind_json,
            b',"payload":',
            payload_bytes,
            b',"subject":',
            subject_json,
            b',"supersedes":',
            b"null" if supersedes is None else json_str(supersedes),
            b',"tenant_id":',
            tenant_json,
            times,
        )
    )


_sha256 = hashlib.sha256


def _hashes(
    data_bytes: bytes, previous_json: bytes, seq: int, timestamp: bytes
) -> tuple[str, bytes, bytes]:
    """The record hash (hex, and as JSON text: a hex string needs no escape) and the RFC 9162
    leaf hash of an entry, given the RFC 8785 bytes of its data, previous hash and timestamp."""
    rh = _sha256(record_bytes(data_bytes, previous_json, timestamp)).hexdigest()
    rh_json = b'"' + rh.encode() + b'"'
    return (
        rh,
        rh_json,
        leaf_hash(interchange_bytes(data_bytes, seq, previous_json, rh_json, timestamp)),
    )


def adopt(state: ChainState, entries: Sequence[Entry]) -> Sealed:
    """Append entries sealed elsewhere (an import), checking they extend this chain exactly."""
    levels = _new_levels(state.size + len(entries))
    rows: list[tuple[Any, ...]] = []
    frontier = list(state.frontier)
    previous = state.last_hash
    seq = state.size
    timestamp = state.last_recorded_at
    for entry in entries:
        if entry.seq != seq:
            raise InvalidInput(f"imported entry {entry.seq} does not follow entry {seq - 1}")
        if entry.previous_hash != previous:
            raise InvalidInput(f"imported entry {entry.seq} does not link to the ledger head")
        if compute_record_hash(entry) != entry.record_hash:
            raise InvalidInput(f"imported entry {entry.seq} has a wrong record_hash")
        lh = entry_leaf_hash(entry)
        levels[0].append(lh)
        level, node = 0, lh
        while frontier and frontier[-1][0] == level:
            _, left = frontier.pop()
            node = node_hash(left, node)
            level += 1
            levels[level].append(node)
        frontier.append((level, node))
        rows.append(entry_row(entry))
        previous = entry.record_hash
        timestamp = max(timestamp or entry.timestamp, entry.timestamp)
        seq += 1
    new_state = ChainState(seq, previous, timestamp, tuple(frontier))
    return Sealed(list(entries), _trimmed(levels), state.size, rows, new_state)


def entry_from_interchange(line: Mapping[str, Any]) -> Entry:
    """An Entry from one ledger.jsonl object written by a paygod kernel (InvalidInput if not)."""
    from paygod.kernel.clock import parse_instant

    data = line.get("data")
    if not isinstance(data, Mapping):
        raise InvalidInput("data must be an object")
    try:
        timestamp = line["timestamp"]
        recorded_at = parse_instant(timestamp)
        if isoformat(recorded_at) != timestamp:
            raise ValueError(f"timestamp {timestamp!r} is not in paygod's form")

        def instant(name: str) -> datetime | None:
            value = data[name]
            if value is None:
                return None
            parsed = parse_instant(value)
            if isoformat(parsed) != value:
                raise ValueError(f"{name} {value!r} is not in paygod's form")
            return parsed

        payload = data["payload"]
        if not isinstance(payload, Mapping):
            raise ValueError("payload is not an object")
        if set(data) != {
            "entry_id",
            "kind",
            "tenant_id",
            "subject",
            "payload",
            "valid_from",
            "valid_to",
            "supersedes",
        }:
            raise ValueError("data does not have the fields of a paygod entry")
        return Entry(
            seq=int(line["entry_index"]),
            entry_id=str(data["entry_id"]),
            kind=str(data["kind"]),
            tenant_id=str(data["tenant_id"]),
            subject=str(data["subject"]),
            payload=payload,
            recorded_at=recorded_at,
            valid_from=instant("valid_from"),
            valid_to=instant("valid_to"),
            supersedes=None if data["supersedes"] is None else str(data["supersedes"]),
            previous_hash=str(line["previous_hash"]),
            record_hash=str(line["record_hash"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        index = line.get("entry_index")
        raise InvalidInput(
            f"entry {index} is not a paygod ledger entry ({exc}); "
            "foreign exports can be verified but not imported"
        ) from None
