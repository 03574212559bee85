"""The rules of error codes (paygod.kernel.errors): every code is a member of one module's
`StrEnum` in its `errors.py`, kebab-case except the accounting module's TigerBeetle names,
never a string literal at a raise site, and listed in docs/errors.md."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from enum import StrEnum
from pathlib import Path
from typing import get_args

import pytest

import paygod
from paygod.accounting.errors import AccountingCode, exists_with_different
from paygod.credit.errors import in_state
from paygod.credit.loan import LoanStatus
from paygod.credit.model import ApplicationStatus
from paygod.mandates.errors import Reason, Refusal, mandate_refused, signature_refused
from paygod.payments.errors import webhook_code
from paygod.payments.signing import WebhookReason

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "paygod"
DOC = ROOT / "docs" / "errors.md"
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


def code_enums() -> list[type[StrEnum]]:
    """Every StrEnum defined in a `paygod.<package>.errors` module."""
    found: list[type[StrEnum]] = []
    for info in pkgutil.walk_packages(paygod.__path__, "paygod."):
        if not info.name.endswith(".errors"):
            continue
        module = importlib.import_module(info.name)
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, StrEnum)
            and value.__module__ == module.__name__
        ]
    return found


ENUMS = code_enums()


def test_every_module_with_codes_is_found() -> None:
    names = {e.__name__ for e in ENUMS}
    assert {"KernelCode", "AccountingCode", "PaymentCode", "MandateCode", "CreditCode"} <= names


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_codes_are_kebab_case_but_the_accounting_ones(enum: type[StrEnum]) -> None:
    spelling = SNAKE if enum is AccountingCode else KEBAB
    assert [m.value for m in enum if not spelling.match(m.value)] == []


def test_no_code_belongs_to_two_enums() -> None:
    owner: dict[str, str] = {}
    twice = []
    for enum in ENUMS:
        for member in enum:
            if member.value in owner:
                twice.append((member.value, owner[member.value], enum.__name__))
            owner[member.value] = enum.__name__
    assert twice == []


def _error_classes() -> set[str]:
    """Names of PaygodError and every class deriving from it in src (by name, to a fixpoint)."""
    classes: list[tuple[str, list[str]]] = []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
                classes.append((node.name, [b.rsplit(".", 1)[-1] for b in bases]))
    names = {"PaygodError"}
    grown = True
    while grown:
        grown = False
        for name, bases in classes:
            if name not in names and names.intersection(bases):
                names.add(name)
                grown = True
    return names


def test_no_raise_site_spells_a_code_as_a_string() -> None:
    errors = _error_classes()
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                callee = node.func
                name = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", "")
                if name not in errors:
                    continue
                for kw in node.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant | ast.JoinedStr):
                        found.append(f"{where}:{node.lineno}: {ast.unparse(kw.value)}")
            elif isinstance(node, ast.ClassDef) and node.name in errors:
                for stmt in node.body:
                    target = getattr(stmt, "target", None) or (getattr(stmt, "targets", [None])[0])
                    value = getattr(stmt, "value", None)
                    if getattr(target, "id", None) == "code" and isinstance(value, ast.Constant):
                        found.append(f"{where}:{stmt.lineno}: class {node.name} code")
    assert found == []


def test_every_error_class_default_is_an_enum_member() -> None:
    from paygod.kernel.errors import PaygodError

    members = {m for enum in ENUMS for m in enum}
    pending = [PaygodError]
    seen = []
    while pending:
        cls = pending.pop()
        seen.append(cls)
        pending += cls.__subclasses__()
    assert [c.__name__ for c in seen if c.code not in members] == []


def test_a_refusal_family_names_a_member_for_every_reason() -> None:
    # Codes built from a state or a reason word: each must be a member, or a refusal
    # would become a ValueError (a 500) instead of its problem.
    for application in ApplicationStatus:
        in_state("application", application)
    assert [in_state("loan", s).value for s in LoanStatus][-1] == "loan-written-off"
    for reason in (*get_args(Reason), *get_args(Refusal)):
        mandate_refused(reason)
    for reason in get_args(Reason):
        signature_refused(reason)
    assert webhook_code("bad_signature").value == "webhook-bad-signature"
    for reason in get_args(WebhookReason):
        webhook_code(reason)


def _names_compared(function: str, path: Path) -> set[str]:
    """The field names a function compares (the first string of each tuple, the strings
    of a `for name in (...)` loop): each becomes a `<prefix><name>` code."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Tuple) and inner.elts:
                    strings = [
                        e.value
                        for e in inner.elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    ]
                    if len(strings) == len(inner.elts):
                        names |= set(strings)  # `for name in ("ledger", "code", ...)`
                    elif strings and strings[0] == getattr(inner.elts[0], "value", None):
                        names.add(strings[0])  # `("flags", req.flags, old.flags)`
    return names


def test_every_field_compared_on_a_retry_has_its_exists_with_different_code() -> None:
    accounting = SOURCE / "accounting"
    names = _names_compared("_exists_mismatch", accounting / "rules.py")
    names |= _names_compared("_require_same_account", accounting / "service.py")
    assert {"flags", "amount", "owner", "valid_from"} <= names
    for name in names:
        exists_with_different(name)
    for name in ("debit_account_id", "credit_account_id", "ledger", "amount"):
        AccountingCode(f"pending_transfer_has_different_{name}")


def documented() -> dict[str, set[str]]:
    """docs/errors.md: `### ... (`EnumName`)` sections, each listing its codes as `- `code``."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^### .*\(`(\w+)`\)", line)
        if heading:
            current = sections.setdefault(heading.group(1), set())
        elif current is not None and (item := re.match(r"^- `([a-z0-9_-]+)`", line)):
            current.add(item.group(1))
    return sections


def test_the_doc_lists_every_code_and_no_other() -> None:
    listed = documented()
    actual = {e.__name__: {m.value for m in e} for e in ENUMS}
    assert listed == actual, "docs/errors.md drifted from the code enums"
