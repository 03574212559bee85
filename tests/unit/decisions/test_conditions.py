from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygod.decisions.conditions import (
    ConditionSyntaxError,
    EvaluationError,
    compile_condition,
    make_env,
    truthy,
)


def check(source: str, doc: dict[str, Any], measures: dict[str, Any] | None = None) -> bool:
    return compile_condition(source).test(make_env(doc, measures))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("input.a.b == 1", True),
        ("input.a.missing == null", True),
        ("input.a.missing.deeper == null", True),
        ("input.a.b >= 1 and input.a.b < 2", True),
        ("input.a.b > 1 or input.s == 'x'", True),
        ('input.s == "x"', True),
        ("not input.a.missing", True),
        ("not (input.a.b == 1)", False),
        ("input.s < 'y'", True),  # ordinal string comparison
        ("input.s > 1", True),  # 'x' is not a number: string forms, 'x' > '1
        ("input.flag == true", True),
        ("input.flag == 1", False),  # string forms 'true' and '1' (original CompareExpr)
        ("input.flag == 0", False),
        ("input.flag > 0", True),  # string forms: 't' > '0'
        ("input.a.missing > 0", False),  # a null side: ordering is false
        ("input.a.missing == false", True),  # missing side: truthiness (original kernel)
        ("input.a.missing == 0", True),
        ("input.a.missing != 'x'", True),
        ("input.list == [1, 2]", True),
        ("input.list.any(x => x > 1)", True),
        ("input.list.all(x => x > 1)", False),
        ("input.list.any(x => x > 5)", False),
        ("input.a.any(x => x)", False),  # not an array
        ("2 in input.list", True),
        ("3 not in input.list", True),
        ("'b' in input.a", True),  # object keys
        ("count(input.list) == 2", True),
        ("input.list.count() == 2", True),
        ("count(input.a.missing) == 0", True),
        ("input.a.b + 2 * 3 == 7", True),
        ("(input.a.b + 2) * 3 == 9", True),
        ("10 / 4 == 2.5", True),
        ("8 / 4 == 2", True),
        ("-input.a.b == -1", True),
        ("input.a.missing + 1 > 0", False),  # missing propagates
        ("input.s.startsWith('x') and input.s.endsWith('x')", True),
        ("input.name.contains('pay')", True),
        ("input.name.matches('^pay[a-z]+$')", True),
        ("input.list.contains(2)", True),
        ("measure.velocity_1h > 3", True),
        ("measure.unknown == null", True),
        ("input['s'] == 'x'", True),
        ("input.list[1] == 2", True),
        ("input.objs.any(o => o.tags.any(t => t == 'hot'))", True),
        ("'a' + 'b' == 'ab'", True),
        ("1.5e1 == 15", True),
        ("input.a.b == 1.0", True),
    ],
)
def test_semantics(source: str, expected: bool) -> None:
    doc = {
        "a": {"b": 1},
        "s": "x",
        "flag": True,
        "list": [1, 2],
        "name": "paygod",
        "objs": [{"tags": ["cold"]}, {"tags": ["hot"]}],
    }
    assert check(source, doc, {"velocity_1h": 5}) is expected


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("input.a ==", 11, "end of condition"),
        ("input.a = 1", 9, "unexpected"),
        ("input.a.some(x => x)", 9, "unknown quantifier"),
        ("input.a.frob(1)", 9, "unknown method"),
        ("upper(input.a)", 1, "unknown function"),
        ("input.s.matches('a{2000}')", 17, "linear-time matcher"),
        ("input.s.matches('(a)\\\\1')", 17, "back-references"),
        ("input.s.matches(input.p)", 9, "string literal"),
        ("(input.a", 9, "end of condition"),
        ("input.a == 'open", 12, "unexpected"),
        # A keyword is a whole word: these were read as `NOT in put.x` (null in null).
        ("NOT input.x", 5, "unexpected 'input'"),
        ("Not input.x == true", 5, "unexpected 'input'"),
        ("input.a == 1 andinput.b", 14, "unexpected 'andinput'"),
        ("input.a ornot input.b", 9, "unexpected 'ornot'"),
        ("input.a == 1 AND input.b", 14, "unexpected 'AND'"),
    ],
)
def test_syntax_errors_point_at_the_column(source: str, column: int, fragment: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        compile_condition(source)
    assert fragment in info.value.message
    assert info.value.column == column


def test_division_by_zero_is_an_evaluation_error_not_a_crash() -> None:
    condition = compile_condition("input.a / input.b > 1")
    with pytest.raises(EvaluationError, match="division by zero"):
        condition.test(make_env({"a": 1, "b": 0}))


def test_arithmetic_on_strings_and_numbers_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="needs two numbers"):
        check("input.s * 2 > 1", {"s": "x"})


def test_constant_conditions_are_detected() -> None:
    assert compile_condition("true").constant is True
    assert compile_condition("1 > 2").constant is False
    assert compile_condition("input.a").constant is None


def test_values_read_lists_the_paths_outside_lambdas() -> None:
    condition = compile_condition("input.a.b > 1 and input.items.any(i => i.x == measure.m)")
    env = make_env({"a": {"b": 3}, "items": []}, {"m": 4})
    assert condition.values_read(env) == {"input.a.b": 3, "input.items": [], "measure.m": 4}


