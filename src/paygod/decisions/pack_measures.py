"""Packs that measure: a score declared in the pack, so "Risk Score = 85/100" is policy.

    spec:
      measurements:
        - name: risk_score            # rules read measure.risk_score (and measure.risk_score_band)
          unit: score
          base: 0
          terms:
            - when: "input.payment.amount_minor > 100000"    # adds `weight` when true
              weight: 30
            - value: "measure.velocity_1h"                   # adds weight x value, capped
              weight: 2
              cap: 20
            - value: "input.payment.counterparty.age_days"
              weight: -0.1
              default: 0                                     # when the value is null/absent
          min: 0
          max: 100
          bands: [{below: 30, band: low}, {below: 70, band: medium}, {band: high}]
        - name: tenant_score
          plugin: {module: plugins/score.wasm, sha256: "sha256:..."}   # WASM (decisions/wasm.py)

Measurements are computed in order before any rule, from the request's input and the
kernel's measurements (and the pack's earlier ones); each is sealed in the pack's result
with every term's contribution (the explanation) and its provider `pack:<name>@<version>`.
A term whose value is not a number (and has no `default`), or a plug-in that fails, stops
the pack with verdict `error`: failing closed, as for a rule that cannot be evaluated.
A pack may not redefine a kernel measurement (its value would not be the kernel's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paygod.decisions.conditions import (
    Condition,
    ConditionSyntaxError,
    EvaluationError,
    as_number,
    compile_condition,
)
from paygod.kernel.errors import FieldError

# The kernel's own measurement names (decisions/measurements.py, risk): never redefined.
KERNEL_NAMES = frozenset(
    {
        "amount_minor",
        "velocity_1h",
        "velocity_24h",
        "amount_1h",
        "amount_24h",
        "consent",
        "risk_score",
        "risk_band",
        "risk_reasons",
        "risk_model_version",
    }
)

MEASUREMENTS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
            "description": {"type": "string"},
            "unit": {"type": "string"},
            "base": {"type": "number"},
            "min": {"type": "number"},
            "max": {"type": "number"},
            "plugin": {
                "type": "object",
                "additionalProperties": False,
                "required": ["module", "sha256"],
                "properties": {
                    "module": {"type": "string", "minLength": 1},
                    "sha256": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                    "fuel": {"type": "integer", "minimum": 1000, "maximum": 1000000000},
                    "memory_bytes": {"type": "integer", "minimum": 65536, "maximum": 268435456},
                    "timeout_ms": {"type": "number", "exclusiveMinimum": 0, "maximum": 5000},
                },
            },
            "terms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["weight"],
                    "properties": {
                        "when": {"type": "string", "minLength": 1},
                        "value": {"type": "string", "minLength": 1},
                        "weight": {"type": "number"},
                        "cap": {"type": "number"},
                        "default": {"type": "number"},
                    },
                },
            },
            "bands": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["band"],
                    "properties": {"below": {"type": "number"}, "band": {"type": "string"}},
                },
            },
        },
    },
}


class MeasurementFailed(EvaluationError):
    """A pack's measurement could not be computed: the pack's verdict is `error`."""


@dataclass(frozen=True)
class Term:
    when: Condition | None
    value: Condition | None
    weight: float
    cap: float | None
    default: float | None

    @property
    def label(self) -> str:
        parts = [f"when {self.when.source}"] if self.when else []
        parts += [self.value.source] if self.value else []
        return " : ".join(parts) or "constant"

    def contribution(self, env: dict[str, Any]) -> float:
        if self.when is not None and not self.when.test(env):
            return 0.0
        amount = 1.0
        if self.value is not None:
            raw = self.value.fn(env)
            number = None if isinstance(raw, bool) else as_number(raw)
            if number is None:
                if self.default is None:
                    raise MeasurementFailed(f"{self.value.source} is {raw!r}, not a number")
                number = self.default
            amount = number
        found = self.weight * amount
        return min(found, self.cap) if self.cap is not None else found


# A plug-in call: the JSON document in, the number out (or `MeasurementFailed`).
PluginCall = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class PackMeasure:
    name: str
    unit: str
    base: float = 0.0
    terms: tuple[Term, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    bands: tuple[tuple[float | None, str], ...] = ()
    plugin: PluginCall | None = None
    plugin_ref: Mapping[str, Any] | None = None

    def compute(self, env: dict[str, Any]) -> dict[str, Any]:
        """The measurement's sealed record: value, band and how each term contributed."""
        record: dict[str, Any] = {"name": self.name, "unit": self.unit}
        if self.plugin is not None:
            value = _number(self.plugin({"input": env["input"], "measure": env["measure"]}))
            record["plugin"] = dict(self.plugin_ref or {})
        else:
            contributions = [(term.label, term.contribution(env)) for term in self.terms]
            value = self.base + sum(c for _, c in contributions)
            record["terms"] = [{"term": t, "contribution": _number(c)} for t, c in contributions]
        if self.minimum is not None:
            value = max(value, self.minimum)
        if self.maximum is not None:
            value = min(value, self.maximum)
        record["value"] = _number(value)
        for below, band in self.bands:
            if below is None or value < below:
                record["band"] = band
                break
        return record


