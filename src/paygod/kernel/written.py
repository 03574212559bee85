"""What any written document may hold, whichever module writes it.

Every HTTP write passes its JSON body through `written_problems` (in `StrictJsonRoute`), and
modules whose writes also come from the CLI call it on their request document. One rule for
every field of every write:

- no raw personal data in any string (`kernel.pii`): the ledger is append-only and exported,
  so an e-mail, card number, IBAN or phone number sealed there can never be erased. Members
  a module keeps out of the ledger on purpose (a payment's payee, which lives in the payee
  vault and is sealed as its digest) are named by the caller as `vaulted` pointers;
- no credential in any string value (`kernel.credentials`: private keys, cloud keys,
  bearer tokens, JWTs, Paygod API keys, values of password-like members): a secret sealed
  in the ledger leaks for good. A member that carries one on purpose and is kept sealed
  outside the ledger (a webhook's HMAC secret) is named by the caller as `credentials`;
- no NUL anywhere, key or value: PostgreSQL text cannot hold it, and a key `"k\\u0000"`
  prints as `"k"` in most tools;
- member names are identifiers: no control, format (U+202E RIGHT-TO-LEFT OVERRIDE),
  separator, surrogate, private-use or unassigned character (`kernel.identifiers`);
- string values hold no control character other than tab, line feed and carriage return,
  and none of the bidirectional controls of CVE-2021-42574 ("Trojan Source"), which make a
  sealed value read as another in audit output and exports.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from paygod.kernel.credentials import value_problem
from paygod.kernel.errors import FieldError
from paygod.kernel.identifiers import invisible_character
from paygod.kernel.pii import cached_when_short, pii_kind, pii_message

# Unicode's explicit bidirectional formatting characters (UAX #9, section 2).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_TEXT_CONTROLS = frozenset("\t\n\r")


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@cached_when_short
def text_problem(value: str) -> str | None:
    """Why free text cannot be written, or None."""
    for position, char in enumerate(value):
        if char in BIDI_CONTROLS or (char < " " and char not in _TEXT_CONTROLS) or char == "\x7f":
            return f"must not contain U+{ord(char):04X} (character {position})"
    return None


def key_problem(key: str) -> str | None:
    """Why a member name cannot be written, or None."""
    if not key:
        return None
    return invisible_character(key)


def _walk(value: Any, pointer: str) -> Iterator[tuple[str, str, bool]]:
    """(pointer, text, is_key) for every string in `value`, keys included."""
    if isinstance(value, str):
        yield pointer, value, False
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key)
            member = f"{pointer}/{escape_pointer_token(name)}"
            yield member, name, True
            yield from _walk(item, member)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{pointer}/{index}")


def written_problems(
    document: Any,
    pointer: str = "",
    *,
    vaulted: Collection[str] = (),
    identifiers: Collection[str] = (),
    credentials: Collection[str] = (),
) -> list[FieldError]:
    """Every field of `document` that may not be written, with its JSON pointer. A string
    under a `vaulted` pointer is exempt from the personal-data rule only; one at an
    `identifiers` pointer from the character rule only, because its module holds it to the
    stricter identifier rule and reports it with that rule's own code; one under a
    `credentials` pointer (a webhook's own HMAC secret, kept sealed outside the ledger)
    from the credential rule only."""
    errors: list[FieldError] = []
    for where, text, is_key in _walk(document, pointer):
        if is_key:
            problem = key_problem(text)
        elif identifiers and any(_at(where, member) for member in identifiers):
            problem = None
        else:
            problem = text_problem(text)
        if problem is not None:
            what = "member name" if is_key else "value"
            errors.append(FieldError(where, f"{what} {problem}"))
            continue
        if not is_key and not (credentials and _is_vaulted(where, credentials)):
            secret = value_problem(where, text)
            if secret is not None:
                errors.append(FieldError(where, secret))
                continue
        if vaulted and _is_vaulted(where, vaulted):
            continue
        kind = pii_kind(text)
        if kind is not None:
            errors.append(FieldError(where, pii_message(kind)))
    return errors


def _at(where: str, member: str) -> bool:
    """Whether pointer `where` is `member`, whose `*` tokens stand for any one token (an
    array index: `/transfers/*/id`)."""
    have, want = where.split("/"), member.split("/")
    return len(have) == len(want) and all(w in ("*", h) for h, w in zip(have, want, strict=True))


def _is_vaulted(where: str, vaulted: Collection[str]) -> bool:
    return any(where == v or where.startswith(v + "/") for v in vaulted)


def written_message(value: str) -> str | None:
    """Why one string value cannot be written, as a phrase; None when it can."""
    errors = written_problems(value)
    return errors[0].message if errors else None
