"""The paygod/v1 condition language: a lark grammar, compiled to Python closures.

A condition is parsed once (when its pack loads) and compiled into a tree of small
closures over an environment dict (`input`, `measure` and lambda variables). Nothing
is ever passed to `eval`/`exec`. Semantics follow the original paygod/v1 kernel
(PolicyExpression.cs) where it defines them; docs/packs.md lists every rule.
"""

from __future__ import annotations

import json
import operator
import os
import re
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2  # type: ignore[import-untyped]
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # refusals are reported to the pack author, not to stderr

Env = dict[str, Any]
Compiled = Callable[[Env], Any]

ROOTS = frozenset({"input", "measure"})
MAX_PATTERN_CHARS = 256
MAX_MATCH_SUBJECT_CHARS = 4096
# Every evaluation of a pack has a budget: quantifier iterations (`x.any(...)` nested over
# large arrays multiply; each call is charged its array's length, an upper bound of the
# iterations it runs) and wall time, read once the charge passes `_BUDGET_STRIDE`, so the
# small evaluations of real packs never read the clock. An evaluation over budget fails
# closed (engine: verdict error, reason `evaluation_budget_exceeded`) instead of holding
# a worker for seconds. 100k iterations take about 20 ms here.
MAX_EVALUATION_STEPS = 100 * 1024
MAX_EVALUATION_SECONDS = 0.25
_BUDGET_STRIDE = 1024
# Keys in the evaluation environment no condition can name (names are identifiers).
_STEPS = "\x00steps"
_DEADLINE = "\x00deadline"

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> not_
         | comparison
?comparison: sum
           | sum COMP_OP sum -> compare
           | sum _IN sum -> in_
           | sum _NOT _IN sum -> not_in
?sum: product
    | sum ADD_OP product -> arith
?product: unary
        | product MUL_OP unary -> arith
?unary: "-" unary -> neg
      | postfix
?postfix: atom
        | postfix "." NAME "(" NAME "=>" or_expr ")" -> quantifier
        | postfix "." NAME "(" [or_expr ("," or_expr)*] ")" -> method
        | postfix "." NAME -> attr
        | postfix "[" or_expr "]" -> index
?atom: NUMBER -> number
     | STRING -> string
     | _TRUE -> true
     | _FALSE -> false
     | _NULL -> null
     | NAME "(" [or_expr ("," or_expr)*] ")" -> function
     | NAME -> var
     | "[" [or_expr ("," or_expr)*] "]" -> list
     | "(" or_expr ")"

