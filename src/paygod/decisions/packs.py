"""Loading paygod/v1 packs: YAML with line numbers, schema validation, compilation, reload.

Errors name the file, the line (from the YAML node marks) and the JSON pointer of the
offending value, e.g. `pack.yaml:17: /spec/policy/rules/3/condition: column 12: ...`.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import jsonschema_rs
import yaml

from paygod.decisions.bundles import Keyring, bundled_pack_dirs, verify_platform_bundle
from paygod.decisions.conditions import ConditionSyntaxError, compile_condition
from paygod.decisions.control_catalog import unknown_control_message
from paygod.decisions.errors import DecisionCode
from paygod.decisions.model import Pack, PackInput, Rule, Verdict
from paygod.decisions.pack_measures import compile_measures, plugin_loader
from paygod.decisions.schemas import (
    CASES_VALIDATOR,
    MANIFEST_VALIDATOR,
    PACK_VALIDATOR,
    pointer,
    schema_errors,
)
from paygod.decisions.sources import SourcePoller
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.jsonio import parse_json

DEFAULT_PACKS_DIR = Path(__file__).parent / "default_packs"
PACK_FILE = "pack.yaml"
CASES_FILE = Path("tests") / "cases.yaml"
MANIFEST_FILE = "manifest.json"


class PackInvalid(InvalidInput):
    """A pack, its tests or its manifest is malformed; the pack is refused."""

    code: ClassVar[StrEnum] = DecisionCode.PACK_INVALID
    title = "Invalid pack"


# libyaml's scanner (PyYAML's C loader, bundled in its wheels) reads a tab as YAML 1.2
# separation white space: `key:\tvalue`, a tab before `# comment` or at the end of a
# line. PyYAML's pure-Python scanner refuses every tab outside quotes ("found character
# '\t' that cannot start any token"), so packs written in editors that leave tabs there
# would not load; ruamel.yaml (0.19) refuses them the same way. Without libyaml that
# silent difference would come back, so its absence is an error, not a fallback.
if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - the wheels bundle it
    raise ImportError("PyYAML was built without libyaml; pack YAML needs its C loader")


class _JsonSafeLoader(yaml.CSafeLoader):
    """libyaml's safe loader reading plain scalars as YAML 1.2 (core schema) does, the way
    JSON would.

    PyYAML implements YAML 1.1, whose implicit types surprise pack authors: `NO` (Norway)
    and `yes`/`on`/`off` become booleans, `12:30` the integer 750, `010` the integer 8,
    `1_000` the integer 1000, `2026-01-28` a date, while `1e3` stays a string. Packs and
    their cases are written for the paygod/v1 format, not for YAML 1.1, so only the YAML
    1.2 core forms are resolved: true/false, null/~, decimal, 0o octal and 0x hex
    integers, and floats with an optional exponent. `.inf`/`.nan` stay strings: they are
    not JSON values and could not be hashed or recorded.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # YAML requires unique keys but PyYAML keeps the last one silently: a rule with
        # two `condition:` keys would be read one way by its reviewer, another by us.
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` keys may be overridden by the mapping's own
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml12_int(loader: yaml.CSafeLoader, node: yaml.Node) -> int:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


_YAML12_RESOLVERS: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$",
        "-+.0123456789",
    ),
]


def _install_yaml12_resolvers() -> None:
    import re

    resolvers: dict[Any, list[tuple[str, Any]]] = {}
    for key, entries in yaml.CSafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if not tag.startswith("tag:yaml.org,2002:")]
        kept += [(t, rx) for t, rx in entries if t == "tag:yaml.org,2002:merge"]
        kept += [(t, rx) for t, rx in entries if t == "tag:yaml.org,2002:value"]
        if kept:
            resolvers[key] = kept
    _JsonSafeLoader.yaml_implicit_resolvers = resolvers
    for tag, pattern, first in _YAML12_RESOLVERS:
        # add_implicit_resolver appends, so the int rule is tried before the float rule;
        # "" is the key PyYAML looks up for an empty scalar (`key:` is null).
        starts = [*first, ""] if tag.endswith(":null") else list(first)
        _JsonSafeLoader.add_implicit_resolver(tag, re.compile(pattern), starts)
    _JsonSafeLoader.add_constructor("tag:yaml.org,2002:int", _yaml12_int)


_install_yaml12_resolvers()


@dataclass(frozen=True)
class YamlDocument:
    path: Path
    data: Any
    node: yaml.Node | None

    def node_at(self, json_pointer: str) -> yaml.Node | None:
        """The YAML node of the value at `json_pointer`, or of its nearest existing parent."""
        node = self.node
        if node is None:
            return None
        for raw in [p for p in json_pointer.split("/")[1:]]:
            part = raw.replace("~1", "/").replace("~0", "~")
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == part:
                        child = value
                        break
            elif isinstance(node, yaml.SequenceNode) and part.isdigit():
                index = int(part)
                if index < len(node.value):
                    child = node.value[index]
            if child is None:
                break
            node = child
        return node

    def line(self, json_pointer: str) -> int | None:
        """1-based line of the value at `json_pointer`, or of its nearest existing parent."""
        node = self.node_at(json_pointer)
        return None if node is None else node.start_mark.line + 1

    def error(self, json_pointer: str, message: str, *, line: int | None = None) -> FieldError:
        line = line or self.line(json_pointer)
        where = f"{self.path.name}:{line}" if line else self.path.name
        return FieldError(json_pointer, f"{where}: {message}")

    def condition_error(self, json_pointer: str, exc: ConditionSyntaxError) -> FieldError:
        """A condition's syntax error, on the file line of the offending text when known.

        A `|` block keeps the condition's lines as they are in the file, one below the
        indicator, so the error names that exact line; other styles (plain, quoted, `>`
        folded) name the line where the condition starts. The column always counts
        within the condition's text.
        """
        node = self.node_at(json_pointer)
        line: int | None = None
        if isinstance(node, yaml.ScalarNode) and node.style == "|":
            line = node.start_mark.line + 1 + exc.line
        return self.error(json_pointer, f"{exc.position}: {exc.message}", line=line)


def read_yaml(path: Path) -> YamlDocument:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PackInvalid(
            f"cannot read {path}: {exc.strerror or exc}",
            errors=[FieldError("", f"{path.name}: cannot read")],
        ) from None
    return parse_yaml(raw, path)


TAB_INDENT = "a tab cannot indent YAML: indent with spaces (a tab may only separate values)"


def _yaml_problem(text: str, exc: yaml.YAMLError) -> tuple[str, str]:
    """(":LINE: column COL", problem) of a YAML syntax error, both 1-based.

    libyaml reports a tab used as indentation as "found character that cannot start any
    token" (or "... violates indentation"): the character at the mark says which it is.
    """
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return "", problem
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if line[mark.column : mark.column + 1] == "\t" or "tab character" in problem:
        problem = TAB_INDENT
    return f":{mark.line + 1}: column {mark.column + 1}", problem


# Bounds on what one pack file may make the loader build. YAML aliases share one node, so
# a few hundred bytes can name billions of values ("billion laughs": 477 bytes grew to
# 2.7 GB in validation); the expanded size is counted on the node graph, before anything
# is constructed. Anchors and merge keys within these bounds stay usable (packs use
# `<<: *deny` for shared rule fields). The largest real pack is a few KB and under 10
# levels deep.
MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 64


def _expanded_size(root: yaml.Node, path: Path) -> None:
    """Refuse a node graph whose expansion (every alias followed) exceeds the bounds, or
    that refers to itself, without expanding it: each node's size is computed once."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    open_nodes: set[int] = set()

    def refuse(node: yaml.Node, problem: str) -> PackInvalid:
        where = f":{node.start_mark.line + 1}: column {node.start_mark.column + 1}"
        return PackInvalid(f"{path}{where}: {problem}", errors=[FieldError("", problem)])

    # Iterative post-order walk: a pack nested 10,000 levels deep must not exhaust the
    # Python stack before it is refused.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
            if sizes[key] > MAX_YAML_NODES:
                raise refuse(node, f"expands to more than {MAX_YAML_NODES} values (aliases)")
            if depths[key] > MAX_YAML_DEPTH:
                raise refuse(node, f"nests deeper than {MAX_YAML_DEPTH} levels")
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise refuse(node, "an alias refers to the node that contains it")
        if len(open_nodes) >= MAX_YAML_DEPTH:
            raise refuse(node, f"nests deeper than {MAX_YAML_DEPTH} levels")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _nesting_depth(text: str, path: Path) -> None:
    """Refuse a document nested deeper than the bound from libyaml's event stream, which
    is flat: composing the node tree recurses in C, and 100,000 `[` crash the process."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                mark = event.start_mark
                where = f":{mark.line + 1}: column {mark.column + 1}" if mark else ""
                problem = f"nests deeper than {MAX_YAML_DEPTH} levels"
                raise PackInvalid(f"{path}{where}: {problem}", errors=[FieldError("", problem)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_yaml(raw: bytes, path: Path) -> YamlDocument:
    if len(raw) > MAX_YAML_BYTES:
        problem = f"{len(raw)} bytes, more than the {MAX_YAML_BYTES} a pack file may hold"
        raise PackInvalid(f"{path}: {problem}", errors=[FieldError("", problem)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PackInvalid(
            f"{path} is not UTF-8", errors=[FieldError("", f"{path.name}: not UTF-8")]
        ) from None
    loader = _JsonSafeLoader(text)
    try:
        _nesting_depth(text, path)
        # One parse: the node tree keeps the marks for error lines, the data is built
        # from the same tree.
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        where, problem = _yaml_problem(text, exc)
        raise PackInvalid(
            f"{path} is not valid YAML{where}: {problem}",
            errors=[FieldError("", f"{path.name}{where}: {problem}")],
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(path, data, node)


def pack_digest(source: bytes) -> str:
    """The pack digest: lowercase hex sha256 of the exact bytes of pack.yaml."""
    return hashlib.sha256(source).hexdigest()


def _fail(doc: YamlDocument, errors: list[FieldError]) -> PackInvalid:
    first = errors[0]
    return PackInvalid(
        f"{doc.path} is invalid at {first.pointer or '/'}: {first.message}", errors=errors
    )


# The members every paygod/v1 pack has, parents first (pack.schema.json's `required`).
REQUIRED_MEMBERS = (
    "/api_version",
    "/kind",
    "/metadata",
    "/spec",
    "/spec/policy",
    "/spec/policy/rules",
)


def first_missing_member(data: Mapping[str, Any]) -> str | None:
    """The JSON pointer of the first required paygod/v1 member `data` lacks, or None."""
    for member in REQUIRED_MEMBERS:
        node: Any = data
        for part in member.split("/")[1:]:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            return member
    return None


def _unknown_controls(
    doc: YamlDocument, base: str, refs: Iterable[str], where: str
) -> list[FieldError]:
    """Each control a pack names must be in Paygod's catalog: a typo would otherwise
    claim evidence for a control nobody can look up."""
    found = []
    for index, ref in enumerate(refs):
        problem = unknown_control_message(ref)
        if problem is not None:
            found.append(doc.error(f"{base}/{index}", f"{where}: {problem}"))
    return found


def compile_pack(
    source: bytes,
    path: Path,
    *,
    manifest: Mapping[str, Any] | None = None,
) -> Pack:
    """Validate and compile the bytes of a pack.yaml (the loader and replay both use this)."""
    doc = parse_yaml(source, path)
    if not isinstance(doc.data, dict):
        raise _fail(doc, [doc.error("", "a pack must be a YAML mapping")])
    missing = first_missing_member(doc.data)
    if missing is not None:
        # Another format (the pre-paygod/v1 drafts: pack_id, version, modules, tests) would
        # load as a pack without rules and fail every case and decision: refused instead.
        problem = f"{missing} is missing"
        raise PackInvalid(
            f"{path} is not a paygod/v1 pack: {problem}", errors=[FieldError(missing, problem)]
        )
    errors = [doc.error(ptr, msg) for ptr, msg in schema_errors(PACK_VALIDATOR, doc.data)]
    if errors:
        raise _fail(doc, errors)
    data: dict[str, Any] = doc.data
    pack_controls = tuple(data["metadata"].get("controls") or ())
    errors.extend(
        _unknown_controls(
            doc, "/metadata/controls", pack_controls, f"pack {data['metadata']['name']!r}"
        )
    )
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, raw_rule in enumerate(data["spec"]["policy"]["rules"]):
        base = f"/spec/policy/rules/{index}"
        name = raw_rule["name"]
        if name in seen:
            errors.append(
                doc.error(f"{base}/name", f"duplicate rule name {name!r} (first at {seen[name]})")
            )
        seen.setdefault(name, index)
        try:
            condition = compile_condition(raw_rule["condition"])
        except ConditionSyntaxError as exc:
            errors.append(doc.condition_error(f"{base}/condition", exc))
            continue
        rule_controls = tuple(raw_rule.get("controls") or ())
        errors.extend(_unknown_controls(doc, f"{base}/controls", rule_controls, f"rule {name!r}"))
        rules.append(
            Rule(
                index,
                name,
                condition,
                Verdict(raw_rule["decision"]),
                raw_rule["reason"],
                raw_rule.get("action"),
                tuple(dict.fromkeys((*pack_controls, *rule_controls))),
            )
        )
    inputs: list[PackInput] = []
    validators: dict[str, Any] = {}
    input_names: set[str] = set()
    for index, raw_input in enumerate(data["spec"].get("inputs") or []):
        name = raw_input.get("name")
        if name is None:
            continue  # descriptive only: nothing to key the request's input by
        if name in input_names:
            errors.append(doc.error(f"/spec/inputs/{index}/name", f"duplicate input {name!r}"))
        input_names.add(name)
        schema = raw_input.get("schema")
        if schema is not None:
            try:
                validators[name] = jsonschema_rs.validator_for(schema)
            except (jsonschema_rs.ValidationError, ValueError) as exc:
                errors.append(
                    doc.error(f"/spec/inputs/{index}/schema", f"not a valid JSON Schema: {exc}")
                )
        inputs.append(
            PackInput(
                name,
                raw_input.get("type"),
                raw_input.get("source"),
                schema,
                bool(raw_input.get("required", False)),
            )
        )
    measures, measure_errors = compile_measures(
        data["spec"].get("measurements") or [], plugin_loader(path.parent)
    )
    errors += [doc.error(e.pointer, e.message) for e in measure_errors]
    if errors:
        raise _fail(doc, errors)
    metadata = data["metadata"]
    return Pack(
        name=metadata["name"],
        version=metadata["version"],
        description=metadata.get("description", ""),
        digest=pack_digest(source),
        source=source,
        inputs=tuple(inputs),
        rules=tuple(rules),
        path=path.parent,
        document=data,
        manifest=manifest,
        validators=validators,
        measures=measures,
    )


def load_pack(directory: Path) -> Pack:
    """Load `DIR/pack.yaml` (+ optional manifest.json); raise `PackInvalid` precisely."""
    pack_file = directory / PACK_FILE
    if not pack_file.is_file():
        raise PackInvalid(
            f"{directory} is not a pack: {PACK_FILE} not found",
            errors=[FieldError("", f"{PACK_FILE} not found in {directory}")],
        )
    manifest = load_manifest(directory)
    try:
        source = pack_file.read_bytes()
    except OSError as exc:
        raise PackInvalid(f"cannot read {pack_file}: {exc.strerror or exc}") from None
    # A manifest whose pack_name differs from metadata.name is reported by lint, not
    # refused: the original kernel never reads manifest.json to decide, and its own
    # iso27001-policy-review pack ships pack_name 'iso27001-policy-review' for
    # metadata.name 'iso27001-policy-review-a5-1'.
    return compile_pack(source, pack_file, manifest=manifest)


def load_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        return None
    raw = path.read_bytes()
    # RFC 8259 §8.1 lets a parser ignore a byte order mark; Windows tools write one
    # (the reference manifests were written by PowerShell) and the manifest is never
    # hashed, so it is dropped here rather than refused.
    value = parse_json(raw.removeprefix(b"\xef\xbb\xbf"), source=str(path))
    problems = schema_errors(MANIFEST_VALIDATOR, value)
    if problems:
        ptr, msg = problems[0]
        raise PackInvalid(
            f"{path} is invalid: {ptr}: {msg}",
            errors=[FieldError(p, f"{MANIFEST_FILE}: {m}") for p, m in problems],
        )
    result: dict[str, Any] = value
    return result


@dataclass(frozen=True)
class TestCase:
    name: str
    input: Mapping[str, Any]
    expected: str
    matchers: tuple[Mapping[str, Any], ...]
    measurements: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


def load_cases(directory: Path) -> list[TestCase]:
    """`DIR/tests/cases.yaml`, validated; raise `PackInvalid` with file, line and pointer."""
    path = directory / CASES_FILE
    if not path.is_file():
        raise PackInvalid(
            f"{directory} has no test cases: {CASES_FILE} not found",
            errors=[FieldError("", f"{CASES_FILE} not found")],
        )
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise _fail(doc, [doc.error("", "test cases must be a YAML mapping")])
    errors = [doc.error(ptr, msg) for ptr, msg in schema_errors(CASES_VALIDATOR, doc.data)]
    if errors:
        raise _fail(doc, errors)
    cases: list[TestCase] = []
    for case in doc.data["cases"]:
        # `expect` is read as `expected` (the original's own memory-waste-guardrails
        # draft spells it so); the schema refuses a case that has both.
        expected = case["expected"] if "expected" in case else case["expect"]
        cases.append(
            TestCase(
                name=case["name"],
                input=case["input"],
                expected=expected["decision"],
                matchers=tuple(expected.get("matchers") or ()),
                measurements=case.get("measurements") or {},
                description=case.get("description", ""),
            )
        )
    return cases


def _without_nulls(value: Any) -> Any:
    """`value` with every null-valued object member removed, at any depth (array
    elements are kept, null or not: only object members can be absent)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def validate_input(pack: Pack, document: Any) -> list[FieldError]:
    """The input object is keyed by input name; each named input must match its schema."""
    if not isinstance(document, dict):
        return [FieldError("", "the input must be a JSON object keyed by input name")]
    errors: list[FieldError] = []
    for declared in pack.inputs:
        if declared.name not in document:
            if declared.required:
                errors.append(FieldError(f"/{declared.name}", "required input is missing"))
            continue
        validator = pack.validators.get(declared.name)
        if validator is None:
            continue
        value = document[declared.name]
        if validator.is_valid(value):
            continue
        # In paygod/v1 a null member means the same as an absent one (a missing path
        # reads as null), so an input that fails its schema is checked again with its
        # null object members removed and accepted if that passes; evaluation still
        # sees the input as sent. `change_request_id: null` under {type: string} passes.
        if value is None:
            if declared.required:
                errors.append(FieldError(f"/{declared.name}", "required input is missing"))
            continue
        stripped = _without_nulls(value)
        for error in validator.iter_errors(stripped):
            errors.append(
                FieldError(
                    f"/{declared.name}{pointer(error.instance_path)}",
                    f"{error.message} (pack {pack.name})",
                )
            )
    return errors


# -- a directory of packs, reloaded on change ---------------------------------------


@dataclass
class _Loaded:
    pack: Pack
    stamp: tuple[tuple[str, int, int], ...]


def _stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    found: list[tuple[str, int, int]] = []
    for name in (PACK_FILE, MANIFEST_FILE):
        try:
            st = os.stat(directory / name)
        except OSError:
            continue
        found.append((name, st.st_mtime_ns, st.st_size))
    return tuple(found)


BUNDLE_KEY = "bundle"


def _tree_stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        files = sorted(p for p in directory.rglob("*") if p.is_file())
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()


class PackRepository:
    """Every pack under one directory (`PAYGOD_PACKS`), reloaded when files change.

    A changed pack that no longer validates is refused: the previous version keeps
    serving and the problem is kept in `problems` (shown by `paygod packs list`).
    Change detection is mtime/size polling, at most once per `poll_seconds`.
    """

    def __init__(
        self,
        directory: Path,
        *,
        poll_seconds: float = 1.0,
        keyring: Keyring | None = None,
        source: SourcePoller | None = None,
    ) -> None:
        self.configured = directory
        # A policy source (decisions/sources.py: Git, database) replaces the directory:
        # nothing is served until its first version checks out.
        self.source = source
        if source is not None:
            directory = directory / ".no-version-yet"
        self.directory = directory if directory.is_dir() or source else DEFAULT_PACKS_DIR
        self.bundled = self.directory == DEFAULT_PACKS_DIR
        self.poll_seconds = poll_seconds
        # With trusted keys, only a signed bundle loads (see bundles.py); without, the
        # directory is read as it is, which readiness reports as dev mode.
        self.keyring = keyring if not self.bundled else None
        self.bundle: dict[str, Any] | None = None
        self._bundle_stamp: tuple[tuple[str, int, int], ...] | None = None
        self._loaded: dict[str, _Loaded] = {}
        self._by_digest: dict[str, Pack] = {}
        self.problems: dict[str, PackInvalid] = {}
        self._lock = threading.Lock()
        self._checked = 0.0
        self.refresh(force=True)

    def trust(self) -> str:
        """Readiness: how the active packs were vetted; raises when that is a warning."""
        if self.bundled:
            return "bundled packs (shipped with Paygod)"
        if self.source is not None and self.source.problem is not None:
            served = self.source.active
            kept = f"{served.source} {served.version} stays active" if served else "none active"
            raise RuntimeError(f"{kept}; {self.source.problem}")
        if self.keyring is None:
            raise RuntimeError(
                f"unsigned packs from {self.directory} are enforced: dev mode "
                "(set PAYGOD_PACKS_TRUSTED_KEYS to load only signed bundles)"
            )
        refused = self.problems.get(BUNDLE_KEY)
        if self.bundle is None:
            raise RuntimeError(f"no signed bundle is active: {refused.detail if refused else '-'}")
        active = f"signed bundle {self.bundle['name']} {self.bundle['version']}"
        if refused is not None:
            raise RuntimeError(f"{active} stays active; the new one was refused: {refused.detail}")
        return active

    def _refresh_bundle(self) -> None:
        """Load the whole signed bundle anew when any file under it changed; a bundle that
        does not verify leaves the previous one serving and is reported."""
        assert self.keyring is not None
        stamp = _tree_stamp(self.directory)
        if stamp == self._bundle_stamp:
            return
        self._bundle_stamp = stamp
        try:
            manifest = verify_platform_bundle(self.directory, self.keyring)
            loaded = {}
            for directory in bundled_pack_dirs(self.directory, manifest):
                pack = load_pack(directory)
                loaded[str(directory)] = _Loaded(pack, _stamp(directory))
        except InvalidInput as exc:
            self.problems[BUNDLE_KEY] = (
                exc if isinstance(exc, PackInvalid) else PackInvalid(exc.detail)
            )
            return
        self.problems.pop(BUNDLE_KEY, None)
        self.bundle = {k: manifest[k] for k in ("name", "version", "created_at")}
        self._loaded = loaded
        for entry in loaded.values():
            self._by_digest[entry.pack.digest] = entry.pack

    def _pack_dirs(self) -> Iterable[Path]:
        if (self.directory / PACK_FILE).is_file():
            return [self.directory]
        try:
            return sorted(p for p in self.directory.iterdir() if (p / PACK_FILE).is_file())
        except OSError:
            return []

    def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.poll_seconds:
            return
        with self._lock:
            self._checked = now
            if self.source is not None:
                snapshot = self.source.poll()
                if snapshot is not None:  # a new version, checked whole: serve it alone
                    self.directory = snapshot.directory
                    self._bundle_stamp = None
                    self._loaded = {}
            if self.keyring is not None:
                self._refresh_bundle()
                return
            seen: set[str] = set()
            for directory in self._pack_dirs():
                key = str(directory)
                seen.add(key)
                stamp = _stamp(directory)
                current = self._loaded.get(key)
                if current is not None and current.stamp == stamp:
                    continue
                try:
                    pack = load_pack(directory)
                except InvalidInput as exc:
                    self.problems[key] = (
                        exc if isinstance(exc, PackInvalid) else PackInvalid(exc.detail)
                    )
                    continue
                self.problems.pop(key, None)
                self._loaded[key] = _Loaded(pack, stamp)
                self._by_digest[pack.digest] = pack
            for key in [k for k in self._loaded if k not in seen]:
                del self._loaded[key]

    def packs(self) -> list[Pack]:
        self.refresh()
        with self._lock:  # a concurrent refresh may be replacing entries
            loaded = [entry.pack for entry in self._loaded.values()]
        return sorted(loaded, key=lambda p: p.name)

    def get(self, name: str) -> Pack | None:
        for pack in self.packs():
            if pack.name == name:
                return pack
        return None

    def by_digest(self, digest: str) -> Pack | None:
        self.refresh()
        return self._by_digest.get(digest)

    def remember(self, pack: Pack) -> None:
        self._by_digest[pack.digest] = pack
