"""Dates for credit: months anchored on a day, day-count conventions (pure, no I/O)."""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum
from functools import lru_cache


@lru_cache(maxsize=4096)  # schedules and APR positions ask it dozens of times an offer
def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def is_month_end(day: date) -> bool:
    return day.day == days_in_month(day.year, day.month)


# An offer asks ~70 of these (its due dates, its APR's unit-periods), the same all day.
@lru_cache(maxsize=8192)
def add_months(start: date, months: int, *, anchor_day: int | None = None) -> date:
    """`start` moved by `months` (negative goes back), on `anchor_day` (default the start's day)
    clamped to the month's last day: Jan 31 + 1 month is Feb 28 (29), + 2 months Mar 31."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    day = anchor_day if anchor_day is not None else start.day
    return date(year, month, min(day, days_in_month(year, month)))


class DayCount(StrEnum):
    """How many years of interest accrue between two dates."""

    THIRTY_360 = "30/360"
    ACTUAL_365 = "actual/365"

    def days(self, start: date, end: date) -> int:
        if self is DayCount.ACTUAL_365:
            return (end - start).days
        return days_30_360(start, end)

    @property
    def year_days(self) -> int:
        return 360 if self is DayCount.THIRTY_360 else 365


def _last_of_february(day: date) -> bool:
    return day.month == 2 and is_month_end(day)


def days_30_360(start: date, end: date) -> int:
    """30/360 US (the SIA rule of US loans and bonds, with its end-of-February adjustments):
    every month counts 30 days, so a payment period of one month accrues 30 days whatever the
    calendar says, except where the schedule itself is short (Jan 31 → Feb 28 is 28 days)."""
    d1, d2 = start.day, end.day
    if _last_of_february(start) and _last_of_february(end):
        d2 = 30
    if _last_of_february(start):
        d1 = 30
    if d2 == 31 and d1 >= 30:
        d2 = 30
    if d1 == 31:
        d1 = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
