"""Paygod's own JSON Schemas for pack files, compiled once (jsonschema-rs).

They accept everything the paygod/v1 contracts accept (the reference packs load
unchanged) and are stricter where the contracts are silent: input names, unique
rule names are checked by the loader, `tests/cases.yaml` may omit `version`.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from paygod.decisions.pack_measures import MEASUREMENTS_SCHEMA

SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
VERDICTS = ["allow", "deny", "flag", "error"]

# `framework:id` references into the controls catalog (paygod.decisions.control_catalog); the
# loader checks each one against the catalog and refuses unknown ones.
CONTROLS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "uniqueItems": True,
    "items": {"type": "string", "minLength": 3},
}

PACK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "paygod/v1 Pack",
    "type": "object",
    "additionalProperties": False,
    "required": ["api_version", "kind", "metadata", "spec"],
    "properties": {
        "api_version": {"const": "paygod/v1"},
        "kind": {"const": "Pack"},
        "metadata": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {
                # The contract asks only for a non-empty string: "Data Flow Guard" and
                # "PII_guard" are names other kernels accept, so they load here too.
                "name": {"type": "string", "minLength": 1},
                "version": {"type": "string", "pattern": SEMVER},
                "description": {"type": "string"},
                "maintainer": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                # Paygod's extension (docs/assurance.md): controls every rule implements.
                "controls": CONTROLS_SCHEMA,
            },
        },
        "spec": {
            "type": "object",
            "required": ["policy"],
            "properties": {
                "inputs": {
                    "type": "array",
                    "items": {
                        # The contract leaves inputs open; an input without a name only
                        # documents where data comes from and is not checked.
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "type": {"type": "string"},
                            "source": {"type": "string"},
                            "required": {"type": "boolean"},
                            "schema": {"type": ["object", "boolean"]},
                        },
                    },
                },
                # Paygod's extension (decisions/pack_measures.py): optional.
                "measurements": MEASUREMENTS_SCHEMA,
                "policy": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["rules"],
                    "properties": {
                        "rules": {
                            # No minItems: the contract allows an empty list, whose every
                            # verdict is `error` (no rule matched).
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["name", "condition", "decision", "reason"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 1},
                                    "condition": {"type": "string", "minLength": 1},
                                    "decision": {"enum": VERDICTS},
                                    "reason": {"type": "string", "minLength": 1},
                                    # Paygod's extension (docs/assurance.md): optional.
                                    "controls": CONTROLS_SCHEMA,
                                    # Paygod's extension (docs/actions.md): optional, so
                                    # every paygod/v1 pack stays valid.
                                    "action": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["type"],
                                        "properties": {
                                            "type": {"type": "string", "minLength": 1},
                                            "destination": {"type": "string", "minLength": 1},
                                            "payload": {"type": "object"},
                                        },
                                    },
                                },
                            },
                        }
                    },
                },
            },
        },
    },
}

CASES_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "paygod/v1 pack test cases",
    "type": "object",
    "required": ["cases"],
    "properties": {
        "version": {"type": "string", "pattern": SEMVER},
        "cases": {
            "type": "array",
            "items": {
                "type": "object",
                # `expect` is accepted for `expected` (the original's memory-waste-guardrails
                # draft writes it), but not both in one case.
                "required": ["name", "input"],
                "if": {"required": ["expect"]},
                "then": {"not": {"required": ["expected"]}},
                "else": {"required": ["expected"]},
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "input": {"type": "object"},
                    "measurements": {"type": "object"},
                    "expect": {"$ref": "#/$defs/expected"},
                    "expected": {"$ref": "#/$defs/expected"},
                },
            },
        },
    },
    "$defs": {
        "expected": {
            "type": "object",
            "required": ["decision"],
            "properties": {
                "decision": {"enum": VERDICTS},
                "matchers": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "operator", "value"],
                        "properties": {
                            "field": {"type": "string"},
                            "operator": {"enum": ["equals", "contains", "regex", "gt", "lt"]},
                            "value": {},
                        },
                    },
                },
            },
        },
    },
}

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "paygod/v1 pack manifest",
    "type": "object",
    "properties": {
        "manifest_version": {"type": "string"},
        "pack_name": {"type": "string"},
        "produces": {"type": "array", "items": {"type": "string"}},
    },
}

PACK_VALIDATOR = jsonschema_rs.validator_for(PACK_SCHEMA)
CASES_VALIDATOR = jsonschema_rs.validator_for(CASES_SCHEMA)
MANIFEST_VALIDATOR = jsonschema_rs.validator_for(MANIFEST_SCHEMA)


def pointer(path: Any) -> str:
    """RFC 6901 pointer from a jsonschema-rs instance path."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else ""


def schema_errors(validator: Any, document: Any) -> list[tuple[str, str]]:
    """(pointer, message) for every violation, in a stable order."""
    found = [(pointer(e.instance_path), e.message) for e in validator.iter_errors(document)]
    return sorted(set(found))
