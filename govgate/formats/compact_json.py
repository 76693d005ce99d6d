"""Compact JSON text for output lines: orjson when it is installed, else the standard library, same bytes.

``compact(value)`` is ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, byte for
byte, whichever library writes it. orjson (optional: ``pip install 'govgate[fast]'``) serialises
an audit's change objects several times faster. Where the two disagree:

* floats between 1e-10 and 1e-4: orjson writes ``0.00001`` and ``3e-7`` where Python writes
  ``1e-05`` and ``3e-07``. orjson's output is searched for such a number (substring tests first)
  and rewritten by the standard library when one is there;
* NaN and infinities (a YAML file can hold ``.nan``): orjson writes ``null``, the standard library
  ``NaN``, which is not JSON. Both paths write ``null``;
* types JSON has no word for (dates from YAML, bytes, dataclasses): orjson is told not to convert
  them, so both raise as the standard library always did; and values orjson refuses (a lone
  surrogate, an integer beyond 64 bits) go to the standard library.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

try:  # optional: wheels exist for every common platform, and govgate works without it
    import orjson
except ImportError:  # pragma: no cover - the standard-library path is tested by switching USE_ORJSON off
    orjson = None  # type: ignore[assignment]

USE_ORJSON = orjson is not None
_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS) if orjson is not None else 0
_ONE_DIGIT_EXPONENT = re.compile(rb"e-\d(?!\d)")  # orjson's 3e-7 (Python: 3e-07)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def compact(value: Any) -> str:
    if USE_ORJSON:
        try:
            raw = orjson.dumps(value, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError included
            return _standard(value)
        if not _orjson_only_float(raw):
            return raw.decode()
    return _standard(value)


def _orjson_only_float(raw: bytes) -> bool:
    """Whether orjson wrote a float the way only it does (a string that merely looks so costs a rewrite, nothing more)."""
    if b"e-" in raw and _ONE_DIGIT_EXPONENT.search(raw):
        return True
    at = raw.find(b"0.0000")  # orjson's 0.00001 (Python: 1e-05)
    while at >= 0:
        before = raw[at - 1:at] if at else b":"
        if before == b"-":
            before = raw[at - 2:at - 1] if at > 1 else b":"
        if before in (b":", b",", b"["):
            return True
        at = raw.find(b"0.0000", at + 1)
    return False


def _standard(value: Any) -> str:
    try:
        return _ENCODE(value)
    except ValueError:  # a NaN or an infinity somewhere: null, as orjson writes it
        return _ENCODE(_finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
