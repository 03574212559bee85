"""The CLI has one place that chooses between JSON and a human rendering: `cli.common.emit`.

A command that branches on its `--json` flag itself grows its own JSON shape and its own way
of printing; these tests find any such branch in `src/paygod/cli` outside `common.py`, and
hold `emit` to the stable JSON document the e2e tests read.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import orjson
import pytest
from rich.table import Table

from paygod.cli.common import emit
from paygod.cli.output import key_values, row_lines, styled, table

CLI = Path(__file__).resolve().parents[3] / "src" / "paygod" / "cli"
THE_EMIT_MODULE = CLI / "common.py"


def json_branches(source: str) -> list[str]:
    """`line: test` of each if, conditional expression, while or assert whose test reads a
    name or attribute with "json" in it (as_json, json_out, options.json)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If | ast.IfExp | ast.While | ast.Assert):
            tests = [node.test]
        elif isinstance(node, ast.comprehension):
            tests = node.ifs
        else:
            continue
        for tested in tests:
            names = [n.id for n in ast.walk(tested) if isinstance(n, ast.Name)]
            names += [n.attr for n in ast.walk(tested) if isinstance(n, ast.Attribute)]
            if any("json" in name.lower() for name in names):
                found.append(f"{tested.lineno}: {ast.unparse(tested)}")
    return sorted(found, key=lambda branch: int(branch.split(":")[0]))


def test_the_scan_finds_each_kind_of_json_branch() -> None:
    source = (
        "if as_json:\n    pass\n"
        "x = emit_json(d) if as_json else show(d)\n"
        "if missing and not as_json:\n    pass\n"
        "if self.json_out:\n    pass\n"
        "y = [1 for r in rows if not json_]\n"
        "if verbose:\n    pass\n"
    )
    assert [line.split(":")[0] for line in json_branches(source)] == ["1", "3", "4", "6", "8"]


def test_no_command_branches_on_json_outside_emit() -> None:
    offenders = {
        path.name: branches
        for path in sorted(CLI.glob("*.py"))
        if path != THE_EMIT_MODULE and (branches := json_branches(path.read_text()))
    }
    assert offenders == {}, "print through paygod.cli.common.emit instead"


DOCUMENT = {"b": [1, 2], "a": {"é": None}, "n": 2**53}


def test_json_is_the_one_stable_document(capsys: pytest.CaptureFixture[str]) -> None:
    emit(DOCUMENT, as_json=True, human=lambda _: pytest.fail("no human rendering with --json"))
    out = capsys.readouterr().out
    assert out.encode() == orjson.dumps(DOCUMENT, option=orjson.OPT_INDENT_2) + b"\n"
    assert json.loads(out) == DOCUMENT  # key order kept, two-space indent, one newline


@pytest.mark.parametrize(
    ("human", "printed"),
    [
        ("one line [not markup]", "one line [not markup]\n"),
        (["first", styled(("second", "bold"))], "first\nsecond\n"),
        (lambda data: f"{len(data)} fields", "3 fields\n"),
        (
            lambda data: [*key_values({"a": 1}), *row_lines([{"x": 1, "y": None}], "y", "x")],
            "  a: 1\nNone  1\n",
        ),
        (lambda data: None, ""),
        ([], ""),
    ],
)
def test_a_person_gets_the_human_rendering(
    human: object, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    emit(DOCUMENT, as_json=False, human=human)  # type: ignore[arg-type]  # each kind of human
    assert capsys.readouterr().out == printed


def test_a_table_prints_each_cell_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    shown = table(("id", "amount"), [("a", 10), ("b", None)], title="transfers")
    assert isinstance(shown, Table) and shown.row_count == 2
    emit(DOCUMENT, as_json=False, human=shown)
    out = capsys.readouterr().out
    assert "transfers" in out and "│ a  │ 10     │" in out and "│ b  │ None   │" in out