def _number(value: Any) -> int | float:
    """A whole float is sealed as an integer, so 85.0 and 85 are the same measurement."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MeasurementFailed(f"a measurement must be a number, got {value!r}")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise MeasurementFailed(f"a measurement must be finite, got {value!r}")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return round(value, 9)
    return value


def measure_pack(
    measures: tuple[PackMeasure, ...], env: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """Compute the pack's measurements into `env["measure"]`, in order: their records and,
    when one fails, why (its record says so too; later ones are not computed)."""
    records: list[dict[str, Any]] = []
    for item in measures:
        try:
            if item.name in env["measure"]:
                raise MeasurementFailed("the name is measured already (by the kernel)")
            record = item.compute(env)
        except EvaluationError as exc:
            why = f"Measurement {item.name!r} could not be computed: {exc}"
            records.append({"name": item.name, "unit": item.unit, "error": str(exc)})
            return records, why
        env["measure"][item.name] = record["value"]
        if "band" in record:
            env["measure"][f"{item.name}_band"] = record["band"]
        records.append(record)
    return records, None


def _compile_expression(
    raw: str | None, pointer: str, errors: list[FieldError]
) -> Condition | None:
    if raw is None:
        return None
    try:
        return compile_condition(raw)
    except ConditionSyntaxError as exc:
        errors.append(FieldError(pointer, f"{exc} (at {exc.position})"))
        return None


PluginLoader = Callable[[Mapping[str, Any]], tuple[PluginCall, Mapping[str, Any]]]


def plugin_loader(directory: Path) -> PluginLoader:
    """Plug-ins load from the pack's own directory (the module's digest pinned in pack.yaml,
    so the pack's digest names the module too, and a signed bundle lists its file)."""

    def load(spec: Mapping[str, Any]) -> tuple[PluginCall, Mapping[str, Any]]:
        from paygod.decisions.wasm import load_plugin  # wasmtime only for packs that use it

        plugin = load_plugin(directory, spec)
        ref = {"module": spec["module"], "sha256": plugin.digest, **plugin.limits.__dict__}
        return plugin.measure, ref

    return load


def compile_measures(
    raw: list[dict[str, Any]],
    load_plugin: PluginLoader | None,
) -> tuple[tuple[PackMeasure, ...], list[FieldError]]:
    """The pack's declared measurements, or the errors that refuse the pack (by pointer)."""
    errors: list[FieldError] = []
    found: list[PackMeasure] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        base = f"/spec/measurements/{index}"
        name = item["name"]
        if name in KERNEL_NAMES or name in names or name.endswith("_band"):
            errors.append(FieldError(f"{base}/name", f"{name!r} is taken (kernel, pack or band)"))
        names.add(name)
        if ("plugin" in item) == ("terms" in item):
            errors.append(FieldError(base, "declare either terms or plugin"))
            continue
        plugin: PluginCall | None = None
        plugin_ref: Mapping[str, Any] | None = None
        if "plugin" in item:
            if load_plugin is None:
                errors.append(FieldError(f"{base}/plugin", "plug-ins load from a pack directory"))
                continue
            try:
                plugin, plugin_ref = load_plugin(item["plugin"])
            except ValueError as exc:
                errors.append(FieldError(f"{base}/plugin", str(exc)))
                continue
        terms = []
        for t_index, term in enumerate(item.get("terms", [])):
            pointer = f"{base}/terms/{t_index}"
            when = _compile_expression(term.get("when"), f"{pointer}/when", errors)
            value = _compile_expression(term.get("value"), f"{pointer}/value", errors)
            terms.append(Term(when, value, term["weight"], term.get("cap"), term.get("default")))
        bands = tuple((b.get("below"), b["band"]) for b in item.get("bands", []))
        found.append(
            PackMeasure(
                name,
                item.get("unit", "score"),
                item.get("base", 0),
                tuple(terms),
                item.get("min"),
                item.get("max"),
                bands,
                plugin,
                plugin_ref,
            )
        )
    return tuple(found), errors
