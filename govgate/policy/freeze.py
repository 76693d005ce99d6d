"""Release freezes: windows of time in which changes (to some paths, or AI-assisted ones) are frozen.

Three kinds of window, each in an IANA time zone:

* **one-off**: ``start`` and ``end`` (wall-clock times in the zone, or with an explicit offset);
* **recurring**: a cron ``cron`` start plus a ``duration`` (as gitploy writes it) or an ``end_cron``
  (the next match after the start, as GitLab writes it). A duration is wall-clock time: a weekend
  freeze from Friday 18:00 lasting 62h ends Monday 08:00 local time even across a DST change;
* **release**: from ``before`` a planned release date until ``after`` the release tag appears in
  git (the tag's own date: the tagger date of an annotated tag, else its commit's). Until the tag
  exists the window stays open: a release that slips keeps its freeze.

A window may be limited to ``paths`` and made stricter for AI-assisted changes: ``only`` (it
freezes only them), ``before``/``after`` (it starts earlier and ends later for them) and
``emergency: false`` (they cannot take the emergency path).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from govgate.globs import glob_set
from govgate.policy.cron import CronSchedule, wall_clock

RECURRING_HORIZON = dt.timedelta(days=366)  # how far back a recurring start, or ahead its end_cron, is looked for
# Weeks, days, hours, minutes, each optional, at least one: the schema's pattern (plain groups, so that
# editors' ECMAScript engines read it too) and the parser's.
DURATION_PATTERN = r"^(?=\d)(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$"
_DURATION = re.compile(DURATION_PATTERN)
ZERO = dt.timedelta(0)


class WindowKind(str, enum.Enum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"
    RELEASE = "release"


@dataclass(frozen=True)
class AiStricter:
    only: bool = False  # the window freezes AI-assisted changes only
    before: dt.timedelta = ZERO  # starts this much earlier for AI-assisted changes
    after: dt.timedelta = ZERO  # ends this much later for them
    emergency: bool = True  # whether they may take the emergency path


@dataclass(frozen=True)
class Span:
    start: dt.datetime  # aware, UTC
    end: dt.datetime | None  # None: open until the release tag appears


@dataclass(frozen=True)
class FreezeWindow:
    id: str
    kind: WindowKind
    zone: str
    paths: tuple[str, ...] = ()
    start: dt.datetime | None = None  # one-off (aware)
    end: dt.datetime | None = None
    cron: CronSchedule | None = None  # recurring
    duration: dt.timedelta | None = None
    end_cron: CronSchedule | None = None
    planned: dt.datetime | None = None  # release (aware)
    tag: str | None = None
    tag_time: dt.datetime | None = None  # when the tag appeared in git; None: not (yet) found
    before: dt.timedelta = ZERO
    after: dt.timedelta = ZERO
    ai: AiStricter = field(default_factory=AiStricter)
    emergency: bool = True
    description: str = ""
    line: int | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def covers(self, paths: Iterable[str]) -> bool:
        if not self.paths:
            return True
        matches = glob_set(self.paths)
        return any(matches(p) for p in paths)

    def span_at(self, at: dt.datetime, ai_assisted: bool) -> Span | None:
        """The occurrence of this window that holds ``at`` for a change with this AI status, or None."""
        if self.ai.only and not ai_assisted:
            return None
        early, late = (self.ai.before, self.ai.after) if ai_assisted else (ZERO, ZERO)
        span = self._span_near(at + early)
        if span is None:
            return None
        start = span.start - early
        end = span.end + late if span.end is not None else None
        return Span(start, end) if start <= at and (end is None or at < end) else None

    def _span_near(self, at: dt.datetime) -> Span | None:
        """The occurrence that started last at or before ``at`` (it may already have ended)."""
        if self.kind is WindowKind.ONE_OFF:
            assert self.start is not None and self.end is not None
            return Span(self.start, self.end) if self.start <= at else None
        if self.kind is WindowKind.RELEASE:
            assert self.planned is not None
            opened = self.planned - self.before
            closed = self.tag_time + self.after if self.tag_time is not None else None
            return Span(opened, closed) if opened <= at else None
        assert self.cron is not None
        started = self.cron.latest_start(self.tz, at, RECURRING_HORIZON)
        if started is None:
            return None
        return Span(started, self._recurring_end(started))

    def _recurring_end(self, started: dt.datetime) -> dt.datetime | None:
        if self.end_cron is not None:
            return self.end_cron.next_start(self.tz, started, RECURRING_HORIZON)
        assert self.duration is not None
        local = started.astimezone(self.tz).replace(tzinfo=None)
        return wall_clock(local + self.duration, self.tz)

    def describe(self) -> str:
        if self.kind is WindowKind.ONE_OFF:
            assert self.start is not None and self.end is not None
            text = f"from {local_text(self.start, self.tz)} to {local_text(self.end, self.tz)} ({self.zone})"
        elif self.kind is WindowKind.RECURRING:
            assert self.cron is not None
            until = f"until the next `{self.end_cron.text}`" if self.end_cron else f"for {duration_text(self.duration)}"
            text = f"every `{self.cron.text}` {until} ({self.zone})"
        else:
            assert self.planned is not None
            text = (f"release {self.tag}: from {duration_text(self.before)} before {local_text(self.planned, self.tz)} "
                    f"({self.zone}) until {duration_text(self.after)} after the tag appears")
        if self.paths:
            text += " for changes touching " + ", ".join(self.paths)
        ai = self.ai
        if ai.only:
            text += "; AI-assisted changes only"
        if ai.before or ai.after:
            text += f"; for AI-assisted changes {duration_text(ai.before)} earlier and {duration_text(ai.after)} later"
        if not self.emergency:
            text += "; no emergency path"
        elif not ai.emergency:
            text += "; no emergency path for AI-assisted changes"
        return text


@dataclass(frozen=True)
class EmergencyPath:
    """How a frozen change may still go in: a label plus verified approvals by named people."""

    label: str
    approvers: tuple[str, ...]  # as written (@login)
    approvals: int = 1

    def describe(self) -> str:
        count = f"{self.approvals} verified approval{'s' if self.approvals != 1 else ''}"
        return f"label `{self.label}` and {count} by {' or '.join(self.approvers)}"


@dataclass(frozen=True)
class Freezes:
    windows: tuple[FreezeWindow, ...]
    emergency: EmergencyPath | None = None

    def release_tags(self) -> list[str]:
        return sorted({w.tag for w in self.windows if w.tag})

    def with_tag_times(self, times: Mapping[str, dt.datetime]) -> Freezes:
        """The same freezes with the time each release tag appeared (absent tags stay open)."""
        windows = tuple(replace(w, tag_time=times.get(w.tag)) if w.tag else w for w in self.windows)
        return replace(self, windows=windows)


def parse_duration(text: str) -> dt.timedelta | None:
    match = _DURATION.match(text.strip())
    if not match:
        return None
    weeks, days, hours, minutes = (int(value or 0) for value in match.groups())
    return dt.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def duration_text(value: dt.timedelta | None) -> str:
    """Whole days as days (2d), anything else in hours and minutes (62h, 1h30m)."""
    if not value:
        return "0h"
    minutes = int(value.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    hours, minutes = divmod(minutes, 60)
    return "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m")) if n)


def local_text(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
