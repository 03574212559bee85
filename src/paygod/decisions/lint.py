"""`paygod packs lint`: problems a valid pack can still have.

- a rule that can never fire because an earlier rule always matches (a constant-true
  condition, or the very same condition earlier);
- a rule whose condition is constantly false;
- a path `input.x.y` that the pack's declared inputs and their schemas do not define.
Duplicate rule names are refused at load time and reported here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paygod.decisions.model import Pack


@dataclass(frozen=True)
class LintFinding:
    rule: str
    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "pointer": self.pointer, "message": self.message}


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
    always_from: str | None = None
    seen_conditions: dict[str, str] = {}
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
        if always_from is not None:
            findings.append(
                LintFinding(
                    rule.name,
                    base,
                    f"never fires: rule {always_from!r} before it always matches",
                )
            )
        elif rule.condition.source.strip() in seen_conditions:
            earlier = seen_conditions[rule.condition.source.strip()]
            findings.append(
                LintFinding(
                    rule.name, base, f"never fires: rule {earlier!r} has the same condition"
                )
            )
        if rule.condition.constant is True and always_from is None:
            always_from = rule.name
        if rule.condition.constant is False:
            findings.append(
                LintFinding(rule.name, f"{base}/condition", "condition is always false")
            )
        seen_conditions.setdefault(rule.condition.source.strip(), rule.name)
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
    return findings
