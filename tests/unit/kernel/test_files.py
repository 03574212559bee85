"""A file replaced durably is the old one or the new one, and leaves no temporary file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from paygod.kernel.files import replace_durably


def test_a_replaced_file_holds_the_new_content_for_its_owner_alone(tmp_path: Path) -> None:
    target = tmp_path / "flag"
    replace_durably(target, b"old")
    replace_durably(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["flag"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "flag"
    replace_durably(target, b"old")
    with pytest.raises(TypeError):
        replace_durably(target, "not bytes")  # type: ignore[arg-type]  # the failure under test
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["flag"]


def test_a_file_created_once_keeps_the_first_content(tmp_path: Path) -> None:
    from paygod.kernel.files import create_once

    target = tmp_path / "keys" / "kek"
    create_once(target, b"first")
    create_once(target, b"second")  # another process came second: the first stays
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["kek"]
