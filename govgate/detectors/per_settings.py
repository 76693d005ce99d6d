"""Work a detector does on its settings block once per policy rather than once per change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def once_per_settings(build: Callable[[Mapping[str, Any]], T]) -> Callable[[Mapping[str, Any]], T]:
    """``build(settings)``, made again only when another settings block comes: a run hands every
    change the same block object (or the same empty one), so an audit builds it once."""
    last: list[tuple[Mapping[str, Any], T]] = []

    def cached(settings: Mapping[str, Any]) -> T:
        if last and last[0][0] is settings:
            return last[0][1]
        value = build(settings)
        last[:] = [(settings, value)]
        return value

    return cached
