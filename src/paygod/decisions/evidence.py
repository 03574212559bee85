"""Evidence by reference, and the guard that keeps raw personal data out of the ledger.

Evidence is a bundle of references (`urn:...`, `sha256:<64 hex>`) plus the decision's
explanation. Anything sealed is scanned for values that look like raw personal data
(e-mail addresses, card numbers, IBANs, phone numbers): those must travel by reference.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from paygod.canonical import unsafe_numbers
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.pii import is_reference, pii_kind, pii_message

__all__ = [
    "build_evidence",
    "find_raw_pii",
    "find_unhashable_numbers",
    "is_reference",
    "pii_kind",
    "require_references",
]


def _walk(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{pointer}/{index}")


def find_raw_pii(value: Any, pointer: str = "") -> list[FieldError]:
    errors = []
    for where, text in _walk(value, pointer):
        kind = pii_kind(text)
        if kind:
            errors.append(FieldError(where, pii_message(kind)))
    return errors


def find_unhashable_numbers(value: Any, pointer: str = "") -> list[FieldError]:
    """Numbers beyond ±(2^53-1), however written (`2**53+1`, `1e20`, `9007199254740993.0`),
    and non-finite numbers are refused with a pointer."""
    return [FieldError(where, reason) for where, reason in unsafe_numbers(value, pointer)]


def require_references(refs: Any, pointer: str) -> list[FieldError]:
    """Where only references are allowed, every item must be `urn:` or `sha256:`."""
    if refs is None:
        return []
    if not isinstance(refs, list):
        return [FieldError(pointer, "must be an array of references (urn:/sha256:)")]
    return [
        FieldError(f"{pointer}/{i}", "must be a reference (urn:... or sha256:<64 hex>)")
        for i, ref in enumerate(refs)
        if not is_reference(ref)
    ]


def build_evidence(
    *,
    subject: str,
    input_hash: str,
    pack_digests: Sequence[str],
    context_refs: Sequence[str],
    measurements_digest: str,
    explanation: Mapping[str, Any],
) -> dict[str, Any]:
    refs = [f"sha256:{input_hash}", *(f"sha256:{d}" for d in pack_digests), *context_refs]
    if is_reference(subject):
        refs.insert(0, subject)
    evidence = {
        "kind": "decision-evidence",
        "refs": list(dict.fromkeys(refs)),
        "input_hash": f"sha256:{input_hash}",
        "measurements": measurements_digest,
        "explanation": dict(explanation),
    }
    problems = require_references(evidence["refs"], "/refs")
    if problems:  # pragma: no cover - every ref above is built as a reference
        raise InvalidInput(
            "evidence holds a raw value where a reference is required", errors=problems
        )
    return evidence
