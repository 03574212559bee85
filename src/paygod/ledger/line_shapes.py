"""Line shapes: recognising an RFC 8785 ledger.jsonl line by a pattern instead of a parse.

The fast verifier's cost per line used to be a JSON parse plus a re-serialisation, only
to prove that the line's bytes already are their RFC 8785 form (so they can be hashed as
they are). Lines of one export mostly share a few shapes: the same members, the same
nesting, different strings and integers. A shape learnt from one line proven canonical
becomes a regular expression that matches exactly the canonical lines of that shape, and
a match costs about half the parse. Its groups cut out the members' bytes the hashes are
built from, so nothing is searched for afterwards.

Why a match proves what the parse did, in a run of text that `plain_text` accepted (valid
UTF-8, no backslash, no control character, no DEL):

* Every string there is `"` + characters other than `"` + `"`: no escape can occur, and
  RFC 8785 writes such a string exactly so (it escapes only `"`, `\\` and controls).
* A slot for an integer takes only the canonical digits of a safe integer: no sign on
  zero, no leading zeros, at most 15 digits (below 2^53), so it is its own RFC 8785 form.
* Keys, braces, brackets, commas, colons and the literals true/false/null are copied
  from the learnt shape, whose keys are plain ASCII written in RFC 8785 order; nothing
  else (no whitespace, no other member, no float) can match.

So a matching line is valid JSON, parses to an object with exactly the members of the
interchange form (entry_index an integer, data an object, the rest strings), and is its
own RFC 8785 serialisation: hashing its bytes is hashing what the exact walk hashes.
A line that matches no shape is simply parsed, as before.
"""

from __future__ import annotations

import re
from typing import Any

# Bytes that force the parse: controls (a raw one is invalid JSON; an escaped one needs
# a backslash), DEL (left to the exact encoders), and the backslash that starts escapes.
_NOT_PLAIN = bytes([*range(0x0A), *range(0x0B, 0x20), 0x7F, 0x5C])

_TEXT = rb'"[^"]*+"'  # a JSON string in plain text; possessive: nothing to backtrack
_INTEGER = rb"(?>0|-?[1-9][0-9]{0,14})"  # canonical, and well inside ±(2^53 - 1)
_MAX_DEPTH = 32
_MAX_SLOTS = 512  # a larger shape is parsed instead: its pattern would be slow to compile
SHAPES_PER_SCAN = 64  # attempts to learn one; compiling one costs ~0.3 ms
# A line's skeleton: its keys, brackets and literals, without string values or numbers.
# A shape is compiled when its skeleton comes round a second time, so a file of shapes
# that never recur does not pay for compiling them.
_SKELETON = re.compile(rb'("[^"]*+":)|"[^"]*+"|-?[0-9][-+.eE0-9]*+')
_SKELETONS_KEPT = 4096
# Shapes stop being looked for once more than half the lines met none, past this many:
# then a file of ever new (or float-bearing) shapes costs what parsing alone costs.
MISSES_ALLOWED = 256

# Groups of a line pattern, in order: the line, then the members' RFC 8785 bytes (data,
# entry_index, previous_hash), previous_hash's and record_hash's hex, and the timestamp's
# bytes. A pattern matches at a line's start in a run and takes its newline.
LINE, DATA, INDEX, PREVIOUS_JSON, PREVIOUS, RECORD, TIMESTAMP = range(1, 8)


def plain_text(run: bytes) -> bool:
    """True when every JSON string in `run` (whole lines) is written without an escape."""
    if not run.isascii():
        try:
            run.decode("utf-8")
        except UnicodeDecodeError:
            return False  # let the parser reject it, with its own message
    return len(run.translate(None, _NOT_PLAIN)) == len(run)


def _plain_key(key: str) -> bool:
    return key.isascii() and key.isprintable() and '"' not in key and "\\" not in key


class _TooBig(Exception):
    pass


def _value_pattern(value: Any, depth: int, slots: list[int]) -> bytes | None:
    """The pattern of every canonical value shaped like `value`; None if it has no such."""
    slots[0] += 1
    if depth > _MAX_DEPTH or slots[0] > _MAX_SLOTS:
        raise _TooBig
    kind = type(value)
    if kind is str:
        return _TEXT
    if kind is int:
        return _INTEGER if -(10**15) < value < 10**15 else None
    if value is None:
        return b"null"
    if kind is bool:
        return b"true" if value else b"false"
    if kind is dict:
        members = []
        # Plain ASCII keys: RFC 8785's UTF-16 order is Python's order of the strings.
        for key in sorted(value):
            inner = _value_pattern(value[key], depth + 1, slots) if _plain_key(key) else None
            if inner is None:
                return None
            members.append(re.escape(f'"{key}":'.encode()) + inner)
        return rb"\{" + b",".join(members) + rb"\}"
    if kind is list:
        items = []
        for item in value:
            inner = _value_pattern(item, depth + 1, slots)
            if inner is None:
                return None
            items.append(inner)
        return rb"\[" + b",".join(items) + rb"\]"
    return None  # a float: its RFC 8785 digits are not a regular language


def line_pattern(line: Any) -> re.Pattern[bytes] | None:
    """The pattern of interchange lines shaped like the parsed `line`, or None."""
    if type(line) is not dict or line.keys() != {
        "data",
        "entry_index",
        "previous_hash",
        "record_hash",
        "timestamp",
    }:
        return None
    if type(line["data"]) is not dict:
        return None
    try:
        data = _value_pattern(line["data"], 0, [0])
    except _TooBig:
        return None
    if data is None:
        return None
    return re.compile(
        rb'(\{"data":(' + data + rb")"
        rb',"entry_index":(' + _INTEGER + rb")"
        rb',"previous_hash":("([^"]*+)")'
        rb',"record_hash":"([^"]*+)"'
        rb',"timestamp":(' + _TEXT + rb")\})(?:\n|\Z)"
    )


class ShapeBook:
    """The line shapes met so far in one scan, found by their number of quote marks.

    In plain text every string has exactly two quote marks, so lines of one shape have the
    same count; the count narrows a look-up to a shape or two.
    """

    def __init__(self, budget: int = SHAPES_PER_SCAN) -> None:
        self._by_quotes: dict[int, list[re.Pattern[bytes]]] = {}
        self._budget = budget
        self._met_once: set[bytes] = set()  # skeletons of lines no shape matched

    def find(self, run: bytes, start: int = 0) -> re.Match[bytes] | None:
        """The match of a known shape for the line at `start` in `run`, if any."""
        end = run.find(b"\n", start)
        quotes = run.count(b'"', start, len(run) if end < 0 else end)
        for pattern in self._by_quotes.get(quotes, ()):
            match = pattern.match(run, start)
            if match is not None:
                return match
        return None

    def learn(self, line: bytes, parsed: Any) -> re.Pattern[bytes] | None:
        """Remember the shape of a line proven canonical (by a parse) in plain text, once
        a line of the same skeleton has been met before."""
        if self._budget <= 0:
            return None
        skeleton = _SKELETON.sub(rb"\1", line)
        if skeleton not in self._met_once:
            if len(self._met_once) < _SKELETONS_KEPT:
                self._met_once.add(skeleton)
            return None
        self._budget -= 1  # a failed attempt costs a walk of the line too
        pattern = line_pattern(parsed)
        if pattern is None or pattern.match(line) is None:
            return None  # e.g. a float, or a key that is not plain
        self._by_quotes.setdefault(line.count(b'"'), []).append(pattern)
        return pattern
