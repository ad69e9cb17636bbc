"""Time comes from a clock that tests can move."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: stands still until moved."""

    def __init__(self, at: datetime | None = None) -> None:
        self._at = at or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)


class OffsetClock:
    """Another clock's time moved by an offset (the test clock's: `portal_runtime.testclock`)."""

    def __init__(self, base: Clock, offset: timedelta = timedelta(0)) -> None:
        self.base = base
        self.offset = offset

    def now(self) -> datetime:
        return self.base.now() + self.offset


def business_date(at: datetime, tz: tzinfo) -> date:
    """The calendar date `at` falls on in the business's time zone (setting BUSINESS_TIMEZONE)."""
    return at.astimezone(tz).date()


def start_of(day: date, tz: tzinfo) -> datetime:
    """The first instant of a calendar date in the business's time zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
