"""Build Freezes from a validated ``freezes`` block, with what a schema cannot check: kinds that
exclude each other, real time zones, readable cron expressions, windows that end after they start.

Every problem names the policy file, line and key, like the schema's own errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from govgate.errors import PolicyError
from govgate.policy.checks import duplicate_ids
from govgate.policy.cron import CronError, CronSchedule, wall_clock
from govgate.policy.freeze import ZERO, AiStricter, EmergencyPath, Freezes, FreezeWindow, WindowKind, parse_duration

Positions = dict[tuple[Any, ...], int]
_KIND_KEYS = {WindowKind.ONE_OFF: ("start", "end"), WindowKind.RECURRING: ("cron",), WindowKind.RELEASE: ("release",)}


class _Reader:
    def __init__(self, positions: Positions, source: str, index: int) -> None:
        self.positions, self.source, self.index = positions, source, index

    def fail(self, key: tuple[Any, ...], message: str) -> PolicyError:
        path = ("freezes", "windows", self.index, *key)
        line = self.positions.get(path, self.positions.get(path[:3], 1))
        where = f"freezes.windows[{self.index}]" + "".join(f".{k}" for k in key)
        return PolicyError(f"{self.source}:{line}: {where}: {message}")

    def duration(self, raw: dict[str, Any], *key: str) -> dt.timedelta:
        value: Any = raw
        for part in key:
            value = (value or {}).get(part)
        if value is None:
            return ZERO
        parsed = parse_duration(str(value))
        if parsed is None:
            raise self.fail(key, f"{value!r} is not a duration (write e.g. 62h, 2d, 1d12h, 90m)")
        return parsed


def build_freezes(raw: dict[str, Any], positions: Positions, source: str) -> Freezes:
    duplicates = duplicate_ids(raw.get("windows"), ("freezes", "windows"), "window", positions, source)
    if duplicates:
        raise PolicyError("\n".join(text for _, text in sorted(duplicates)))
    windows = tuple(_window(w, _Reader(positions, source, i)) for i, w in enumerate(raw.get("windows") or []))
    emergency = raw.get("emergency")
    path = EmergencyPath(label=emergency["label"], approvers=tuple(emergency["approvers"]),
                         approvals=int(emergency.get("approvals", 1))) if emergency else None
    return Freezes(windows=windows, emergency=path)


def _window(raw: dict[str, Any], reader: _Reader) -> FreezeWindow:
    kinds = [kind for kind, keys in _KIND_KEYS.items() if any(k in raw for k in keys)]
    if len(kinds) != 1:
        found = " and ".join(k.value for k in kinds) or "none"
        raise reader.fail((), f"give exactly one kind of window: start+end (one-off), cron+duration or cron+end_cron "
                              f"(recurring), or release (found: {found})")
    kind = kinds[0]
    zone = _zone(raw.get("timezone", "UTC"), reader)
    window = FreezeWindow(
        id=raw["id"], kind=kind, zone=zone.key, paths=tuple(raw.get("paths") or ()), description=raw.get("description", ""),
        ai=AiStricter(only=bool((raw.get("ai_assisted") or {}).get("only", False)),
                      before=reader.duration(raw, "ai_assisted", "before"), after=reader.duration(raw, "ai_assisted", "after"),
                      emergency=bool((raw.get("ai_assisted") or {}).get("emergency", True))),
        emergency=bool(raw.get("emergency", True)), line=reader.positions.get(("freezes", "windows", reader.index)),
    )
    if kind is WindowKind.ONE_OFF:
        return _one_off(raw, window, zone, reader)
    if kind is WindowKind.RECURRING:
        return _recurring(raw, window, reader)
    return _release(raw, window, zone, reader)


def _one_off(raw: dict[str, Any], window: FreezeWindow, zone: ZoneInfo, reader: _Reader) -> FreezeWindow:
    _only(raw, ("start", "end"), reader)
    missing = [k for k in ("start", "end") if k not in raw]
    if missing:
        raise reader.fail((), f"a one-off window needs both start and end (missing: {', '.join(missing)})")
    start, end = _moment(raw["start"], zone, reader, "start"), _moment(raw["end"], zone, reader, "end")
    if end <= start:
        raise reader.fail(("end",), f"{raw['end']} is not after start {raw['start']}")
    return _with(window, start=start, end=end)


def _recurring(raw: dict[str, Any], window: FreezeWindow, reader: _Reader) -> FreezeWindow:
    _only(raw, ("cron", "duration", "end_cron"), reader)
    if ("duration" in raw) == ("end_cron" in raw):
        raise reader.fail(("cron",), "a recurring window needs either duration (e.g. 62h) or end_cron, not both")
    start = _cron(raw["cron"], reader, "cron")
    if "end_cron" in raw:
        return _with(window, cron=start, end_cron=_cron(raw["end_cron"], reader, "end_cron"))
    duration = reader.duration(raw, "duration")
    if duration <= ZERO:
        raise reader.fail(("duration",), "must be longer than zero")
    return _with(window, cron=start, duration=duration)


def _release(raw: dict[str, Any], window: FreezeWindow, zone: ZoneInfo, reader: _Reader) -> FreezeWindow:
    _only(raw, ("release", "before", "after"), reader)
    release = raw["release"]
    planned = _moment(release["planned"], zone, reader, "release", "planned")
    return _with(window, planned=planned, tag=release["tag"], before=reader.duration(raw, "before"),
                 after=reader.duration(raw, "after"))


def _only(raw: dict[str, Any], allowed: tuple[str, ...], reader: _Reader) -> None:
    timing = ("start", "end", "cron", "duration", "end_cron", "release", "before", "after")
    stray = [k for k in timing if k in raw and k not in allowed]
    if stray:
        raise reader.fail((stray[0],), f"does not belong to this kind of window (it uses {', '.join(allowed)})")


def _with(window: FreezeWindow, **values: Any) -> FreezeWindow:
    from dataclasses import replace

    return replace(window, **values)


def _zone(name: str, reader: _Reader) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.fail(("timezone",), f"{name!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)") from None


def _cron(text: str, reader: _Reader, key: str) -> CronSchedule:
    try:
        return CronSchedule.parse(text)
    except CronError as exc:
        raise reader.fail((key,), f"{text!r}: {exc}") from None


def _moment(text: str, zone: ZoneInfo, reader: _Reader, *key: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise reader.fail(key, f"{text!r} is not a date and time (write 2026-12-18T18:00)") from None
    return moment.astimezone(dt.UTC) if moment.tzinfo else wall_clock(moment, zone)
