"""What a caller-chosen identifier (an account id, a transfer id) may be.

An id is stored, hashed into the ledger, printed in statements and put in URL paths
(`/v1/accounts/{id}`), so it must be text a person can read back and a client can address:
1 to 128 characters, none of them invisible or reordering (control, format such as U+202E
RIGHT-TO-LEFT OVERRIDE, line or paragraph separators, surrogates, private-use or
unassigned code points), no '/' (an id must be one path segment), not '.' or '..' (which
clients collapse out of a path) and no space at either end. PostgreSQL cannot store NUL
in text at all, so this is also what keeps both stores accepting the same ids.
"""

from __future__ import annotations

import unicodedata

MAX_IDENTIFIER_LENGTH = 128
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
    for position, char in enumerate(value):
        if char == "/":
            return f"must not contain '/' (character {position})"
        if unicodedata.category(char) in _INVISIBLE:
            return f"must not contain U+{ord(char):04X} (character {position})"
    return None
