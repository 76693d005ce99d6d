"""Five-field cron schedules (minute hour day-of-month month day-of-week), matched in a time zone.

Written here rather than taken from a library: a freeze needs the *latest* start at or before a
moment (is this moment inside a window that began then?), which the common Python cron libraries
answer only by stepping minute by minute, and each would be a dependency for forty lines.

Syntax is Vixie cron's, as GitLab deploy freezes and gitploy accept it: ``*``, numbers, ranges
``a-b``, steps ``*/n`` and ``a-b/n``, lists ``a,b``, month and weekday names (``JAN``, ``MON``),
``7`` for Sunday, and ``@yearly``/``@annually``/``@monthly``/``@weekly``/``@daily``/``@midnight``/
``@hourly``. When both day fields are restricted a day matching either one matches (Vixie's rule).

Times are wall-clock times in the schedule's zone. A start that falls in a daylight-saving gap
(02:30 on the night clocks jump from 02:00 to 03:00) happens at the same offset from the gap's
start, after it (03:30); a start in a repeated hour happens at its first occurrence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_WEEKDAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_DST_MARGIN = dt.timedelta(hours=3)  # more than any daylight-saving shift
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}), ("month", 1, 12, _MONTHS),
           ("day of week", 0, 7, _WEEKDAYS))


class CronError(ValueError):
    """A cron expression that cannot be read; the message says which field and why."""


@dataclass(frozen=True)
class CronSchedule:
    text: str
    minutes: tuple[int, ...]  # ascending
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, text: str) -> CronSchedule:
        expression = _MACROS.get(text.strip().lower(), text.strip())
        fields = expression.split()
        if len(fields) != 5:
            raise CronError(f"expected 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}")
        values = [_field(raw, *spec) for raw, spec in zip(fields, _FIELDS, strict=True)]
        weekdays = frozenset(day % 7 for day in values[4])
        return cls(
            text=text.strip(), minutes=tuple(sorted(values[0])), hours=tuple(sorted(values[1])), days=frozenset(values[2]),
            months=frozenset(values[3]), weekdays=weekdays,
            days_restricted=fields[2] != "*", weekdays_restricted=fields[4] != "*",
        )

    def matches_day(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = day.isoweekday() % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays

    def latest_start(self, zone: ZoneInfo, at: dt.datetime, horizon: dt.timedelta) -> dt.datetime | None:
        """The latest start at or before ``at`` (aware) and no earlier than ``at - horizon``, as wall-clock time."""
        local_at = at.astimezone(zone).replace(tzinfo=None)
        earliest = at - horizon
        day = local_at.date()
        bound = local_at + _DST_MARGIN  # wall-clock starts later than this cannot be at or before ``at``
        while True:
            if self.matches_day(day):
                for start in self._starts_on(day, zone, newest_first=True, not_after=bound):
                    if start <= at:
                        return start if start >= earliest else None
            if dt.datetime.combine(day, dt.time.min, zone) < earliest:
                return None
            day -= dt.timedelta(days=1)

    def next_start(self, zone: ZoneInfo, after: dt.datetime, horizon: dt.timedelta) -> dt.datetime | None:
        """The first start strictly after ``after`` and no later than ``after + horizon``."""
        latest = after + horizon
        day = after.astimezone(zone).date()
        while dt.datetime.combine(day, dt.time.min, zone) <= latest:
            if self.matches_day(day):
                for start in self._starts_on(day, zone, newest_first=False):
                    if start > after:
                        return start if start <= latest else None
            day += dt.timedelta(days=1)
        return None

    def _starts_on(self, day: dt.date, zone: ZoneInfo, *, newest_first: bool,
                   not_after: dt.datetime | None = None) -> Iterator[dt.datetime]:
        hours = reversed(self.hours) if newest_first else iter(self.hours)
        for hour in hours:
            minutes = reversed(self.minutes) if newest_first else iter(self.minutes)
            for minute in minutes:
                local = dt.datetime(day.year, day.month, day.day, hour, minute)
                if not_after is None or local <= not_after:
                    yield wall_clock(local, zone)


def wall_clock(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A naive wall-clock time in ``zone`` as an aware UTC moment (gap: shifted forward; repeat: first)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def _field(raw: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    found: set[int] = set()
    for part in raw.split(","):
        body, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{name}: step {step_text!r} in {part!r} must be a positive number")
            step = int(step_text)
        if body == "*":
            first, last = low, high if name != "day of week" else 6
        elif "-" in body:
            start_text, _, end_text = body.partition("-")
            first, last = _value(start_text, name, low, high, names), _value(end_text, name, low, high, names)
            if first > last:
                raise CronError(f"{name}: range {body!r} runs backwards")
        else:
            first = _value(body, name, low, high, names)
            last = high if slash else first
        found.update(range(first, last + 1, step))
    return found


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    lowered = text.strip().lower()
    if lowered in names:
        return names[lowered]
    if not lowered.isdigit():
        raise CronError(f"{name}: {text!r} is not a number" + (" or a name" if names else ""))
    value = int(lowered)
    if not low <= value <= high:
        raise CronError(f"{name}: {value} is outside {low}-{high}")
    return value
