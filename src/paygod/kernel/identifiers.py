"""What a caller-chosen identifier (an account id, a transfer id) may be.

An id is stored, hashed into the ledger, printed in statements and put in URL paths
(`/v1/accounts/{id}`), so it must be text a person can read back and a client can address:
1 to 128 characters, none of them invisible or reordering (control, format such as U+202E
RIGHT-TO-LEFT OVERRIDE, line or paragraph separators, surrogates, private-use or
unassigned code points), no '/' (an id must be one path segment), not '.' or '..' (which
clients collapse out of a path) and no space at either end. PostgreSQL cannot store NUL
in text at all, so this is also what keeps both stores accepting the same ids.

A decision subject (`urn:paygod:agent:1`, `account:wallet`) is an identifier too: it
becomes a ledger subject and is printed in audit output, where a U+202E or a newline
would make one subject read as another. It is wider than an id (up to 256 characters,
'/' allowed: subjects are not path segments of this API and URNs may hold one) but holds
none of the same invisible characters.
"""

from __future__ import annotations

import unicodedata

MAX_IDENTIFIER_LENGTH = 128
MAX_SUBJECT_LENGTH = 256
# Unicode general categories no id may contain (see the module docstring).
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def identifier_problem(value: str) -> str | None:
    """Why `value` cannot be an id, in one phrase; None when it can."""
    if not value or len(value) > MAX_IDENTIFIER_LENGTH:
        return f"must be 1 to {MAX_IDENTIFIER_LENGTH} characters"
    if value != value.strip():
        return "must not begin or end with a space"
    if value in {".", ".."}:
        return "must not be '.' or '..'"
    slash = value.find("/")
    # Whichever comes first is named: an invisible character before the first '/', or it.
    problem = invisible_character(value if slash < 0 else value[:slash])
    if problem is None and slash >= 0:
        return f"must not contain '/' (character {slash})"
    return problem


def invisible_character(value: str) -> str | None:
    """The first character of `value` no identifier may hold, as a phrase; None if none."""
    for position, char in enumerate(value):
        if unicodedata.category(char) in _INVISIBLE:
            return f"must not contain U+{ord(char):04X} (character {position})"
    return None


def subject_problem(value: str) -> str | None:
    """Why `value` cannot be a decision subject, in one phrase; None when it can."""
    if not value or len(value) > MAX_SUBJECT_LENGTH:
        return f"must be 1 to {MAX_SUBJECT_LENGTH} characters"
    return invisible_character(value)
