"""Conditions as Z3 formulas: what semantic lint reasons with.

Each condition of a pack becomes a formula over symbolic JSON values, one per path it
reads (`input.payment.amount_minor`, `measure.velocity_1h`). A symbolic value has a kind
(null, boolean, number, numeric string, other string, array/object) and, per kind, its
number, text or flag, so the formula follows the condition language's own rules
(`conditions.py`): numbers and numeric strings compare as doubles, other non-null values
by their text, a null side by truthiness.

The translation over-approximates. Whatever it cannot state exactly (a quantifier, a
method call, a regex, a number's JSON text, an evaluation error) becomes a fresh,
unconstrained boolean or value, so for every real input there is a model in which each
formula has the truth the engine gives it. Hence "unsatisfiable" is a proof about every
input, and "satisfiable" is only a candidate: a finding that rests on one carries a
witness that the real engine has evaluated (`witness_input`). The one gap: a numeric
string reading as NaN or infinity is treated as a finite number.

Texts are not modelled as strings: each text is a number, one per distinct string the
conditions and schemas name ("" is 0) and any other number an unnamed string. Equality
is exact that way and the solver stays in linear arithmetic; ordering of texts is left
unconstrained (a fresh boolean).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import z3
from lark import Token, Tree

from paygod.decisions.conditions import (
    EPSILON,
    ROOTS,
    EvaluationError,
    evaluate_constant,
    parse_dotnet_float,
    parse_tree,
    truthy,
)

NULL, BOOLEAN, NUMBER, NUMERIC_TEXT, TEXT, OTHER = range(6)
_FRESH_BOOLEAN_METHODS = frozenset({"startsWith", "endsWith", "contains", "matches"})


@dataclass(frozen=True)
class Sym:
    """A symbolic JSON value: its kind and, per kind, its payload (`text` is a text id)."""

    kind: z3.ArithRef
    number: z3.ArithRef
    text: z3.ArithRef
    flag: z3.BoolRef
    truth: z3.BoolRef | None = None  # known truthiness (a constant array or object)
    value: Any = None  # the JSON value itself, when `known`
    known: bool = False

    def is_(self, kind: int) -> z3.BoolRef:
        return self.kind == kind

    @property
    def numeric(self) -> z3.BoolRef:
        """`as_number` succeeds: a JSON number or a string that reads as one."""
        return z3.Or(self.is_(NUMBER), self.is_(NUMERIC_TEXT))

    @property
    def text_known(self) -> z3.BoolRef:
        """The value's text (`as_text`) is `self.text`: a string or a boolean."""
        return z3.Or(self.is_(TEXT), self.is_(BOOLEAN))


