"""Packs that must be refused before they cost anything: YAML alias bombs, deep nesting,
oversized files, and packs in another format. Each is exit 2 with one line and no
traceback, in every command that loads a pack, and the server keeps the pack out."""

from __future__ import annotations

import json
import resource
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli

RULES = (
    "spec:\n  inputs: [{name: x}]\n  policy:\n    rules:\n"
    "      - {name: r, condition: 'true', decision: allow, reason: ok}\n"
)
HEAD = 'api_version: "paygod/v1"\nkind: Pack\n'


def alias_bomb(levels: int, where: str) -> str:
    """Each level names the previous nine times: 9**levels values from a few hundred bytes."""
    names = "abcdefghijklmnop"
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels):
        text += f"{names[i]}: &{names[i]} [" + ",".join(["*" + names[i - 1]] * 9) + "]\n"
    last = names[levels - 1]
    if where == "pack":
        return HEAD + text + f'metadata: {{name: "b", version: "1.0.0", tags: *{last}}}\n' + RULES
    return (
        text
        + f"cases:\n  - name: c\n    input: {{x: *{last}}}\n    expected: {{decision: allow}}\n"
    )


def write_pack(root: Path, pack_yaml: str, cases_yaml: str = "cases: []\n") -> Path:
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(pack_yaml)
    (root / "tests" / "cases.yaml").write_text(cases_yaml)
    return root


GOOD_PACK = HEAD + 'metadata: {name: "ok", version: "1.0.0"}\n' + RULES


def _one_line_exit_2(args: list[str]) -> str:
    result = run_cli(*args)
    assert result.code == 2, (result.code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize("levels", [6, 7])
@pytest.mark.parametrize("where", ["pack", "cases"])
def test_an_alias_bomb_is_refused_without_expanding_it(
    tmp_path: Path, levels: int, where: str
) -> None:
    bomb = alias_bomb(levels, where)
    pack = write_pack(
        tmp_path / "b",
        bomb if where == "pack" else GOOD_PACK,
        bomb if where == "cases" else "cases: []\n",
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line = _one_line_exit_2(["test", "--pack", str(pack)])
    assert (
        "expands to more than" in line
        and ("pack.yaml" if where == "pack" else "cases.yaml") in line
    )
    # ru_maxrss is in KB on Linux (the largest child so far): a refused bomb stays in the
    # range of an ordinary CLI start (about 500 MB with the solver, sklearn and wasmtime
    # importable) instead of the gigabytes an expanded 10^6-node bomb takes.
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss <= max(before, 800_000)
    if where == "pack":
        _one_line_exit_2(["packs", "lint", str(pack)])
        _one_line_exit_2(["validate", "--pack", str(pack)])


def test_anchors_within_bounds_still_load() -> None:
    # A real pack that shares rule fields through `<<: *deny`.
    fixture = Path(__file__).parents[1] / "fixtures" / "packs-v1" / "treasury-sweep-controls"
    assert "<<: *deny" in (fixture / "pack.yaml").read_text()
    result = run_cli("test", "--pack", str(fixture))
    assert result.code == 0, result.stderr


def test_deep_nesting_and_self_reference_and_size_are_refused(tmp_path: Path) -> None:
    deep = (
        HEAD
        + "deep: "
        + "[" * 5000
        + "]" * 5000
        + "\n"
        + 'metadata: {name: "d", version: "1.0.0"}\n'
        + RULES
    )
    line = _one_line_exit_2(["test", "--pack", str(write_pack(tmp_path / "d", deep))])
    assert "nests deeper than" in line
    loop = HEAD + "loop: &l [1, *l]\n" + 'metadata: {name: "l", version: "1.0.0"}\n' + RULES
    line = _one_line_exit_2(["test", "--pack", str(write_pack(tmp_path / "l", loop))])
    assert "refers to the node that contains it" in line
    big = GOOD_PACK + "# " + "x" * (5 * 1024 * 1024) + "\n"
    line = _one_line_exit_2(["test", "--pack", str(write_pack(tmp_path / "s", big))])
    assert "bytes, more than the" in line


DRAFT = "pack_id: paygod.x\nversion: 0.1.0\ndescription: d\nmodules: []\ntests: []\n"


def test_a_pack_in_another_format_is_refused_by_every_command(tmp_path: Path) -> None:
    pack = write_pack(
        tmp_path / "draft",
        DRAFT,
        "cases:\n  - name: c\n    input: {x: 1}\n    expected: {decision: allow}\n",
    )
    (tmp_path / "in.json").write_text('{"x": 1}')
    expected = f"error: {pack / 'pack.yaml'} is not a paygod/v1 pack: /api_version is missing"
    for args in (
        ["test", "--pack", str(pack)],
        ["validate", str(pack)],
        ["validate", "--pack", str(pack)],
        [
            "run",
            "--pack",
            str(pack),
            "--input",
            str(tmp_path / "in.json"),
            "--out",
            str(tmp_path / "o"),
        ],
        ["packs", "lint", str(pack)],
    ):
        assert _one_line_exit_2(args) == expected, args
    assert not (tmp_path / "o").exists()


def test_the_server_pack_loader_keeps_a_refused_pack_out(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    write_pack(packs / "draft", DRAFT)
    write_pack(packs / "bomb", alias_bomb(6, "pack"))
    write_pack(packs / "ok", GOOD_PACK)
    result = run_cli("packs", "list", "--json", env={"PAYGOD_PACKS": str(packs)})
    assert result.code == 0, result.stderr
    listing = json.loads(result.stdout)
    assert [p["name"] for p in listing["packs"]] == ["ok"]
    refused = {Path(r["path"]).name: r["message"] for r in listing["refused"]}
    assert "/api_version is missing" in refused["draft"]
    assert "expands to more than" in refused["bomb"]


def test_validate_takes_a_pack_directory_as_test_and_run_do(
    tmp_path: Path, reference_dir: Path
) -> None:
    pack = tmp_path / "ref"
    shutil.copytree(reference_dir / "packs" / "secrets-in-repo-guard", pack)
    result = run_cli("validate", "--pack", str(pack), "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["kind"] == "pack"
    (tmp_path / "bad.json").write_text('{"nothing": 1}')
    named = run_cli("validate", "--pack", "agent-payment-limits", str(tmp_path / "bad.json"))
    assert named.code == 2, named.stderr
