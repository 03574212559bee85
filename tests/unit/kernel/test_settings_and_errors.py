from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paygod.kernel.clock import FixedClock, isoformat, parse_instant
from paygod.kernel.errors import FieldError, InvalidInput, InvalidSettings
from paygod.kernel.jsonio import parse_json
from paygod.kernel.record_ids import new_id
from paygod.kernel.settings import load_settings


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("database_url", "nonsense", "PAYGOD_DATABASE_URL: unsupported scheme"),
        ("database_url", "mysql://x/y", "PAYGOD_DATABASE_URL: unsupported scheme 'mysql'"),
        ("port", "99999", "PAYGOD_PORT"),
        ("clock", "yesterday", "PAYGOD_CLOCK"),
        ("log_level", "loud", "PAYGOD_LOG_LEVEL"),
        ("redis_url", "http://x", "PAYGOD_REDIS_URL: expected redis://"),
    ],
)
def test_bad_settings_are_one_precise_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(f"PAYGOD_{name.upper()}", value)
    with pytest.raises(InvalidSettings) as caught:
        load_settings()
    assert fragment in caught.value.one_line()
    assert "\n" not in caught.value.one_line()
    assert caught.value.exit_code == 2


def test_settings_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGOD_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    assert load_settings().distributed
    monkeypatch.setenv("PAYGOD_DATABASE_URL", "sqlite:///tmp/x.db")
    settings = load_settings()
    assert not settings.distributed
    assert str(settings.sqlite_path) == "tmp/x.db"


def test_fixed_clock_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGOD_CLOCK", "2026-01-28T11:05:08Z")
    settings = load_settings()
    assert settings.clock == datetime(2026, 1, 28, 11, 5, 8, tzinfo=UTC)
    clock = FixedClock(settings.clock)
    assert isoformat(clock.now()) == "2026-01-28T11:05:08.000000Z"
    assert parse_instant("2026-01-28T11:05:08Z") == settings.clock


def test_ids_are_time_ordered_uuid7() -> None:
    ids = [new_id() for _ in range(1000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 1000
    assert all(i[14] == "7" for i in ids)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ('{"a": 1, "a": 2}', "duplicate member name 'a'"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": ', "line 1 column 7"),
        (b"\xff\xfe", "not valid UTF-8"),
    ],
)
def test_strict_json(text: str | bytes, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_json(text, source="body")
    assert fragment in caught.value.one_line()


def test_error_line_names_the_pointer() -> None:
    exc = InvalidInput("input is invalid", errors=[FieldError("/amount", "must be > 0")])
    assert exc.one_line() == "error: input is invalid: /amount: must be > 0"


def test_isoformat_is_rfc3339_utc_with_microseconds_whatever_the_offset() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    assert isoformat(datetime(2026, 3, 1, 1, 2, 3, 4, tzinfo=UTC)) == "2026-03-01T01:02:03.000004Z"
    east = datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert isoformat(east) == "2026-02-28T23:00:00.000000Z"
    assert isoformat(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000000Z"
    assert parse_instant(isoformat(east)) == east