class Encoder:
    """Translates conditions into formulas sharing one set of path variables."""

    def __init__(self) -> None:
        self.paths: dict[str, Sym] = {}
        self.constraints: list[z3.BoolRef] = []
        self._fresh = 0
        self.texts: dict[str, int] = {"": 0, "true": 1, "false": 2}

    def text_id(self, text: str) -> z3.ArithRef:
        return z3.IntVal(self.texts.setdefault(text, len(self.texts)))

    def shown(self, sym: Sym) -> z3.ArithRef:
        """The text id of `as_text(value)` for a string or a boolean."""
        return z3.If(sym.is_(BOOLEAN), z3.If(sym.flag, z3.IntVal(1), z3.IntVal(2)), sym.text)

    # -- values -------------------------------------------------------------------------

    def _new(self, name: str) -> Sym:
        sym = Sym(
            z3.Int(f"{name}#kind"),
            z3.Real(f"{name}#n"),
            z3.Int(f"{name}#s"),
            z3.Bool(f"{name}#b"),
        )
        self.constraints.append(z3.And(sym.kind >= NULL, sym.kind <= OTHER))
        return sym

    def plain(self) -> list[z3.BoolRef]:
        """Preferences for a readable witness: no numeric strings, whole numbers."""
        wishes: list[z3.BoolRef] = []
        for sym in self.paths.values():
            wishes.append(z3.Not(sym.is_(NUMERIC_TEXT)))
            wishes.append(z3.Implies(sym.is_(NUMBER), z3.IsInt(sym.number)))
        return wishes

    def fresh(self) -> Sym:
        self._fresh += 1
        return self._new(f"~{self._fresh}")

    def fresh_bool(self) -> z3.BoolRef:
        self._fresh += 1
        return z3.Bool(f"~{self._fresh}")

    def path(self, text: str) -> Sym:
        sym = self.paths.get(text)
        if sym is None:
            sym = self._new(text)
            self.paths[text] = sym
            self._link_prefixes(text, sym)
        return sym

    def _link_prefixes(self, text: str, sym: Sym) -> None:
        """A present `a.b.c` needs `a.b` to be an object; a non-object `a.b` hides it."""
        for other_text, other in self.paths.items():
            if other is sym:
                continue
            if text.startswith(other_text + "."):
                parent, child = other, sym
            elif other_text.startswith(text + "."):
                parent, child = sym, other
            else:
                continue
            self.constraints.append(z3.Implies(z3.Not(child.is_(NULL)), parent.is_(OTHER)))

    def constant(self, value: Any) -> Sym:
        """A known JSON value, as literals the solver simplifies away."""
        zero, no, truth = z3.RealVal(0), z3.BoolVal(False), z3.BoolVal(truthy(value))
        if value is None:
            return Sym(z3.IntVal(NULL), zero, z3.IntVal(0), no, truth, value, True)
        if value is True or value is False:
            return Sym(z3.IntVal(BOOLEAN), zero, z3.IntVal(0), truth, truth, value, True)
        if isinstance(value, int | float):
            number = _real(value)
            if number is not None:
                return Sym(z3.IntVal(NUMBER), number, z3.IntVal(0), no, truth, value, True)
        if isinstance(value, str):
            parsed = parse_dotnet_float(value)
            if parsed is None:
                return Sym(z3.IntVal(TEXT), zero, self.text_id(value), no, truth, value, True)
            number = _real(parsed)
            if number is not None:
                kind = z3.IntVal(NUMERIC_TEXT)
                return Sym(kind, number, self.text_id(value), no, truth, value, True)
        return Sym(z3.IntVal(OTHER), zero, z3.IntVal(0), no, truth)

    def equals_constant(self, sym: Sym, value: Any) -> z3.BoolRef:
        """`json_equal(sym, value)`: same type and value (1 == 1.0, "1" != 1)."""
        if value is None:
            return sym.is_(NULL)
        if value is True or value is False:
            return z3.And(sym.is_(BOOLEAN), sym.flag == z3.BoolVal(value))
        if isinstance(value, int | float):
            number = _real(value)
            if number is None:
                return z3.BoolVal(False)
            return z3.And(sym.is_(NUMBER), sym.number == number)
        if isinstance(value, str):
            if parse_dotnet_float(value) is None:
                return z3.And(sym.is_(TEXT), sym.text == self.text_id(value))
            # A numeric-text value's own text is not modelled: equality is unknown.
            return z3.And(sym.is_(NUMERIC_TEXT), self.fresh_bool())
        return z3.And(sym.is_(OTHER), self.fresh_bool())

    def truthy(self, sym: Sym) -> z3.BoolRef:
        if sym.truth is not None:
            return sym.truth
        return z3.Or(
            z3.And(sym.is_(BOOLEAN), sym.flag),
            z3.And(sym.is_(NUMBER), sym.number != 0),
            sym.is_(NUMERIC_TEXT),
            z3.And(sym.is_(TEXT), sym.text != 0),
            z3.And(sym.is_(OTHER), self.fresh_bool()),
        )

    # -- the tree ---------------------------------------------------------------------

    def condition(self, source: str) -> z3.BoolRef:
        return _Translation(self, source).formula(parse_tree(source))


