"""PLACEHOLDER: being written; finds nothing yet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from govgate.model import Change, Evidence


class _Placeholder:
    name = "github_reviews"
    config_schema: Mapping[str, Any] | None = None

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        return []


DETECTOR = _Placeholder()
