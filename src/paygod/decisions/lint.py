"""`paygod packs lint`: problems a valid pack can still have.

- what the conditions mean (`semantic_lint.py`, reasoned with Z3): a condition no input
  makes true or every input makes true, a rule an earlier one always pre-empts, and across
  packs decided together an allow that another pack's deny always overrules; each with a
  witness input where one exists;
- a path `input.x.y` that the pack's declared inputs and their schemas do not define.
Duplicate rule names are refused at load time and reported here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from paygod.decisions.model import Pack
from paygod.decisions.semantic_lint import lint_rules, lint_set


@dataclass(frozen=True)
class LintFinding:
    rule: str
    pointer: str
    message: str
    witness: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "rule": self.rule,
            "pointer": self.pointer,
            "message": self.message,
        }
        if self.witness is not None:
            found["witness"] = self.witness
        return found


def _known(schema: Mapping[str, Any] | None, keys: list[str]) -> bool:
    """Whether `keys` can exist under `schema` (unknown when the schema is open)."""
    node: Any = schema
    for key in keys:
        if not isinstance(node, Mapping):
            return True
        props = node.get("properties")
        if not isinstance(props, Mapping):
            return True  # no declared properties: anything may appear
        if key not in props:
            return False
        node = props[key]
    return True


def lint_pack(pack: Pack) -> list[LintFinding]:
    findings: list[LintFinding] = []
    declared = {i.name: i.schema for i in pack.inputs}
    manifest_name = (pack.manifest or {}).get("pack_name")
    if manifest_name is not None and manifest_name != pack.name:
        findings.append(
            LintFinding(
                "",
                "/pack_name",
                f"manifest.json pack_name {manifest_name!r} differs from metadata.name "
                f"{pack.name!r}",
            )
        )
    for rule in pack.rules:
        base = f"/spec/policy/rules/{rule.index}"
        for unknown in rule.condition.unknown_names:
            findings.append(
                LintFinding(
                    rule.name,
                    f"{base}/condition",
                    f"unknown name {unknown!r} (not input, measure or a variable): "
                    "it reads as null",
                )
            )
        if not declared:
            continue
        for path, _getter in rule.condition.paths:
            parts = path.split(".")
            if parts[0] != "input" or len(parts) < 2:
                continue
            name = parts[1]
            if name not in declared:
                findings.append(
                    LintFinding(
                        rule.name,
                        f"{base}/condition",
                        f"unknown path {path}: no input named {name!r} in spec.inputs",
                    )
                )
            elif not _known(declared[name], parts[2:]):
                findings.append(
                    LintFinding(
                        rule.name,
                        f"{base}/condition",
                        f"unknown path {path}: not in the schema of input {name!r}",
                    )
                )
    findings.extend(
        LintFinding(
            f.rule,
            f"/spec/policy/rules/{f.index}" + ("/condition" if "condition" in f.message else ""),
            f.message,
            f.witness,
        )
        for f in lint_rules(pack)
    )
    return findings


def lint_packs(packs: Sequence[Pack]) -> dict[str, list[LintFinding]]:
    """Each pack's own findings, plus the rules another pack always overrules."""
    found = {pack.name: lint_pack(pack) for pack in packs}
    for f in lint_set(packs):
        found[f.pack].append(
            LintFinding(f.rule, f"/spec/policy/rules/{f.index}", f.message, f.witness)
        )
    return found