class _Translation:
    def __init__(self, encoder: Encoder, source: str) -> None:
        self.e = encoder
        self.source = source

    def formula(self, node: Tree[Token] | Token) -> z3.BoolRef:
        """The condition's truth at `node` (what `truthy` of its value would say)."""
        if not isinstance(node, Tree):
            return self.e.fresh_bool()
        data = str(node.data)
        if _reads_nothing(node):
            try:
                return z3.BoolVal(truthy(evaluate_constant(self.source, node)))
            except (EvaluationError, RecursionError):
                return self.e.fresh_bool()  # an error stops the pack: either branch
        if data == "or_expr":
            return z3.Or(*[self.formula(c) for c in node.children])
        if data == "and_expr":
            return z3.And(*[self.formula(c) for c in node.children])
        if data == "not_":
            return z3.Not(self.formula(node.children[0]))
        if data == "compare":
            left, op, right = node.children
            return self.compare(str(op), self.term(left), self.term(right))
        if data == "in_":
            return self.contains(node.children[1], self.term(node.children[0]))
        if data == "not_in":
            return z3.Not(self.contains(node.children[1], self.term(node.children[0])))
        if data in {"quantifier", "method"}:
            return self.e.fresh_bool()
        return self.e.truthy(self.term(node))

    def term(self, node: Tree[Token] | Token) -> Sym:
        """The symbolic value at `node`."""
        if not isinstance(node, Tree):
            return self.e.fresh()
        data = str(node.data)
        if _reads_nothing(node):
            try:
                return self.e.constant(evaluate_constant(self.source, node))
            except (EvaluationError, RecursionError):
                return self.e.fresh()
        if data in {"var", "attr"}:
            path = _path(node)
            if path is None or path == "input" or path == "measure":
                return self.e.fresh()
            if path.split(".", 1)[0] not in ROOTS:
                return self.e.constant(None)  # an unknown name reads as null
            return self.e.path(path)
        if data in {"or_expr", "and_expr", "not_", "compare", "in_", "not_in", "quantifier"}:
            return self._boolean(self.formula(node))
        if data == "method" and str(node.children[1]) in _FRESH_BOOLEAN_METHODS:
            return self._boolean(self.e.fresh_bool())
        if data == "arith":
            left, op, right = node.children
            return self.arith(str(op), self.term(left), self.term(right))
        if data == "neg":
            return self.arith("-", self.e.constant(0), self.term(node.children[0]), negate=True)
        return self.e.fresh()  # index, count, a list with paths: not modelled

    def _boolean(self, truth: z3.BoolRef) -> Sym:
        sym = self.e.fresh()
        self.e.constraints.append(z3.And(sym.is_(BOOLEAN), sym.flag == truth))
        return sym

    def arith(self, op: str, left: Sym, right: Sym, *, negate: bool = False) -> Sym:
        """`_arith`: null in, null out; two JSON numbers; anything else is not modelled."""
        out = self.e.fresh()
        missing = right.is_(NULL) if negate else z3.Or(left.is_(NULL), right.is_(NULL))
        numbers = z3.And(left.is_(NUMBER), right.is_(NUMBER))
        if op == "+":
            value = left.number + right.number
        elif op == "-":
            value = left.number - right.number
        elif op == "*":
            value = left.number * right.number
        else:
            numbers = z3.And(numbers, right.number != 0)
            value = left.number / right.number
        self.e.constraints.append(z3.Implies(missing, out.is_(NULL)))
        self.e.constraints.append(
            z3.Implies(
                z3.And(z3.Not(missing), numbers), z3.And(out.is_(NUMBER), out.number == value)
            )
        )
        return out

    def compare(self, op: str, left: Sym, right: Sym) -> z3.BoolRef:
        """`_compare`: numbers as doubles, a null side by truthiness, else by text."""
        if right.known:
            return self._compare_known(op, left, right)
        if left.known:
            return self._compare_known(_MIRRORED[op], right, left)
        numeric = _numeric(op, left.number, right.number)
        lt, rt = self.e.truthy(left), self.e.truthy(right)
        by_truth = {"==": lt == rt, "!=": lt != rt}.get(op, z3.BoolVal(False))
        # Both non-null, not both numeric: by text. A number's text always reads as a
        # number and no other kind's does, so only two strings/booleans can be equal.
        same = z3.If(
            z3.And(left.text_known, right.text_known),
            self.e.shown(left) == self.e.shown(right),
            z3.If(
                z3.And(left.is_(OTHER), right.is_(OTHER)), self.e.fresh_bool(), z3.BoolVal(False)
            ),
        )
        textual = {"==": same, "!=": z3.Not(same)}.get(op)
        if textual is not None:
            return z3.If(
                z3.And(left.numeric, right.numeric),
                numeric,
                z3.If(z3.Or(left.is_(NULL), right.is_(NULL)), by_truth, textual),
            )
        return z3.If(
            z3.And(left.numeric, right.numeric),
            numeric,
            z3.If(
                z3.Or(left.is_(NULL), right.is_(NULL)),
                by_truth,
                self.e.fresh_bool(),  # the order of two texts is not modelled
            ),
        )

    def _compare_known(self, op: str, left: Sym, right: Sym) -> z3.BoolRef:
        """The common case, a path against a literal: the literal's kind is known, so most
        branches of `compare` fall away before the solver sees them."""
        value = right.value
        equality = op in ("==", "!=")
        if value is None:  # the null branch only: truthiness
            return {"==": z3.Not(self.e.truthy(left)), "!=": self.e.truthy(left)}.get(
                op, z3.BoolVal(False)
            )
        null_case = z3.BoolVal((op == "!=") == truthy(value)) if equality else z3.BoolVal(False)
        reads_as_number = not isinstance(value, bool) and (
            isinstance(value, int | float)
            or (isinstance(value, str) and parse_dotnet_float(value) is not None)
        )
        if reads_as_number:
            # A number, or text that reads as one: numeric against a numeric value; by
            # text otherwise, where no text equals a number's text.
            textual = z3.BoolVal(op == "!=") if equality else self.e.fresh_bool()
            return z3.If(
                left.numeric,
                _numeric(op, left.number, right.number),
                z3.If(left.is_(NULL), null_case, textual),
            )
        if isinstance(value, str | bool):
            if not equality:
                return z3.If(left.is_(NULL), null_case, self.e.fresh_bool())
            same = z3.If(
                left.text_known,
                self.e.shown(left) == self.e.shown(right),
                z3.If(left.is_(OTHER), self.e.fresh_bool(), z3.BoolVal(False)),
            )
            return z3.If(left.is_(NULL), null_case, same if op == "==" else z3.Not(same))
        return z3.If(left.is_(NULL), null_case, self.e.fresh_bool())

    def contains(self, haystack_node: Tree[Token] | Token, needle: Sym) -> z3.BoolRef:
        """`_contains` for a constant list or string; anything else is not modelled."""
        if isinstance(haystack_node, Tree) and _reads_nothing(haystack_node):
            try:
                haystack = evaluate_constant(self.source, haystack_node)
            except (EvaluationError, RecursionError):
                return self.e.fresh_bool()
            if isinstance(haystack, list):
                return z3.Or(
                    z3.BoolVal(False), *[self.e.equals_constant(needle, item) for item in haystack]
                )
            if isinstance(haystack, str | dict):  # a substring, a key: only a string can be
                return z3.And(
                    z3.Or(needle.is_(TEXT), needle.is_(NUMERIC_TEXT)), self.e.fresh_bool()
                )
            return z3.BoolVal(False)
        return self.e.fresh_bool()


