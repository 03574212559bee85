"""SOX, PCI DSS and GDPR reports for a period, computed from ledger entries only.

Each report is plain JSON (sections of columns and rows, charts of labelled counts) and
states the basis (tenant, period, signed tree head) it was computed against, so anyone
holding the ledger can recompute it. Rows are ordered by ledger seq: deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from paygod.assurance.model import Basis
from paygod.kernel.pii import card_numbers
from paygod.ledger.model import Entry

Report = dict[str, Any]
# Entry kinds the PII vault (issue 19, part B) records; picked up whenever present.
GDPR_ERASURE = "gdpr.erasure"
GDPR_ACCESS = "gdpr.access"
PRIVILEGED = ("identity:manage", "tenants:manage", "packs:activate", "panic:write")
CARDHOLDER = ("payments:", "/payments", "/payees", "payee", "card")


def _section(title: str, columns: Sequence[str], rows: list[list[Any]], note: str = "") -> Report:
    return {"title": title, "columns": list(columns), "rows": rows, "note": note}


def _chart(title: str, counts: Mapping[str, int]) -> Report:
    return {"title": title, "bars": [{"label": k, "value": v} for k, v in counts.items()]}


def _report(kind: str, title: str, base: Basis, entries: Sequence[Entry], **body: Any) -> Report:
    return {
        "report": kind,
        "title": title,
        **base.as_dict(),
        "computed_from": "ledger",
        "entries_in_period": len(entries),
        **body,
    }


# -- SOX ------------------------------------------------------------------------------


IDENTITY_KINDS = ("identity.tenant", "identity.principal", "identity.api-key")


def _identity_name(payload: Mapping[str, Any]) -> Any:
    for member in ("principal", "tenant"):
        found = payload.get(member)
        if isinstance(found, Mapping):
            return found.get("name")
    return None


def _grant(e: Entry) -> list[Any]:
    """One identity change: roles after it for a principal, scopes for a key."""
    p = e.payload
    principal, key = p.get("principal"), p.get("key")
    access = None
    if isinstance(principal, Mapping):
        access = principal.get("roles")
    elif isinstance(key, Mapping):
        access = key.get("scopes")
    return [e.seq, e.kind, e.subject, p.get("change"), access, p.get("actor"), p.get("at")]


def sox(base: Basis, entries: Sequence[Entry]) -> Report:
    approvals, exceptions = [], []
    for e in entries:
        if e.kind != "payment" or e.payload.get("transition") not in {"approved", "rejected"}:
            continue
        payment = e.payload.get("payment") or {}
        maker = payment.get("requested_by")
        for approval in payment.get("approvals") or ():
            row = [
                e.seq,
                payment.get("payment_id"),
                maker,
                approval.get("by"),
                approval.get("verdict"),
                approval.get("at"),
                payment.get("amount"),
                payment.get("currency"),
            ]
            approvals.append(row)
            if approval.get("by") == maker:
                exceptions.append([e.seq, "payment approved by its maker", maker])
    stages = [e for e in entries if e.kind == "policy.stage"]
    staged_by: dict[str, str] = {}
    activations = []
    for e in stages:
        p = e.payload
        name, actor, stage = p.get("pack"), p.get("actor"), p.get("stage")
        if stage in {"shadow", "canary"}:
            staged_by.setdefault(f"{name}@{p.get('digest')}", str(actor))
        activations.append(
            [e.seq, name, p.get("version"), p.get("previous_stage"), stage, actor, p.get("at")]
        )
        maker = staged_by.get(f"{name}@{p.get('digest')}")
        if stage == "active" and maker is not None and maker == actor:
            exceptions.append([e.seq, f"pack {name} staged and activated by one actor", actor])
    changes = [
        [
            e.seq,
            e.kind,
            e.subject,
            e.payload.get("name") or e.payload.get("pack") or _identity_name(e.payload),
            e.payload.get("version"),
            e.timestamp,
        ]
        for e in entries
        if e.kind in {"pack", "policy.stage", "policy.rolled_back"}
        or e.kind.startswith("identity.")
    ]
    grants = [_grant(e) for e in entries if e.kind in IDENTITY_KINDS]
    privileged = [
        [
            e.seq,
            e.payload.get("principal_id"),
            e.payload.get("action"),
            e.payload.get("target"),
            e.payload.get("occurred_at"),
        ]
        for e in entries
        if e.kind.startswith("audit.")
        and (e.payload.get("action") in PRIVILEGED or e.kind != "audit.access")
    ]
    return _report(
        "sox",
        "SOX: segregation of duties and change control",
        base,
        entries,
        summary={
            "payment_reviews": len(approvals),
            "pack_stage_changes": len(activations),
            "privileged_access": len(privileged),
            "role_and_access_changes": len(grants),
            "exceptions": len(exceptions),
        },
        sections=[
            _section(
                "Maker-checker on payments",
                ["seq", "payment", "maker", "checker", "verdict", "at", "amount", "currency"],
                approvals,
            ),
            _section(
                "Pack activations (governance stages)",
                ["seq", "pack", "version", "from", "to", "actor", "at"],
                activations,
            ),
            _section(
                "Privileged access and identity changes",
                ["seq", "principal", "action", "target", "at"],
                privileged,
                "audited privileged reads and factor resets; role grants and API keys are "
                "in the next section",
            ),
            _section(
                "Role grants and access changes",
                ["seq", "kind", "subject", "change", "roles or scopes", "actor", "at"],
                grants,
                # Said in the report itself, so nobody reads a missing actor as a gap.
                "principals created, roles set, disabled or enabled; API keys issued, "
                "rotated or revoked; sealed with each change. actor null: done from the "
                "host (paygod init, the CLI) or before identity changes were sealed "
                "(change 'adopted')",
            ),
            _section(
                "Changes to packs and roles",
                ["seq", "kind", "subject", "name", "version", "recorded_at"],
                changes,
            ),
            _section(
                "Segregation-of-duties exceptions",
                ["seq", "exception", "actor"],
                exceptions,
                "none found" if not exceptions else "",
            ),
        ],
        charts=[
            _chart("Entries by kind", _by_kind(entries)),
            _chart(
                "Reviews and exceptions",
                {
                    "payment reviews": len(approvals),
                    "stage changes": len(activations),
                    "exceptions": len(exceptions),
                },
            ),
        ],
    )


# -- PCI DSS --------------------------------------------------------------------------


def find_pans(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """(pointer, masked PAN) for every Luhn-valid 13-19 digit number in `value`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from find_pans(
                item, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            )
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_pans(item, f"{pointer}/{index}")
    elif isinstance(value, str | int) and not isinstance(value, bool):
        # The same detector that refuses raw card numbers at every write (kernel.pii).
        for digits in card_numbers(str(value)):
            yield pointer, f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def pci(base: Basis, entries: Sequence[Entry]) -> Report:
    hits = [
        [e.seq, e.kind, pointer, masked] for e in entries for pointer, masked in find_pans(e.data())
    ]
    reads = [
        [
            e.seq,
            e.payload.get("principal_id"),
            e.payload.get("action"),
            e.payload.get("target"),
            e.payload.get("reason"),
            e.payload.get("occurred_at"),
        ]
        for e in entries
        if e.kind == "audit.access"
        and any(c in f"{e.payload.get('action')} {e.payload.get('target')}" for c in CARDHOLDER)
    ]
    rotations = [
        [e.seq, e.kind, e.subject, e.timestamp]
        for e in entries
        if "key" in e.kind and ("rotat" in e.kind or "rotat" in str(e.payload.get("action")))
    ]
    return _report(
        "pci",
        "PCI DSS: card data, cardholder-reference reads, key management",
        base,
        entries,
        summary={
            "entries_scanned": len(entries),
            "pan_findings": len(hits),
            "cardholder_reference_reads": len(reads),
            "key_rotations": len(rotations),
            "signing_key_id": base.head.key_id,
        },
        sections=[
            _section(
                "Card numbers found in the ledger (Luhn-valid, masked)",
                ["seq", "kind", "pointer", "masked PAN"],
                hits,
                "no card data in the ledger" if not hits else "PCI DSS 3.3/3.5 exception",
            ),
            _section(
                "Who read cardholder references",
                ["seq", "principal", "action", "target", "reason", "at"],
                reads,
            ),
            _section(
                "Key rotations",
                ["seq", "kind", "subject", "recorded_at"],
                rotations,
                f"ledger signing key {base.head.key_id}; no rotation entry in the period"
                if not rotations
                else "",
            ),
        ],
        charts=[
            _chart(
                "Entries scanned and findings",
                {
                    "entries scanned": len(entries),
                    "PAN findings": len(hits),
                    "cardholder reads": len(reads),
                },
            )
        ],
    )


