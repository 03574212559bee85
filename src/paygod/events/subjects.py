"""Where an event goes in JetStream: subject `paygod.<tenant>.<event_type>`, one stream per family.

The family is the event type's first token (`payment.settled` → `payment`), so a consumer of
payments binds to `PAYGOD_PAYMENT` and never sees audit traffic. NATS subject tokens may not
contain `.`, `*`, `>` or whitespace; a tenant id is escaped token-safely (`~` + two hex digits
per UTF-8 byte of any other character), so every tenant, even the platform's `*`, gets exactly
one token and no tenant can read another's subject by wildcard accident.
"""

from __future__ import annotations

import re

SUBJECT_ROOT = "paygod"  # the default namespace; PAYGOD_NATS_NAMESPACE sets another
_SAFE = re.compile(r"[A-Za-z0-9_-]")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def escape_token(value: str) -> str:
    """One NATS subject token for any string (reversible, see `unescape_token`)."""
    if not value:
        return "~"
    return "".join(
        ch if _SAFE.fullmatch(ch) else "".join(f"~{b:02X}" for b in ch.encode()) for ch in value
    )


def unescape_token(token: str) -> str:
    if token == "~":
        return ""
    out = bytearray()
    i = 0
    while i < len(token):
        if token[i] == "~":
            out.append(int(token[i + 1 : i + 3], 16))
            i += 3
        else:
            out.extend(token[i].encode())
            i += 1
    return out.decode()


def check_event_type(event_type: str) -> str:
    """Event types are `family.name[.more]` in lower case; anything else would corrupt the
    subject space (and a bare family would not land in its family's stream)."""
    if not _EVENT_TYPE.match(event_type):
        raise ValueError(
            f"event type {event_type!r} must be dotted lower-case words, family first "
            "(e.g. payment.settled)"
        )
    return event_type


def family_of(event_type: str) -> str:
    return check_event_type(event_type).split(".", 1)[0]


_NAMESPACE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def check_namespace(root: str) -> str:
    """The first subject token and stream prefix; separate deployments on one NATS differ here."""
    if not _NAMESPACE.match(root):
        raise ValueError(
            f"NATS namespace {root!r} must be 1-32 of a-z, 0-9, _ or -, a letter first"
        )
    return root


def stream_prefix(root: str = SUBJECT_ROOT) -> str:
    return check_namespace(root).upper().replace("-", "_") + "_"


def subject_for(tenant_id: str, event_type: str, root: str = SUBJECT_ROOT) -> str:
    return f"{root}.{escape_token(tenant_id)}.{check_event_type(event_type)}"


def stream_for(event_type: str, root: str = SUBJECT_ROOT) -> str:
    return stream_prefix(root) + family_of(event_type).upper()


def stream_subjects(family: str, root: str = SUBJECT_ROOT) -> list[str]:
    """The subjects a family's stream captures: every tenant, every type of that family."""
    return [f"{root}.*.{family}.>"]


def filter_subject(
    tenant_id: str | None, family: str, event_type: str | None = None, root: str = SUBJECT_ROOT
) -> str:
    """A consumer filter inside one family's stream: one tenant or all, one type or all."""
    tenant = escape_token(tenant_id) if tenant_id is not None else "*"
    if event_type is None:
        return f"{root}.{tenant}.{family}.>"
    return f"{root}.{tenant}.{check_event_type(event_type)}"
