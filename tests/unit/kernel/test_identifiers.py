"""Caller-chosen ids are readable, addressable text."""

from __future__ import annotations

import pytest

from paygod.kernel.identifiers import identifier_problem


@pytest.mark.parametrize(
    "good", ["wallet", "payer-1", "acct:42", "urn:paygod:cp:acme", "Zürich-€", "支付-1", "a.b"]
)
def test_ordinary_ids_are_accepted(good: str) -> None:
    assert identifier_problem(good) is None


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "1 to 128"),
        ("x" * 129, "1 to 128"),
        (" wallet", "space"),
        ("wallet\t", "space"),
        (".", "'.' or '..'"),
        ("..", "'.' or '..'"),
        ("a/../b", "'/'"),
        ("a\x00b", "U+0000 (character 1)"),
        ("pay\u202eelif", "U+202E"),
        ("zero\u200bwidth", "U+200B"),
        ("line\u2028sep", "U+2028"),
        ("lone\ud800", "U+D800"),
        ("private\ue000", "U+E000"),
    ],
)
def test_invisible_or_unaddressable_ids_are_refused(bad: str, why: str) -> None:
    problem = identifier_problem(bad)
    assert problem is not None and why in problem