# -- GDPR -----------------------------------------------------------------------------


def gdpr(base: Basis, entries: Sequence[Entry]) -> Report:
    consents = [e for e in entries if e.kind == "consent"]
    rows = [
        [
            e.seq,
            e.payload.get("subject"),
            e.payload.get("purpose"),
            "given" if e.payload.get("granted") else "withdrawn",
            e.payload.get("recorded_by"),
            e.payload.get("recorded_at"),
        ]
        for e in consents
    ]
    purposes: dict[str, Counter[str]] = {}
    for e in consents:
        purposes.setdefault(str(e.payload.get("purpose")), Counter())[
            "given" if e.payload.get("granted") else "withdrawn"
        ] += 1
    processing = [[p, c["given"], c["withdrawn"]] for p, c in sorted(purposes.items())]
    requests = [
        [
            e.seq,
            e.kind.removeprefix("gdpr."),
            e.subject,
            e.timestamp,
            e.payload.get("status") or e.payload.get("outcome"),
        ]
        for e in entries
        if e.kind in {GDPR_ERASURE, GDPR_ACCESS}
    ]
    return _report(
        "gdpr",
        "GDPR: records of processing, consents, data-subject requests",
        base,
        entries,
        summary={
            "consents_given": sum(c["given"] for c in purposes.values()),
            "consents_withdrawn": sum(c["withdrawn"] for c in purposes.values()),
            "erasure_requests": sum(1 for r in requests if r[1] == "erasure"),
            "access_requests": sum(1 for r in requests if r[1] == "access"),
        },
        sections=[
            _section(
                "Records of processing (by purpose)", ["purpose", "given", "withdrawn"], processing
            ),
            _section(
                "Consents given and withdrawn",
                ["seq", "subject", "purpose", "event", "recorded by", "at"],
                rows,
            ),
            _section(
                "Access and erasure requests",
                ["seq", "request", "subject", "recorded_at", "outcome"],
                requests,
                f"entry kinds {GDPR_ACCESS}, {GDPR_ERASURE}"
                + (": none in the period" if not requests else ""),
            ),
        ],
        charts=[
            _chart(
                "Consents by purpose",
                {f"{p} given": c["given"] for p, c in sorted(purposes.items())}
                | {f"{p} withdrawn": c["withdrawn"] for p, c in sorted(purposes.items())},
            ),
            _chart("Entries by kind", _by_kind(entries)),
        ],
    )


def _by_kind(entries: Sequence[Entry]) -> dict[str, int]:
    return dict(sorted(Counter(e.kind for e in entries).items()))


BUILDERS: dict[str, Callable[[Basis, list[Entry]], Report]] = {"sox": sox, "pci": pci, "gdpr": gdpr}
