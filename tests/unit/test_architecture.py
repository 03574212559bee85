"""The import rules of docs/architecture.md, enforced: the allowed arrows between packages,
no package cycle, no framework in domain code, no driver in a model, service or port."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "paygod"
EDGES = {"api", "cli", "bootstrap", "__main__"}
FRAMEWORKS = {"fastapi", "starlette", "typer", "uvicorn", "click", "rich"}
DRIVERS = {"sqlalchemy", "psycopg", "psycopg2", "sqlite3", "redis", "nats", "httpx"}


def allowed_arrows() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    match = re.search(r"```imports\n(.*?)```", text, re.DOTALL)
    assert match, "docs/architecture.md has no ```imports block"
    rules: dict[str, set[str]] = {}
    for line in match.group(1).strip().splitlines():
        package, _, targets = line.partition(":")
        rules[package.strip()] = set(targets.split())
    return rules


def imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "paygod":
                yield from (f"paygod.{alias.name}" for alias in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def package_of(path: Path) -> str:
    return path.relative_to(SOURCE).parts[0].removesuffix(".py")


def package_graph() -> dict[str, dict[str, str]]:
    """package -> {imported package: one file that imports it}."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        source = package_of(path)
        if source in {"__init__", "__version__"}:
            continue
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] != "paygod" or len(parts) < 2 or parts[1] == "__version__":
                continue
            if parts[1] != source:
                graph.setdefault(source, {}).setdefault(parts[1], str(path.relative_to(ROOT)))
    return graph


def test_every_import_between_packages_is_an_allowed_arrow() -> None:
    rules = allowed_arrows()
    refused = []
    for source, targets in package_graph().items():
        assert source in rules, f"package {source} is not in docs/architecture.md's imports"
        allowed = rules[source]
        for target, where in targets.items():
            if "*" in allowed:
                ok = target not in EDGES or (source in {"api", "cli"} and target in EDGES - {"cli"})
                ok = ok or (source == "cli" and target == "api")
            else:
                ok = target in allowed
            if not ok:
                refused.append(f"{where}: {source} -> {target}")
    assert refused == []


def test_the_ground_floor_imports_nothing_above_it() -> None:
    graph = package_graph()
    assert set(graph.get("kernel", {})) == set()
    # RFC 8785 is stated once, in the ledger's standalone verifier; canonical is its facade.
    assert set(graph.get("ledger", {})) <= {"kernel"}
    assert set(graph.get("canonical", {})) <= {"ledger"}


def test_the_package_graph_has_no_cycle() -> None:
    graph = {source: set(targets) for source, targets in package_graph().items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("package cycle: " + " -> ".join([*trail, node, nxt]))
            if state.get(nxt) is None:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def _domain_files() -> Iterator[Path]:
    for path in SOURCE.rglob("*.py"):
        if package_of(path) not in EDGES | {"cluster"}:
            yield path


def test_no_domain_module_imports_a_web_or_cli_framework() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _domain_files()
        for module in imported_modules(path)
        if module.split(".")[0] in FRAMEWORKS
    ]
    assert found == []


def test_models_services_and_ports_import_no_database_or_network_driver() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _domain_files()
        if path.name in {"model.py", "service.py", "ports.py"}
        for module in imported_modules(path)
        if module.split(".")[0] in DRIVERS
    ]
    assert found == []


def test_the_rule_block_is_read_and_can_refuse() -> None:
    """The check above is not vacuous: the rules name every package and forbid something."""
    rules = allowed_arrows()
    packages = {package_of(p) for p in SOURCE.iterdir() if p.suffix == ".py" or p.is_dir()}
    packages -= {"__init__", "__version__", "__pycache__", "py"}
    assert packages <= set(rules) | {"__pycache__"}
    assert "payments" not in rules["ledger"] and rules["kernel"] == set()
