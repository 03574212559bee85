"""The PCI DSS report's card-number scan: Luhn-valid 13-19 digit numbers, masked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paygod.assurance.reports import find_pans
from paygod.kernel.pii import luhn_ok


def _with_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError


def test_known_test_pans() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5555555555554444")
    assert not luhn_ok("4111111111111112")


def test_finds_grouped_pans_and_masks_them() -> None:
    hits = list(find_pans({"a": {"note": "card 4111 1111 1111 1111 used"}, "b": [1, "x"]}))
    assert hits == [("/a/note", "411111******1111")]


def test_ignores_hashes_and_short_numbers() -> None:
    assert list(find_pans({"h": "sha256:" + "12" * 32, "n": 123456789012, "t": True})) == []


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_every_luhn_valid_number_is_found(body: str) -> None:
    pan = _with_check_digit(body)
    assert [m for _, m in find_pans({"v": f"x {pan} y"})] == [
        f"{pan[:6]}{'*' * (len(pan) - 10)}{pan[-4:]}"
    ]


def test_digit_runs_inside_digests_are_not_pans() -> None:
    assert list(find_pans({"d": "sha256:ab4111111111111111cd" + "0" * 42})) == []


def test_uuids_in_identifiers_are_not_pans() -> None:
    assert list(find_pans({"id": "wallet-41111111-1111-4115-a111-111111111111"})) == []