def test_lambda_variable_is_not_in_scope_outside_its_lambda() -> None:
    # Outside its lambda `x` is an unknown name: it reads as null and is reported.
    condition = compile_condition("input.xs.any(x => x == 2) and x == null")
    assert condition.unknown_names == ("x",)
    assert condition.test(make_env({"xs": [2]})) is True
    assert condition.test(make_env({"xs": [3]})) is False


@pytest.mark.parametrize(
    ("source", "unknown"),
    [
        ("foo.bar == 1", ("foo",)),
        ("input.a.any(x => y > 1)", ("y",)),
        ("examples.pass.present == true and other", ("examples", "other")),
        ("input.a.any(x => x > 1) and measure.m > 0", ()),
    ],
)
def test_unknown_names_read_as_null_as_in_the_original(
    source: str, unknown: tuple[str, ...]
) -> None:
    # The original's ResolveVar gives null for any name but `input` and lambda variables.
    condition = compile_condition(source)
    assert condition.unknown_names == unknown
    assert condition.constant is None
    assert condition.test(make_env({"a": [5]}, {"m": 1})) is (not unknown)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Names that begin with a keyword stay names, wherever they stand.
        ("input.notes == 'x' and input.order > 1 and input.android", True),
        ("input.a.in == 1 and input.a.or == 2 and input.a.not == 3", True),
        ("input.truex == null and input.nullable == 4", True),
        ("input.items.any(index => index > 1)", True),
        ("input.items.any(notes => notes == 2)", True),
        ("input.items.any(inner => inner in [2])", True),
        ("not(input.notes == 'x')", False),
        ("input.a==1 or(input.notes)", True),
    ],
)
def test_names_that_begin_with_a_keyword(source: str, expected: bool) -> None:
    doc = {
        "notes": "x",
        "order": 2,
        "android": True,
        "a": {"in": 1, "or": 2, "not": 3},
        "nullable": 4,
        "items": [1, 2],
    }
    assert check(source, doc) is expected


def test_nested_lambdas_restore_the_outer_variable() -> None:
    source = "input.xs.any(x => input.ys.any(x => x == 9) and x == 1)"
    assert check(source, {"xs": [1], "ys": [9]}) is True
    assert check(source, {"xs": [2], "ys": [9]}) is False


def test_regex_subject_length_is_bounded() -> None:
    condition = compile_condition("input.s.matches('a')")
    with pytest.raises(EvaluationError, match="longer than"):
        condition.test(make_env({"s": "a" * 10_000}))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(-1e6, 1e6)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(json_values)
def test_truthiness_matches_the_reference_rule(value: Any) -> None:
    expected = value not in (None, False, 0, 0.0, "", [], {}) or value is True
    assert check("input.v", {"v": value}) is expected
    assert truthy(value) is expected


@given(st.integers(-100, 100) | st.floats(-100, 100), st.integers(-100, 100))
def test_numeric_comparison_matches_python(a: float, b: int) -> None:
    doc = {"a": a, "b": b}
    assert check("input.a < input.b", doc) is (a < b)
    assert check("input.a >= input.b", doc) is (a >= b)
    # == and != have the original's tolerance: |a - b| < 1e-9.
    assert check("input.a == input.b", doc) is (abs(a - b) < 1e-9)
    assert check("input.a != input.b", doc) is (abs(a - b) >= 1e-9)
    assert check(f"input.a == {b}", doc) is (abs(a - b) < 1e-9)
    assert check(f"input.a != {b}", doc) is (abs(a - b) >= 1e-9)


@given(json_values, json_values)
def test_evaluation_never_crashes_on_any_input(a: Any, b: Any) -> None:
    # Comparisons, quantifiers and membership are total: any JSON input gives a boolean.
    for source in (
        "input.a == input.b",
        "input.a < input.b",
        "input.a in input.b",
        "input.a.any(x => x == input.b)",
        "count(input.b) >= 0 or true",
    ):
        try:
            result = check(source, {"a": a, "b": b})
        except EvaluationError:
            assert source.startswith("count")
            continue
        assert isinstance(result, bool)


ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
numbers = st.integers(-5, 5) | st.sampled_from([0.5, -1.5, 2.0])
leaf_values = st.none() | st.booleans() | numbers | st.sampled_from(["", "a", "b"])


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """(condition, an equivalent condition that avoids every compiler fast path)."""
    if depth >= 2 or draw(st.booleans()):
        path = draw(st.sampled_from(["input.a", "input.b", "input.c.d", "input.missing"]))
        op = draw(ops)
        n = draw(numbers)
        # `(0 + n)` is not a literal, so the generic comparison is used instead of the
        # specialised `path OP number` closure; `not not not` exercises the bool layer.
        return f"{path} {op} {n}", f"({path} {op} (0 + {n}))"
    left, left_slow = draw(conditions(depth + 1))
    right, right_slow = draw(conditions(depth + 1))
    joiner = draw(st.sampled_from(["and", "or"]))
    fast = f"({left} {joiner} {right})"
    slow = f"({left_slow} {joiner} {right_slow})"
    if draw(st.booleans()):
        return f"not {fast}", f"not not not {slow}"
    return fast, slow


@given(conditions(), leaf_values, leaf_values, leaf_values)
def test_fast_paths_agree_with_the_generic_semantics(
    pair: tuple[str, str], a: Any, b: Any, d: Any
) -> None:
    fast, slow = pair
    doc = {"a": a, "b": b, "c": {"d": d}}
    compiled = compile_condition(fast)
    assert compiled.test(make_env(doc)) is check(slow, doc)
    assert compiled.test(make_env(doc)) is truthy(compiled.fn(make_env(doc)))
