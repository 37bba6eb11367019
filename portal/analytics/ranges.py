"""Date ranges of the analytics pages and API: parsing, and reading whole weeks from the
weekly rollups and the days at either end from the daily ones (DateRange.split)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, false, or_, select

from portal.errors import InvalidInput

DEFAULT_RANGE_DAYS = 30


MAX_RANGE_DAYS = 3 * 366


WEEKLY_AFTER_DAYS = 92  # longer ranges chart weekly points


@dataclass(frozen=True)
class DateRange:
    since: date
    until: date  # inclusive

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def weekly(self) -> bool:
        return self.days > WEEKLY_AFTER_DAYS

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min)

    @property
    def end(self) -> datetime:
        """The first instant after the range."""
        return datetime.combine(self.until + timedelta(days=1), time.min)

    def buckets(self) -> list[date]:
        """Chart points: each day, or each Monday-started week for long ranges."""
        if not self.weekly:
            return [self.since + timedelta(days=n) for n in range(self.days)]
        first = self.since - timedelta(days=self.since.weekday())
        return [first + timedelta(weeks=n) for n in range((self.until - first).days // 7 + 1)]

    def bucket_of(self, day: date) -> date:
        return day - timedelta(days=day.weekday()) if self.weekly else day

    def split(self) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
        """The whole Monday-to-Sunday weeks inside the range, as (first Monday,
        last Monday) or None, and the days outside them as inclusive spans."""
        first = self.since + timedelta(days=-self.since.weekday() % 7)  # first Monday on or after since
        last = self.until - timedelta(days=(self.until.weekday() + 1) % 7)  # last Sunday on or before until
        if last < first:
            return None, [(self.since, self.until)]
        loose = []
        if self.since < first:
            loose.append((self.since, first - timedelta(days=1)))
        if last < self.until:
            loose.append((last + timedelta(days=1), self.until))
        return (first, last - timedelta(days=6)), loose


def _parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-01-31.", {name: "Not a date."}, status=400) from None


def parse_range(args: Mapping[str, str], today: date | None = None,
                default_days: int = DEFAULT_RANGE_DAYS) -> DateRange:
    """since/until (YYYY-MM-DD, inclusive) or days=N ending today."""
    today = today or date.today()
    until = _parse_day(args["until"], "until") if args.get("until") else today
    if args.get("since"):
        since = _parse_day(args["since"], "since")
    else:
        try:
            days = int(args.get("days") or default_days)
        except ValueError:
            raise InvalidInput("days must be a whole number.", {"days": "Not a number."}, status=400) from None
        if not 1 <= days <= MAX_RANGE_DAYS:
            raise InvalidInput(f"days is between 1 and {MAX_RANGE_DAYS}.", {"days": "Out of range."}, status=400)
        since = until - timedelta(days=days - 1)
    if since > until:
        raise InvalidInput("since is after until.", {"since": "After until."}, status=400)
    if (until - since).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"A range spans at most {MAX_RANGE_DAYS} days.", {"since": "Range too long."}, status=400)
    return DateRange(since, until)


def in_range(column, window: DateRange):
    return and_(column >= window.since, column <= window.until)


def in_spans(column, spans: list[tuple[date, date]]):
    return or_(false(), *(and_(column >= first, column <= last) for first, last in spans))


def weekly_and_daily(window: DateRange, weekly_model, daily_model, *columns: str):
    """The same columns from the weekly rollup (whole weeks of the range) and
    the daily one (the other days), as two selects to combine."""
    weeks, loose = window.split()
    in_weeks = and_(weekly_model.week >= weeks[0], weekly_model.week <= weeks[1]) if weeks else false()
    return (select(*(getattr(weekly_model, c) for c in columns)).where(in_weeks),
            select(*(getattr(daily_model, c) for c in columns)).where(in_spans(daily_model.day, loose)))