_MIRRORED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _numeric(op: str, a: z3.ArithRef, b: z3.ArithRef) -> z3.BoolRef:
    """`_numeric`: doubles, with `==` meaning closer than EPSILON."""
    if op == "==":
        return z3.And(a - b < EPSILON, a - b > -EPSILON)
    if op == "!=":
        return z3.Or(a - b >= EPSILON, a - b <= -EPSILON)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _reads_nothing(node: Tree[Token]) -> bool:
    return not any(isinstance(t, Tree) and t.data == "var" for t in node.iter_subtrees())


def _path(node: Tree[Token]) -> str | None:
    if node.data == "var":
        return str(node.children[0])
    if node.data == "attr" and isinstance(node.children[0], Tree):
        inner = _path(node.children[0])
        return None if inner is None else f"{inner}.{node.children[1]}"
    return None


def _real(value: float) -> z3.RatNumRef | None:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return z3.RealVal(Fraction(value))


# -- witnesses -------------------------------------------------------------------------


def witness_input(encoder: Encoder, model: z3.ModelRef) -> dict[str, Any]:
    """The `{input, measure}` documents a model describes (absent paths left out)."""
    doc: dict[str, Any] = {"input": {}, "measure": {}}
    for text in sorted(encoder.paths, key=lambda t: t.count(".")):
        sym = encoder.paths[text]
        value = _model_value(model, sym, encoder.texts)
        if value is _ABSENT:
            continue
        root, *keys = text.split(".")
        node: Any = doc[root]
        for key in keys[:-1]:
            if not isinstance(node, dict):
                break
            node = node.setdefault(key, {})
        if isinstance(node, dict) and keys and keys[-1] not in node:
            node[keys[-1]] = value
    return doc