// A keyword is a whole word. As plain strings, the contextual lexer took the 'in' of
// 'input' wherever a name could not follow a name: 'NOT input.x' (an author's upper
// case 'not') parsed as 'NOT in put.x', null in null, always false, instead of failing.
// Priority 2 keeps 'not' a keyword where a name could also start.
_OR.2: /or(?!\w)/
_AND.2: /and(?!\w)/
_NOT.2: /not(?!\w)/
_IN.2: /in(?!\w)/
_TRUE.2: /true(?!\w)/
_FALSE.2: /false(?!\w)/
_NULL.2: /null(?!\w)/
COMP_OP: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/"
NAME: /[^\W\d]\w*/
NUMBER: /(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
STRING: /'[^'\\]*(\\.[^'\\]*)*'/ | /"[^"\\]*(\\.[^"\\]*)*"/

%import common.WS
%ignore WS
"""


def _lark_cache() -> str | bool:
    """Where lark keeps the built LALR tables (~0.5 s of every process start otherwise).

    Not lark's default (`cache=True`): that is a predictable file in the shared temp
    directory which lark unpickles, so another local user could plant code there. The
    cache lives in this user's own cache directory (0700) instead, or is not used.
    """
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paygod"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        if base.stat().st_uid != os.getuid() or base.stat().st_mode & 0o022:
            return False
        return str(base / "conditions.lark-cache")
    except (OSError, RuntimeError):
        return False


_PARSER = Lark(
    GRAMMAR,
    parser="lalr",
    propagate_positions=True,
    maybe_placeholders=False,
    cache=_lark_cache(),
)


# Compiled nodes known to return a bool: `and`/`or` and the engine skip `truthy()` on them.
_BOOLEAN: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def _boolean(fn: Compiled) -> Compiled:
    _BOOLEAN.add(fn)
    return fn


def as_bool(fn: Compiled) -> Callable[[Env], bool]:
    """`fn` when it already returns a bool, else `fn` wrapped in truthiness."""
    if fn in _BOOLEAN:
        return fn

    def truth(env: Env) -> bool:
        return truthy(fn(env))

    return truth


class ConditionSyntaxError(ValueError):
    """A condition that does not parse or names something unknown.

    `line` and `column` are 1-based and count within the condition's text; `line` is
    above 1 only for a condition written over several lines (a YAML `|` block).
    """

    def __init__(self, message: str, column: int, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.line = line

    @property
    def position(self) -> str:
        """`column 12`, or `line 2, column 12` for a condition of several lines."""
        return (
            f"line {self.line}, column {self.column}" if self.line > 1 else f"column {self.column}"
        )


class EvaluationError(Exception):
    """A condition that parsed but cannot be evaluated on this input (division by zero...)."""


class EvaluationBudgetExceeded(EvaluationError):
    """The evaluation used more quantifier iterations or time than one evaluation may."""


def _check_budget(env: Env, steps: int) -> None:
    if steps > MAX_EVALUATION_STEPS:
        raise EvaluationBudgetExceeded(
            f"more than {MAX_EVALUATION_STEPS} quantifier iterations in one evaluation"
        )
    now = time.monotonic()
    # The clock starts at the first stride, so conditions that never reach one (nearly
    # all) pay no clock read at all.
    deadline = env.setdefault(_DEADLINE, now + MAX_EVALUATION_SECONDS)
    if now > deadline:
        raise EvaluationBudgetExceeded(
            f"more than {MAX_EVALUATION_SECONDS * 1000:.0f} ms of quantifier iterations"
        )


@dataclass(frozen=True)
class Condition:
    """A compiled condition: `test(env)` is its truth; `paths` are the values it reads."""

    source: str
    fn: Compiled
    paths: tuple[tuple[str, Compiled], ...] = field(default=())
    constant: bool | None = None  # True/False when the condition never depends on input
    # The condition's truth without a `truthy()` layer when it already returns a bool.
    check: Callable[[Env], bool] = field(default=None)  # type: ignore[assignment]
    # Names that are not `input`, `measure` or a variable in scope (they read as null).
    unknown_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.check is None:
            object.__setattr__(self, "check", as_bool(self.fn))

    def test(self, env: Env) -> bool:
        return self.check(env)

    def values_read(self, env: Env) -> dict[str, Any]:
        return {text: getter(env) for text, getter in self.paths}


# -- value semantics -------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """null, false, 0, "", [] and {} are false; everything else is true."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def is_number(value: Any) -> bool:
    # bool is an int in Python but never a number in JSON.
    return (type(value) is int or type(value) is float) and value is not True


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: 1 == 1.0, but true != 1 and "1" != 1."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


# -- comparisons: the original kernel's CompareExpr (PolicyExpression.cs) ------------
#
# 1. Both sides read as numbers -> numeric. A side reads as a number when it is a JSON
#    number or a string that .NET `double.TryParse(s, NumberStyles.Float,
#    CultureInfo.InvariantCulture)` accepts ("30", " 2.5 ", "1e3", "-4", ".5", "5.").
#    Both are taken as doubles; `==` is |a - b| < 1e-9 and `!=` is |a - b| >= 1e-9.
# 2. Else, both sides non-null -> their string forms compared ordinally (by code point):
#    a string as itself, a boolean as "true"/"false", a number as its JSON text, an array
#    or object as its compact JSON text (keys in document order).
# 3. Else (a null side: a missing path or `null`) -> `==`/`!=` compare truthiness and every
#    ordering is false.

EPSILON = 1e-9

# NumberStyles.Float: leading/trailing white (U+0009..U+000D, U+0020), a leading sign,
# a decimal point and an exponent; ASCII digits only; no thousands separators, no hex.
_DOTNET_WHITE = "\t\n\v\f\r "
_DOTNET_FLOAT = re.compile(
    r"[\t\n\v\f\r ]*(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[+-]?[Ii][Nn][Ff][Ii][Nn][Ii][Tt][Yy]|[+-]?[Nn][Aa][Nn])[\t\n\v\f\r ]*"
)


def parse_dotnet_float(text: str) -> float | None:
    """`text` as .NET double.TryParse(NumberStyles.Float, InvariantCulture) reads it."""
    if _DOTNET_FLOAT.fullmatch(text) is None:
        return None
    return float(text.strip(_DOTNET_WHITE))


def _to_double(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def as_number(value: Any) -> float | None:
    """The original's `AsNumber`: a JSON number, or a string that parses as one."""
    t = type(value)
    if t is float:
        return value  # type: ignore[no-any-return]
    if t is int:
        return _to_double(value)
    if t is str:
        return parse_dotnet_float(value)
    return None


def as_text(value: Any) -> str:
    """The original's `AsString` of a non-null value."""
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _ordered(op: str, cmp: int) -> bool:
    if op == "==":
        return cmp == 0
    if op == "!=":
        return cmp != 0
    if op == "<":
        return cmp < 0
    if op == "<=":
        return cmp <= 0
    if op == ">":
        return cmp > 0
    return cmp >= 0


def _numeric(op: str, a: float, b: float) -> bool:
    if op == "==":
        return abs(a - b) < EPSILON
    if op == "!=":
        return abs(a - b) >= EPSILON
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _truthiness(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return truthy(left) == truthy(right)
    if op == "!=":
        return truthy(left) != truthy(right)
    return False


def _compare(op: str, left: Any, right: Any) -> bool:
    """`left OP right` exactly as the original kernel's CompareExpr (see above)."""
    ln = as_number(left)
    if ln is not None:
        rn = as_number(right)
        if rn is not None:
            return _numeric(op, ln, rn)
    if left is None or right is None:
        return _truthiness(op, left, right)
    ls, rs = as_text(left), as_text(right)
    return _ordered(op, (ls > rs) - (ls < rs))


def _compare_text_constant(op: str, left: Any, text: str) -> bool:
    """`left OP 'text'` for a string literal that does not read as a number: the numeric
    branch cannot apply, so only the string and null branches remain."""
    if left is None:
        return _truthiness(op, left, text)
    ls = left if type(left) is str else as_text(left)
    return _ordered(op, (ls > text) - (ls < text))


# C-implemented comparisons for the `path OP number` fast path (no Python frame per call).
_NUMERIC_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None  # a missing operand makes the result missing, like SQL NULL
    if op == "+" and type(left) is str and type(right) is str:
        return left + right
    if not (is_number(left) and is_number(right)):
        raise EvaluationError(
            f"'{op}' needs two numbers, got {_type_name(left)} and {_type_name(right)}"
        )
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        raise EvaluationError("division by zero")
    result = left / right
    return int(result) if result.is_integer() and abs(result) < 2**53 else result


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _count(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, list | dict | str):
        return len(value)
    raise EvaluationError(f"count() needs an array, object or string, got {_type_name(value)}")


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, str):
        return isinstance(needle, str) and needle in haystack
    if isinstance(haystack, list):
        return any(json_equal(item, needle) for item in haystack)
    if isinstance(haystack, dict):
        return isinstance(needle, str) and needle in haystack
    return False


# -- bounded regular expressions -------------------------------------------------------


def _check_pattern(pattern: str) -> Any:
    """Compile a `matches` pattern with RE2, which matches in time linear in the subject.

    Python's `re` backtracks: `^(.*,){20}$` on a 31-character purpose held the API for
    28 s, and no syntactic guard catches every such pattern (nested, overlapping and
    bounded-over-unbounded repeats all blow up). RE2 has no backtracking at all; it has
    no back-references or lookaround either, which are refused here with that reason.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"pattern longer than {MAX_PATTERN_CHARS} characters")
    import importlib

    # `re._parser` is the parser `re` itself uses: it names the construct RE2 lacks
    # (RE2's own message is "invalid escape sequence"). Private, hence the dynamic import.
    c: Any = importlib.import_module("re._constants")
    p: Any = importlib.import_module("re._parser")

    try:
        parsed = p.parse(pattern)
    except re.error as exc:
        raise ValueError(f"invalid pattern: {exc}") from None

    def walk(items: Any) -> None:
        for op, arg in items:
            if op in (c.GROUPREF, c.GROUPREF_EXISTS, c.ASSERT, c.ASSERT_NOT):
                raise ValueError("back-references and lookaround are not allowed")
            if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                walk(arg[2])
            elif op == c.SUBPATTERN:
                walk(arg[-1])
            elif op == c.BRANCH:
                for branch in arg[1]:
                    walk(branch)
            elif op == c.ATOMIC_GROUP:
                walk(arg)

    walk(parsed)
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(f"not supported by the linear-time matcher: {reason}") from None


# -- the compiler ----------------------------------------------------------------------


def _unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "/": "/"}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(escapes.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _parse_number(text: str) -> int | float:
    if re.fullmatch(r"\d+", text):
        return int(text)
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 and "." not in text else value


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source
        self.paths: dict[str, Compiled] = {}
        self.reads_input = False
        # Names that are neither a root nor a variable in scope: they read as null, as
        # the original's ResolveVar does (`examples.pass.present`); lint warns about them.
        self.unknown: dict[str, None] = {}

    def fail(self, node: Tree[Token] | Token, message: str) -> ConditionSyntaxError:
        meta = getattr(node, "meta", None)
        column = getattr(node, "column", None) or getattr(meta, "column", 1)
        line = getattr(node, "line", None) or getattr(meta, "line", 1)
        return ConditionSyntaxError(message, int(column or 1), int(line or 1))

    def compile(self, node: Tree[Token] | Token, scope: frozenset[str]) -> Compiled:
        if isinstance(node, Token):  # pragma: no cover - every token is wrapped by a rule
            raise self.fail(node, f"unexpected {node!r}")
        handler = getattr(self, "c_" + str(node.data).rstrip("_"), None)
        if handler is None:  # pragma: no cover - grammar and compiler are kept in step
            raise self.fail(node, f"unsupported construct {node.data}")
        result: Compiled = handler(node, scope)
        return result

    # literals
    def c_number(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        value = _parse_number(str(node.children[0]))
        return lambda env: value

    def c_string(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        value = _unquote(str(node.children[0]))
        return lambda env: value

    def c_true(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        return lambda env: True

    def c_false(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        return lambda env: False

    def c_null(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        return lambda env: None

    def c_list(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        items = [self.compile(child, scope) for child in node.children if child is not None]
        return lambda env: [item(env) for item in items]

    # paths
    def _path(self, node: Tree[Token] | Token) -> tuple[str, list[str]] | None:
        """`root.a.b` as (root, [a, b]) when the node is a plain dotted path."""
        if isinstance(node, Tree) and node.data == "var":
            return str(node.children[0]), []
        if isinstance(node, Tree) and node.data == "attr":
            inner = self._path(node.children[0])
            if inner is None:
                return None
            return inner[0], [*inner[1], str(node.children[1])]
        return None

    def _path_getter(self, root: str, keys: list[str], scope: frozenset[str]) -> Compiled:
        keys_t = tuple(keys)
        if len(keys_t) == 1:
            (k1,) = keys_t

            def get1(env: Env) -> Any:
                v = env.get(root)
                return v.get(k1) if type(v) is dict else None

            getter: Compiled = get1
        elif len(keys_t) == 2:
            k1, k2 = keys_t

            def get2(env: Env) -> Any:
                v = env.get(root)
                if type(v) is not dict:
                    return None
                v = v.get(k1)
                return v.get(k2) if type(v) is dict else None

            getter = get2
        else:

            def getn(env: Env) -> Any:
                v = env.get(root)
                for k in keys_t:
                    if type(v) is not dict:
                        return None
                    v = v.get(k)
                return v

            getter = getn
        if root not in scope:
            self.reads_input = True
            text = ".".join([root, *keys])
            self.paths.setdefault(text, getter)
        return getter

    def c_var(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        name = str(node.children[0])
        if name not in scope and name not in ROOTS:
            self.unknown.setdefault(name, None)
        if name not in scope:
            self.reads_input = True
            self.paths.setdefault(name, lambda env: env.get(name))
        return lambda env: env.get(name)

    def c_attr(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        path = self._path(node)
        if path is not None:
            root, keys = path
            if root not in scope and root not in ROOTS:
                self.unknown.setdefault(root, None)
            return self._path_getter(root, keys, scope)
        inner = self.compile(node.children[0], scope)
        key = str(node.children[1])

        def attr(env: Env) -> Any:
            v = inner(env)
            return v.get(key) if type(v) is dict else None

        return attr

    def c_index(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        inner = self.compile(node.children[0], scope)
        key_fn = self.compile(node.children[1], scope)

        def index(env: Env) -> Any:
            v, k = inner(env), key_fn(env)
            if type(v) is dict and type(k) is str:
                return v.get(k)
            if type(v) is list and type(k) is int and -len(v) <= k < len(v):
                return v[k]
            return None

        return index

    # operators
    def c_not(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        inner = as_bool(self.compile(node.children[0], scope))
        return _boolean(lambda env: not inner(env))

    def c_or_expr(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        parts = tuple(as_bool(self.compile(child, scope)) for child in node.children)
        if len(parts) == 2:
            first, second = parts
            return _boolean(lambda env: first(env) or second(env))

        def any_of(env: Env) -> bool:
            return any(part(env) for part in parts)

        return _boolean(any_of)

    def c_and_expr(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        parts = tuple(as_bool(self.compile(child, scope)) for child in node.children)
        if len(parts) == 2:
            first, second = parts
            return _boolean(lambda env: first(env) and second(env))

        def all_of(env: Env) -> bool:
            return all(part(env) for part in parts)

        return _boolean(all_of)

    def c_compare(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        left_node, op_token, right_node = node.children
        op = str(op_token)
        left = self.compile(left_node, scope)
        right = self.compile(right_node, scope)
        constant = self._constant(right_node)
        if is_number(constant):
            # The common case `path OP number`: skip the generic dispatch for a number.
            number = float(constant)
            if op == "==":

                def compare_number(env: Env) -> bool:
                    v = left(env)
                    t = type(v)
                    if t is float or t is int:
                        try:
                            e: float = v - number
                        except OverflowError:
                            return _compare(op, v, number)
                        return -EPSILON < e < EPSILON
                    return _compare(op, v, number)

            elif op == "!=":

                def compare_number(env: Env) -> bool:
                    v = left(env)
                    t = type(v)
                    if t is float or t is int:
                        try:
                            d: float = v - number
                        except OverflowError:
                            return _compare(op, v, number)
                        return d >= EPSILON or d <= -EPSILON
                    return _compare(op, v, number)

            else:
                numeric = _NUMERIC_OPS[op]

                def compare_number(env: Env) -> bool:
                    v = left(env)
                    t = type(v)
                    if t is float:
                        return numeric(v, number)
                    if t is int:
                        return numeric(_to_double(v), number)
                    return _compare(op, v, number)

            return _boolean(compare_number)
        text = self._text_constant(right_node)
        if text is not None and parse_dotnet_float(text) is None:
            return _boolean(lambda env: _compare_text_constant(op, left(env), text))
        return _boolean(lambda env: _compare(op, left(env), right(env)))

    def _text_constant(self, node: Tree[Token] | Token) -> str | None:
        if isinstance(node, Tree) and node.data == "string":
            value = self.compile(node, frozenset())({})
            return value if type(value) is str else None
        return None

    def _constant(self, node: Tree[Token] | Token) -> Any:
        if isinstance(node, Tree) and node.data == "number":
            return _parse_number(str(node.children[0]))
        if isinstance(node, Tree) and node.data == "neg":
            inner = self._constant(node.children[0])
            return -inner if is_number(inner) else None
        return None

    def c_in(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        needle = self.compile(node.children[0], scope)
        haystack = self.compile(node.children[1], scope)
        return _boolean(lambda env: _contains(haystack(env), needle(env)))

    def c_not_in(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        needle = self.compile(node.children[0], scope)
        haystack = self.compile(node.children[1], scope)
        return _boolean(lambda env: not _contains(haystack(env), needle(env)))

    def c_arith(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        left = self.compile(node.children[0], scope)
        op = str(node.children[1])
        right = self.compile(node.children[2], scope)
        return lambda env: _arith(op, left(env), right(env))

    def c_neg(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        inner = self.compile(node.children[0], scope)

        def neg(env: Env) -> Any:
            v = inner(env)
            if v is None:
                return None
            if not is_number(v):
                raise EvaluationError(f"'-' needs a number, got {_type_name(v)}")
            return -v

        return neg

    # calls
    def c_quantifier(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        target_node, method, var, body_node = node.children
        name = str(method)
        if name not in {"any", "all"}:
            raise self.fail(method, f"unknown quantifier {name!r} (expected any or all)")
        variable = str(var)
        if variable in ROOTS:
            raise self.fail(var, f"{variable!r} cannot be used as a variable name")
        target = self.compile(target_node, scope)
        body = self.compile(body_node, scope | {variable})

        # `any` stops at the first item that holds (True), `all` at the first that does not
        # (False); an empty array is the other answer.
        stop = name == "any"

        def quantified(env: Env) -> bool:
            items = target(env)
            if type(items) is not list:
                return False
            # The whole array is charged up front: one counter update per quantifier,
            # not per item, keeps the hot path's cost flat.
            steps = env.get(_STEPS, 0) + len(items)
            env[_STEPS] = steps
            if steps > _BUDGET_STRIDE:
                _check_budget(env, steps)
            saved = env.get(variable, _MISSING)
            try:
                for item in items:
                    env[variable] = item
                    if truthy(body(env)) is stop:
                        return stop
                return not stop
            finally:
                _restore(env, variable, saved)

        return _boolean(quantified)

    def c_method(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        target_node, method, *arg_nodes = node.children
        args = [a for a in arg_nodes if a is not None]
        name = str(method)
        target = self.compile(target_node, scope)
        if name == "count" and not args:
            return lambda env: _count(target(env))
        if name in {"any", "all"}:
            raise self.fail(method, f"{name}() needs a lambda: {name}(x => ...)")
        if name in {"startsWith", "endsWith", "contains", "matches"}:
            if len(args) != 1:
                raise self.fail(method, f"{name}() takes exactly one argument")
            if name == "matches":
                return self._matches(target, args[0], method)
            arg = self.compile(args[0], scope)
            if name == "contains":
                return lambda env: _contains(target(env), arg(env))
            if name == "startsWith":

                def starts(env: Env) -> bool:
                    s, prefix = target(env), arg(env)
                    return type(s) is str and type(prefix) is str and s.startswith(prefix)

                return starts

            def ends(env: Env) -> bool:
                s, suffix = target(env), arg(env)
                return type(s) is str and type(suffix) is str and s.endswith(suffix)

            return ends
        raise self.fail(
            method,
            f"unknown method {name!r} "
            "(expected any, all, count, startsWith, endsWith, contains, matches)",
        )

    def _matches(
        self, target: Compiled, pattern_node: Tree[Token] | Token, at: Tree[Token] | Token
    ) -> Compiled:
        if not (isinstance(pattern_node, Tree) and pattern_node.data == "string"):
            raise self.fail(at, "matches() needs a string literal pattern")
        try:
            pattern = _check_pattern(_unquote(str(pattern_node.children[0])))
        except ValueError as exc:
            raise self.fail(pattern_node, f"matches(): {exc}") from None

        def matches(env: Env) -> bool:
            s = target(env)
            if type(s) is not str:
                return False
            if len(s) > MAX_MATCH_SUBJECT_CHARS:
                raise EvaluationError(
                    f"matches() subject longer than {MAX_MATCH_SUBJECT_CHARS} characters"
                )
            return pattern.search(s) is not None

        return matches

    def c_function(self, node: Tree[Token], scope: frozenset[str]) -> Compiled:
        name_token, *arg_nodes = node.children
        args = [a for a in arg_nodes if a is not None]
        name = str(name_token)
        if name == "count":
            if len(args) != 1:
                raise self.fail(name_token, "count() takes exactly one argument")
            arg = self.compile(args[0], scope)
            return lambda env: _count(arg(env))
        raise self.fail(name_token, f"unknown function {name!r} (expected count)")


_MISSING = object()


def _restore(env: Env, name: str, saved: object) -> None:
    if saved is _MISSING:
        env.pop(name, None)
    else:
        env[name] = saved


def _syntax_message(exc: UnexpectedInput, source: str) -> str:
    if isinstance(exc, UnexpectedEOF):
        return "unexpected end of condition"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {source[exc.pos_in_stream or 0]!r}"
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return "unexpected end of condition"
        return f"unexpected {exc.token.value!r}"
    return "syntax error"  # pragma: no cover


def _end_position(source: str) -> tuple[int, int]:
    """(line, column) just after the last non-blank character: where the text stopped."""
    text = source.rstrip()
    last_line = text.rsplit("\n", 1)[-1]
    return text.count("\n") + 1, len(last_line) + 1


def compile_condition(source: str) -> Condition:
    """Parse and compile; raise `ConditionSyntaxError` with the 1-based line and column."""
    try:
        tree = _PARSER.parse(source)
    except UnexpectedInput as exc:
        message = _syntax_message(exc, source)
        column = exc.column if isinstance(exc.column, int) and exc.column > 0 else 0
        line = exc.line if isinstance(exc.line, int) and exc.line > 0 else 1
        if message == "unexpected end of condition" or column == 0:
            line, column = _end_position(source)
        raise ConditionSyntaxError(message, column, line) from None
    compiler = _Compiler(source)
    try:
        fn = compiler.compile(tree, frozenset())
    except RecursionError:
        # The parser is a loop, the compiler recurses: a pathologically nested condition
        # is refused at load like any other unreadable one, never a crash.
        raise ConditionSyntaxError("condition is nested too deeply", 1) from None
    constant: bool | None = None
    if not compiler.reads_input:
        try:
            constant = truthy(fn({}))
        except (EvaluationError, RecursionError):
            constant = None
    return Condition(
        source,
        fn,
        tuple(compiler.paths.items()),
        constant,
        as_bool(fn),
        tuple(compiler.unknown),
    )


def make_env(input_doc: Mapping[str, Any], measures: Mapping[str, Any] | None = None) -> Env:
    return {"input": input_doc, "measure": dict(measures or {})}


def parse_tree(source: str) -> Tree[Token]:
    """The parse tree of a condition that compiled (for analyses such as semantic lint)."""
    return _PARSER.parse(source)


def evaluate_constant(source: str, node: Tree[Token]) -> Any:
    """The value of a sub-tree of `source` that reads nothing, by the compiler's semantics.

    Raises `EvaluationError` when the constant itself cannot be evaluated (`1 / 0`)."""
    return _Compiler(source).compile(node, frozenset())({})
