"""Change sources: where a Change comes from (a local git range, a GitHub event, history).

Each source is one module implementing ChangeSource; the CLI picks one, the engine never
knows which.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from govgate.model import Change


class ChangeSource(Protocol):
    def changes(self) -> Iterator[Change]:
        """Yield the changes to judge, one at a time, so that history can stream."""
        ...

    def close(self) -> None: ...
