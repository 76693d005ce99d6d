"""Reading JSON from webhook payloads and API answers without trusting its shape.

A payload field may hold any JSON value (a fuzzer, a proxy or a forged event file can put
``true`` where an object belongs). These readers return the expected kind or an empty one,
so a malformed field reads as absent instead of crashing with "internal error".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}


def obj(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else _EMPTY


def objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of ``value`` when it is a JSON array (other items dropped), else none."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def text(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None (a number is not a sha, a login or a ref)."""
    return value if isinstance(value, str) and value else None


def integer(value: Any) -> int | None:
    """``value`` as an int when it is one or a string of one, else None (JSON allows Infinity and NaN)."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None
