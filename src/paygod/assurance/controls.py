"""Which controls a sealed decision exercised, from the controls its packs' rules name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from paygod.decisions.control_catalog import Control, control
from paygod.decisions.model import Pack


class PackSource(Protocol):
    def packs(self) -> list[Pack]: ...

    def by_digest(self, digest: str) -> Pack | None: ...


def oscal_control_id(ref: str) -> str:
    """An OSCAL token for `framework:id`: NIST ids as they are (`ac-2`), PCI DSS
    requirements as `req-7.2` and SOC 2 criteria lower-cased (`cc6.1`); a token cannot
    start with a digit (OSCAL's TokenDatatype)."""
    framework, ident = ref.split(":", 1)
    if framework == "pci-dss-4":
        return f"req-{ident}"
    return ident.lower()


def pack_controls(pack: Pack) -> dict[str, list[str]]:
    """control ref -> names of the rules that implement it, in rule order."""
    found: dict[str, list[str]] = {}
    for rule in pack.rules:
        for ref in rule.controls:
            found.setdefault(ref, []).append(rule.name)
    return found


def known(refs: Iterable[str]) -> list[Control]:
    return [c for c in (control(r) for r in sorted(set(refs))) if c is not None]


# A pack's rules in order, each with the controls it names: all the mapping needs of a
# pack (plain tuples: it crosses to the processes that observe a slice of a period).
RuleControls = tuple[tuple[str, tuple[str, ...]], ...]
PackResolver = Callable[[str, str], RuleControls | None]


def rule_controls(pack: Pack) -> RuleControls:
    return tuple((rule.name, tuple(rule.controls)) for rule in pack.rules)


class DecisionControls:
    """Controls exercised by a decision: those of every rule its packs evaluated (first
    match: the rules up to and including the deciding one; all of them when none
    matched). Cached per (pack digest, deciding rule): a million decisions share a few."""

    def __init__(self, resolve: PackResolver) -> None:
        self._resolve = resolve  # (name, digest) -> the rules of the pack that decided
        self._cache: dict[tuple[str, str, str | None], tuple[str, ...]] = {}

    def of(self, payload: Mapping[str, Any]) -> tuple[str, ...]:
        results = payload.get("packs") or ()
        if type(results) is list and len(results) == 1 and type(results[0]) is dict:
            only = results[0]  # one pack decided: its cached tuple is the answer
            key = (str(only.get("name")), str(only.get("digest")), only.get("rule"))
            found = self._cache.get(key)
            if found is None:
                found = self._cache[key] = self._evaluated(*key)
            return found
        refs: list[str] = []
        for result in results:
            if not isinstance(result, Mapping):
                continue
            key = (str(result.get("name")), str(result.get("digest")), result.get("rule"))
            cached = self._cache.get(key)
            if cached is None:
                cached = self._evaluated(*key)
                self._cache[key] = cached
            refs.extend(cached)
        return tuple(dict.fromkeys(refs))

    def _evaluated(self, name: str, digest: str, rule: str | None) -> tuple[str, ...]:
        rules = self._resolve(name, digest)
        if rules is None:
            return ()
        refs: list[str] = []
        for candidate, controls in rules:
            refs.extend(controls)
            if candidate == rule:
                break
        return tuple(dict.fromkeys(refs))
