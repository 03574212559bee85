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


def test_a_subject_is_wider_than_an_id_but_holds_no_invisible_character() -> None:
    from paygod.kernel.identifiers import subject_problem

    assert subject_problem("urn:paygod:agent:team/bot") is None  # '/' is fine in a subject
    assert subject_problem("x" * 256) is None
    assert subject_problem("x" * 257) == "must be 1 to 256 characters"
    assert subject_problem("") == "must be 1 to 256 characters"
    assert subject_problem("a\nb") == "must not contain U+000A (character 1)"
    assert subject_problem("pay\u202eelif") == "must not contain U+202E (character 3)"
    assert subject_problem("lone\udc00") == "must not contain U+DC00 (character 4)"
