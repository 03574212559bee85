"""Regressions found by running packs other authors wrote for the paygod/v1 format."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from paygod.decisions.conditions import (
    ConditionSyntaxError,
    compile_condition,
    make_env,
    parse_dotnet_float,
)
from paygod.decisions.engine import evaluate
from paygod.decisions.lint import lint_pack
from paygod.decisions.packs import (
    PackInvalid,
    compile_pack,
    load_cases,
    load_pack,
    parse_yaml,
    validate_input,
)
from paygod.decisions.packs import TestCase as Case
from paygod.decisions.service import pack_subject
from paygod.decisions.testing import check_matcher, run_case, run_pack_tests

HEAD = 'api_version: "paygod/v1"\nkind: Pack\nmetadata: {name: "p", version: "1.0.0"}\n'


def pack_from(text: str) -> Any:
    return compile_pack(text.encode("utf-8"), Path("pack.yaml"))


def check(source: str, doc: dict[str, Any]) -> bool:
    return compile_condition(source).test(make_env(doc))


# -- comparisons: the original kernel's CompareExpr (PolicyExpression.cs)


@pytest.mark.parametrize(
    ("source", "doc", "expected"),
    [
        # (a) both sides read as numbers (a JSON number or a numeric string): numeric
        ("input.x > 5", {"x": "30"}, True),
        ("input.x == 6", {"x": "5"}, False),
        ("input.x == 5", {"x": "5"}, True),
        ("input.x == 2.5", {"x": " 2.5 "}, True),  # leading/trailing white allowed
        ("input.x == 1000", {"x": "1e3"}, True),
        ("input.x < 0", {"x": "-4"}, True),
        ("input.x == 0.5", {"x": ".5"}, True),
        ("input.x == '30'", {"x": 30}, True),
        ("input.x < input.y", {"x": "9", "y": "10"}, True),  # numeric, not '9' > '1'
        ("input.x == 1", {"x": 1 + 1e-10}, True),  # |a - b| < 1e-9
        ("input.x != 1", {"x": 1 + 1e-10}, False),
        ("input.x == input.y", {"x": 1, "y": 1 + 1e-10}, True),
        ("input.x == 1", {"x": 1 + 1e-8}, False),
        ("input.x > 5", {"x": "0x1F"}, False),  # hex is not NumberStyles.Float: strings
        ("input.x == 1000", {"x": "1,000"}, False),  # no thousands separators
        ("input.x == 5", {"x": "\u0665"}, False),  # ASCII digits only (Arabic-Indic five)
        ("input.x == 1000", {"x": "1_000"}, False),  # Python's float() would accept this
        ("1 == 1.0 and -2.5 < -2 and 1e3 == 1000 and 2.5E-1 == 0.25", {}, True),
        # (b) both non-null, not both numbers: string forms, ordinal
        ("input.x == true", {"x": "yes"}, False),
        ("input.x == true", {"x": "true"}, True),
        ("input.x == true", {"x": True}, True),
        ("input.x == false", {"x": 0}, False),  # '0' vs 'false'
        ("input.x == true", {"x": 5}, False),
        ("input.x != true", {"x": "false"}, True),
        ("input.x == 'a'", {"x": ["a"]}, False),  # '["a"]' vs 'a'
        ("input.x == '[\"a\"]'", {"x": ["a"]}, True),  # an array as its JSON text
        ("input.x < 5", {"x": "abc"}, False),  # 'abc' > '5'
        ("input.x > 5", {"x": "abc"}, True),
        ("input.x >= 5", {"x": True}, True),  # 'true' > '5'
        ("input.a == input.b", {"a": [1], "b": [2]}, False),
        ("input.a == input.b", {"a": {"k": 1}, "b": {"k": 1}}, True),
        ("input.a == input.b", {"a": {"k": 1, "j": 2}, "b": {"j": 2, "k": 1}}, False),
        ("input.s < input.t", {"s": "Z", "t": "a"}, True),  # code points, not locale
        ("input.s > input.t", {"s": "é", "t": "z"}, True),
        # (c) a null side (missing path or null): == and != truthiness, ordering false
        ("input.x == false", {"x": None}, True),
        ("input.x == false", {}, True),
        ("input.x != 0", {}, False),
        ("input.x == 0", {}, True),
        ("input.x == ''", {}, True),
        ("input.x != null", {"x": 0}, False),
        ("input.x != null", {"x": "v"}, True),
        ("input.x == null", {}, True),
        ("input.x < 5", {}, False),
        ("input.x >= 5", {}, False),
        ("input.x <= null", {}, False),
    ],
)
def test_comparison_semantics(source: str, doc: dict[str, Any], expected: bool) -> None:
    assert check(source, doc) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("30", 30.0),
        (" 2.5 ", 2.5),
        ("\t-4\n", -4.0),
        ("+7", 7.0),
        ("1e3", 1000.0),
        ("1E-2", 0.01),
        ("5.", 5.0),
        (".5", 0.5),
        ("Infinity", float("inf")),
        ("-infinity", float("-inf")),
        ("", None),
        (" ", None),
        (".", None),
        ("1e", None),
        ("e3", None),
        ("1 000", None),
        ("1,5", None),
        ("0x10", None),
        ("inf", None),
        ("1_0", None),
        ("--1", None),
        ("\u00a05", None),  # NO-BREAK SPACE is not NumberStyles white space
        ("yes", None),
    ],
)
def test_numeric_strings_follow_dotnet_double_tryparse(text: str, value: float | None) -> None:
    assert parse_dotnet_float(text) == value


def test_nan_text_is_a_number_that_equals_nothing() -> None:
    assert parse_dotnet_float("NaN") != parse_dotnet_float("NaN")
    assert check("input.x == 1", {"x": "NaN"}) is False
    assert check("input.x != 1", {"x": "NaN"}) is False  # |NaN - 1| >= 1e-9 is false


def test_unicode_letters_are_name_characters_as_in_the_original_lexer() -> None:
    assert check("input.größe > 1 and input.prénom == 'Zoé'", {"größe": 2, "prénom": "Zoé"})


@pytest.mark.parametrize(
    ("source", "line", "column", "fragment"),
    [
        ("input.a\n  and input.b ===", 2, 17, "unexpected character '='"),
        ("input.a and\n  (input.b or\n", 2, 14, "end of condition"),
        ("input.a ==", 1, 11, "end of condition"),
    ],
)
def test_syntax_errors_in_multi_line_conditions_name_line_and_column(
    source: str, line: int, column: int, fragment: str
) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        compile_condition(source)
    assert (info.value.line, info.value.column) == (line, column)
    assert fragment in info.value.message


def test_a_pathologically_nested_condition_is_refused_not_a_crash() -> None:
    with pytest.raises(ConditionSyntaxError, match="nested too deeply"):
        compile_condition("not " * 5000 + "input.a")


# -- YAML as pack authors write it ---------------------------------------------------


def test_plain_scalars_are_read_as_yaml_1_2_not_1_1() -> None:
    data = parse_yaml(
        b"a: NO\nb: off\nc: yes\nd: 12:30\ne: 010\nf: 1_000\ng: 1e3\nh: 2026-01-28\n"
        b"i: 0x1f\nj: 0o17\nk: .inf\nl: ~\nm:\nn: True\no: -7\np: 2.50\n",
        Path("cases.yaml"),
    ).data
    assert data == {
        "a": "NO",
        "b": "off",
        "c": "yes",
        "d": "12:30",
        "e": 10,
        "f": "1_000",
        "g": 1000.0,
        "h": "2026-01-28",
        "i": 31,
        "j": 15,
        "k": ".inf",
        "l": None,
        "m": None,
        "n": True,
        "o": -7,
        "p": 2.5,
    }


def test_duplicate_keys_are_refused_with_their_line_but_merges_are_not() -> None:
    with pytest.raises(PackInvalid, match=r":3: column 3: found duplicate key 'condition'"):
        parse_yaml(b"rule:\n  condition: a\n  condition: b\n", Path("pack.yaml"))
    merged = parse_yaml(b"x: &d {k: 1, j: 1}\ny:\n  <<: *d\n  k: 2\n", Path("p.yaml"))
    assert merged.data["y"] == {"k": 2, "j": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\t\nb: x\t\n", {"a": 1, "b": "x"}),  # trailing tabs
        ("a:\tvalue\nb:\t\t2\n", {"a": "value", "b": 2}),  # tab after the indicator
        ("a: v\t# note\nb: 3 \t # note\t\n", {"a": "v", "b": 3}),  # tab before a comment
        ("a: x\ty\n", {"a": "x\ty"}),  # a tab inside a plain scalar is text
        ("a: [1,\t2]\nb: {k:\tv}\n", {"a": [1, 2], "b": {"k": "v"}}),
        ('a: "x\ty"\t\n', {"a": "x\ty"}),
        ("a:\t|\n  x\ty\n", {"a": "x\ty\n"}),
    ],
)
def test_tabs_that_separate_values_load_as_yaml_1_2_reads_them(
    text: str, expected: dict[str, Any]
) -> None:
    # PyYAML's Python scanner refused every one of these: "found character '\t' that
    # cannot start any token", so a pack saved by an editor that leaves tabs was refused.
    assert parse_yaml(text.encode(), Path("pack.yaml")).data == expected


def test_a_pack_and_its_cases_with_separating_tabs_load_unchanged(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pack.yaml").write_text(
        HEAD + "spec:\n  policy:\n    rules:\n"
        '      - name:\t"big"\t# over the limit\n'
        "        condition: input.amount > 100\t\n"
        "        decision:\tdeny\n"
        '        reason: "Too big."\n'
    )
    (tmp_path / "tests" / "cases.yaml").write_text(
        "cases:\n"
        '  - name:\t"big one"\t\n'
        "    input: {amount:\t500}\t# a tab before the comment\n"
        "    expected:\n"
        "      decision:\tdeny\n"
    )
    pack = load_pack(tmp_path)
    assert pack.rules[0].name == "big"
    assert load_cases(tmp_path)[0].input == {"amount": 500}
    assert run_pack_tests(tmp_path).failed == 0


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a:\n\tb: 1\n", 2, 1),
        ("a:\n  b: 1\n\tc: 2\n", 3, 1),
        ("a:\n  \tb: 1\n", 2, 3),
        ("a: |\n\tx\n", 2, 1),
    ],
)
def test_a_tab_used_as_indentation_is_refused_with_file_line_and_column(
    text: str, line: int, column: int
) -> None:
    with pytest.raises(PackInvalid) as info:
        parse_yaml(text.encode(), Path("cases.yaml"))
    message = info.value.errors[0].message
    assert message.startswith(f"cases.yaml:{line}: column {column}: a tab cannot indent YAML")
    assert f"cases.yaml is not valid YAML:{line}: column {column}:" in info.value.detail


def test_bom_and_crlf_load_and_the_digest_is_of_the_exact_bytes() -> None:
    text = (
        HEAD + "spec:\n  policy:\n    rules:\n"
        '      - name: "r"\n        condition: |\n          input.a\n            and input.b\n'
        '        decision: "allow"\n        reason: "Ok ✅"\n'
    )
    raw = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
    pack = compile_pack(raw, Path("pack.yaml"))
    assert pack.rules[0].reason == "Ok ✅"
    assert evaluate(pack, {"a": 1, "b": 1}).verdict.value == "allow"
    assert pack.digest == __import__("hashlib").sha256(raw).hexdigest()


def test_contract_level_packs_load_unchanged() -> None:
    # The contract asks only for a non-empty name, any rule list, free-form inputs.
    pack = pack_from(
        HEAD.replace('name: "p"', 'name: "Data Flow Guard"')
        + "spec:\n  inputs:\n    - {type: observation, source: catalog}\n"
        + '    - {name: "scan-report", schema: true}\n'
        + "  policy:\n    rules: []\n"
    )
    assert pack.name == "Data Flow Guard"
    assert [i.name for i in pack.inputs] == ["scan-report"]
    result = evaluate(pack, {"scan-report": {}})
    assert (result.verdict.value, result.rule) == ("error", None)
    assert "No policy rule matched" in result.reason
    assert pack_subject("Data Flow Guard") == "urn:paygod:pack:Data%20Flow%20Guard"
    assert pack_subject("critical-cve-blocker") == "urn:paygod:pack:critical-cve-blocker"


def test_a_literal_block_condition_error_names_its_file_line(tmp_path: Path) -> None:
    text = (
        HEAD + "spec:\n  policy:\n    rules:\n"
        "      - name: r\n        condition: |\n          input.a\n            and input.b ==\n"
        "        decision: allow\n        reason: ok\n"
    )
    with pytest.raises(PackInvalid) as info:
        pack_from(text)
    assert "pack.yaml:10: line 2, column 17: unexpected end of condition" in info.value.detail


def test_a_manifest_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        HEAD + 'spec: {policy: {rules: [{name: a, condition: "true", decision: allow, reason: r}]}}'
    )
    (tmp_path / "manifest.json").write_bytes(b'\xef\xbb\xbf{\r\n  "pack_name": "p"\r\n}\r\n')
    assert load_pack(tmp_path).manifest == {"pack_name": "p"}


# -- matchers ------------------------------------------------------------------------

RECORD = {"decision": "deny", "reason": "HTTP 403 refused (score 9.5)", "rule": "r", "n": 3}


@pytest.mark.parametrize(
    ("matcher", "holds"),
    [
        ({"field": "$.reason", "operator": "contains", "value": "403"}, True),
        ({"field": "reason", "operator": "contains", "value": 403}, True),
        ({"field": "reason", "operator": "contains", "value": 9.5}, True),
        ({"field": "reason", "operator": "contains", "value": 404}, False),
        ({"field": "reason", "operator": "regex", "value": "^HTTP (?=403)"}, True),
        ({"field": "reason", "operator": "regex", "value": "^(?!HTTP)"}, False),
        ({"field": "n", "operator": "gt", "value": "2.5"}, True),
        ({"field": "n", "operator": "lt", "value": "2.5"}, False),
        ({"field": "n", "operator": "gt", "value": "many"}, False),
        ({"field": "rule", "operator": "equals", "value": "r"}, True),
        ({"field": "missing", "operator": "equals", "value": None}, True),
    ],
)
def test_matchers(matcher: dict[str, Any], holds: bool) -> None:
    assert (check_matcher(RECORD, matcher) is None) is holds


def test_matchers_are_checked_when_the_input_is_refused() -> None:
    pack = pack_from(
        HEAD + "spec:\n  inputs: [{name: x, schema: {type: object, required: [a]}}]\n"
        '  policy: {rules: [{name: a, condition: "true", decision: allow, reason: r}]}\n'
    )

    def case(value: str) -> Case:
        matchers = ({"field": "reason", "operator": "contains", "value": value},)
        return Case("c", {"x": {}}, "error", matchers)

    assert run_case(pack, case("invalid input")).status == "pass"
    failed = run_case(pack, case("not in the reason"))
    assert failed.status == "fail"
    assert "reason contains" in failed.failures[0]


# -- input validation: a null member means the same as an absent one

NULLABLE_PACK = """\
api_version: paygod/v1
kind: Pack
metadata: {name: nulls, version: 1.0.0}
spec:
  inputs:
    - name: ev
      schema:
        type: object
        required: [id]
        properties:
          id: {type: string}
          ticket: {type: string}
          items:
            type: array
            items: {type: object, properties: {ref: {type: string}}}
  policy:
    rules:
      - {name: r, condition: "not input.ev.ticket", decision: deny, reason: no ticket}
