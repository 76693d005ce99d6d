"""The fast JSON path writes exactly what the standard library writes, for every value an output can hold."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.formats import compact_json

pytestmark = pytest.mark.skipif(compact_json.orjson is None, reason="orjson is not installed: only one path to test")

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.sampled_from([1e-5, -3e-7, 9.9e-5, 1e-4, 1e-10, 1e16, 0.1 + 0.2, 16.0])
            | st.text(st.characters(codec=None, exclude_categories=()), max_size=20))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                       max_leaves=25)


def _both(value: object) -> tuple[str | type, str | type]:
    results = []
    for use in (True, False):
        compact_json.USE_ORJSON = use
        try:
            results.append(compact_json.compact(value))
        except Exception as exc:  # the same failure on both paths is part of the contract
            results.append(type(exc))
        finally:
            compact_json.USE_ORJSON = compact_json.orjson is not None
    return results[0], results[1]


def _has_non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False


@settings(max_examples=400, deadline=None, database=None)
@given(_values)
def test_orjson_and_standard_library_write_the_same_bytes(value: object) -> None:
    fast, standard = _both(value)
    assert fast == standard
    if isinstance(standard, str) and not _has_non_finite(value):
        assert standard == json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # as before


@pytest.mark.parametrize("value", [
    {"score": 1e-05}, [0.000099, -1.5e-7], {"a": {"b": [1e-9]}},  # orjson would write 0.00001
    {"weight": float("nan")}, [float("inf"), -math.inf],  # NaN is not JSON: null on both paths
    {"s": "\x1f\u2028\x7f\U0001f916 </script>"}, {"big": 2**80},
])
def test_values_where_the_libraries_differ(value: object) -> None:
    fast, standard = _both(value)
    assert fast == standard and isinstance(fast, str)
    assert "NaN" not in fast and "Infinity" not in fast
    json.loads(fast)  # always valid JSON


@pytest.mark.parametrize("value", [{"when": dt.date(2026, 1, 1)}, {"raw": b"x"}, {"lone": "\ud800"}])
def test_values_json_cannot_hold_fail_alike(value: object) -> None:
    fast, standard = _both(value)
    assert fast == standard  # both raise (or both write) the same way