_ABSENT = object()


def _model_value(model: z3.ModelRef, sym: Sym, texts: Mapping[str, int]) -> Any:
    kind = model.eval(sym.kind, model_completion=True).as_long()
    if kind == NULL:
        return _ABSENT
    if kind == BOOLEAN:
        return z3.is_true(model.eval(sym.flag, model_completion=True))
    if kind in (NUMBER, NUMERIC_TEXT):
        fraction = model.eval(sym.number, model_completion=True).as_fraction()
        number: int | float = int(fraction) if fraction.denominator == 1 else float(fraction)
        return number if kind == NUMBER else str(number)
    if kind == TEXT:
        wanted = model.eval(sym.text, model_completion=True).as_long()
        for text, number in texts.items():
            if number == wanted:
                return text
        return f"text-{wanted}"  # an unnamed string: any that no condition names
    return {}


def env_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"input": doc.get("input", {}), "measure": dict(doc.get("measure", {}))}


# -- what the packs' input schemas guarantee ---------------------------------------------

_SCHEMA_KINDS = {
    "integer": (NUMBER,),
    "number": (NUMBER,),
    "string": (TEXT, NUMERIC_TEXT),
    "boolean": (BOOLEAN,),
    "object": (OTHER,),
    "array": (OTHER,),
    "null": (),
}


def schema_assumptions(
    encoder: Encoder, schemas: Mapping[str, tuple[Mapping[str, Any] | None, bool]]
) -> list[z3.BoolRef]:
    """What every evaluated input satisfies: the service validates each named input
    against its pack's schema before any rule runs (`validate_input`), so a declared
    type, enum or bound narrows the paths under `input.<name>`. `schemas` maps an input
    name to (its schema, whether it is required)."""
    facts: list[z3.BoolRef] = []
    for text, sym in encoder.paths.items():
        root, *keys = text.split(".")
        if root != "input" or not keys or keys[0] not in schemas:
            continue
        node, present = schemas[keys[0]]
        for key in keys[1:]:
            if not isinstance(node, Mapping):
                node = None
                break
            props = node.get("properties")
            required = node.get("required")
            present = present and isinstance(required, list) and key in required
            node = props.get(key) if isinstance(props, Mapping) else None
        if not isinstance(node, Mapping):
            continue
        facts.extend(_node_facts(encoder, sym, node))
        if present:
            facts.append(z3.Not(sym.is_(NULL)))
    return facts


def _node_facts(encoder: Encoder, sym: Sym, node: Mapping[str, Any]) -> list[z3.BoolRef]:
    facts: list[z3.BoolRef] = []
    declared = node.get("type")
    names = [declared] if isinstance(declared, str) else declared
    if isinstance(names, list) and all(n in _SCHEMA_KINDS for n in names):
        allowed = [sym.is_(NULL)] + [sym.is_(k) for n in names for k in _SCHEMA_KINDS[n]]
        facts.append(z3.Or(*allowed))
        if names == ["integer"]:
            facts.append(z3.Implies(sym.is_(NUMBER), z3.IsInt(sym.number)))
    choices = node.get("enum", [node["const"]] if "const" in node else None)
    if isinstance(choices, list):
        facts.append(z3.Or(sym.is_(NULL), *[encoder.equals_constant(sym, c) for c in choices]))
    for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = node.get(keyword)
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            continue
        real = _real(bound)
        if real is None:
            continue
        n = sym.number
        holds = {
            "minimum": n >= real,
            "maximum": n <= real,
            "exclusiveMinimum": n > real,
            "exclusiveMaximum": n < real,
        }[keyword]
        facts.append(z3.Implies(sym.is_(NUMBER), holds))
    return facts