"""


def test_a_null_member_is_accepted_where_the_schema_only_forbids_its_type() -> None:
    pack = pack_from(NULLABLE_PACK)
    assert validate_input(pack, {"ev": {"id": "a", "ticket": None}}) == []
    assert validate_input(pack, {"ev": {"id": "a", "items": [{"ref": None}]}}) == []


def test_a_wrong_non_null_type_is_still_refused_with_its_pointer() -> None:
    pack = pack_from(NULLABLE_PACK)
    errors = validate_input(pack, {"ev": {"id": "a", "ticket": None, "items": [{"ref": 5}]}})
    assert [e.pointer for e in errors] == ["/ev/items/0/ref"]
    errors = validate_input(pack, {"ev": {"id": "a", "ticket": 7}})
    assert [e.pointer for e in errors] == ["/ev/ticket"]
    assert "not of type" in errors[0].message


def test_a_null_for_a_required_member_is_still_refused() -> None:
    pack = pack_from(NULLABLE_PACK)
    errors = validate_input(pack, {"ev": {"id": None}})
    assert [e.pointer for e in errors] == ["/ev"]
    assert '"id" is a required property' in errors[0].message


def test_null_array_elements_are_not_removed() -> None:
    pack = pack_from(NULLABLE_PACK)
    errors = validate_input(pack, {"ev": {"id": "a", "items": [None]}})
    assert [e.pointer for e in errors] == ["/ev/items/0"]


def test_http_and_cli_share_the_null_rule(tmp_path: Path) -> None:
    # The service and `paygod test` both call validate_input; the evaluation still
    # sees the input as sent (the null reads as null: `not input.ev.ticket` holds).
    pack_dir = tmp_path / "nulls"
    (pack_dir / "tests").mkdir(parents=True)
    (pack_dir / "pack.yaml").write_text(NULLABLE_PACK)
    (pack_dir / "tests" / "cases.yaml").write_text(
        "cases:\n"
        "  - name: null ticket\n"
        "    input: {ev: {id: a, ticket: null}}\n"
        "    expected: {decision: deny, matchers: [{field: rule, operator: equals, value: r}]}\n"
        "  - name: wrong type\n"
        "    input: {ev: {id: a, ticket: 3}}\n"
        "    expected: {decision: error}\n"
    )
    results = run_pack_tests(pack_dir).results
    assert [r.status for r in results] == ["pass", "pass"]
    assert "invalid input: /ev/ticket" in results[1].reason


# -- case files and packs the original kernel ships


def test_expect_is_read_as_expected_but_not_both(tmp_path: Path) -> None:
    pack_dir = tmp_path / "p"
    (pack_dir / "tests").mkdir(parents=True)
    (pack_dir / "pack.yaml").write_text(NULLABLE_PACK)
    cases = pack_dir / "tests" / "cases.yaml"
    cases.write_text(
        "api_version: paygod/v1\nkind: PackTestCases\nmetadata: {pack: nulls}\n"
        "cases:\n  - name: c\n    input: {ev: {id: a}}\n    expect: {decision: deny}\n"
    )
    (case,) = load_cases(pack_dir)
    assert case.expected == "deny"
    cases.write_text(
        "cases:\n  - name: c\n    input: {ev: {id: a}}\n"
        "    expect: {decision: deny}\n    expected: {decision: allow}\n"
    )
    with pytest.raises(PackInvalid, match="/cases/0"):
        load_cases(pack_dir)
    cases.write_text("cases:\n  - name: c\n    input: {ev: {id: a}}\n")
    with pytest.raises(PackInvalid, match='"expected" is a required property'):
        load_cases(pack_dir)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        (
            "pack_id: paygod.x\nversion: 0.1.0\ndescription: 'd'\nmodules: []\ntests: []\n",
            "/api_version",
        ),
        ("api_version: paygod/v1\nmetadata: {name: a, version: 1.0.0}\n", "/kind"),
        ("api_version: paygod/v1\nkind: Pack\nspec: {policy: {rules: []}}\n", "/metadata"),
        (
            "api_version: paygod/v1\nkind: Pack\nmetadata: {name: a, version: 1.0.0}\n"
            "spec: {inputs: []}\n",
            "/spec/policy",
        ),
        (
            "api_version: paygod/v1\nkind: Pack\nmetadata: {name: a, version: 1.0.0}\n"
            "spec: {policy: {}}\n",
            "/spec/policy/rules",
        ),
    ],
)
def test_a_pack_in_another_format_is_refused_naming_the_first_missing_member(
    text: str, missing: str
) -> None:
    with pytest.raises(PackInvalid) as caught:
        pack_from(text)
    assert caught.value.errors[0].pointer == missing
    assert caught.value.one_line().endswith(f"is not a paygod/v1 pack: {missing} is missing")


def test_a_manifest_name_mismatch_is_linted_not_refused(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(NULLABLE_PACK)
    (tmp_path / "manifest.json").write_text('{"pack_name": "other"}')
    pack = load_pack(tmp_path)
    assert pack.name == "nulls"
    assert any(f.pointer == "/pack_name" for f in lint_pack(pack))


def test_unknown_names_are_linted() -> None:
    pack = pack_from(NULLABLE_PACK.replace("not input.ev.ticket", "examples.pass.present == true"))
    messages = [f.message for f in lint_pack(pack)]
    assert any("unknown name 'examples'" in m for m in messages)


@pytest.mark.parametrize("levels", [6, 12, 30])
def test_an_alias_bomb_is_refused_on_the_node_graph_before_construction(levels: int) -> None:
    names = [f"n{i}" for i in range(levels)]
    text = f"{names[0]}: &{names[0]} [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for prev, name in itertools.pairwise(names):
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    with pytest.raises(PackInvalid, match=r"pack.yaml:\d+: column \d+: expands to more than"):
        parse_yaml(text.encode(), Path("pack.yaml"))


def test_a_self_referring_or_too_deep_document_is_refused() -> None:
    with pytest.raises(PackInvalid, match="refers to the node that contains it"):
        parse_yaml(b"a: &x [1, *x]\n", Path("pack.yaml"))
    with pytest.raises(PackInvalid, match="nests deeper than"):
        parse_yaml(b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", Path("pack.yaml"))
    shared = parse_yaml(b"a: &x [1, 2]\nb: [*x, *x]\n", Path("pack.yaml"))
    assert shared.data == {"a": [1, 2], "b": [[1, 2], [1, 2]]}
