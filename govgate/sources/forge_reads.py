"""Reads of a forge API that fail closed, or, when the trusted policy allows, open and loudly.

Every verified read of a forge source goes through ``ForgeReads.call(what, read)``. When the API
cannot be read the gate fails closed (exit 2, nothing judged) unless the policy says
``<forge>: {on_api_error: fail_open}``; then the change is judged without that evidence, each read
that was skipped is named in ``problems`` (said with the verdict), and after the first failure no
further request is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from govgate.errors import SourceError
from govgate.sources.forge_api import ForgeApiError

C = TypeVar("C")
T = TypeVar("T")


@dataclass
class ForgeReads(Generic[C]):
    client: C
    forge: str  # "GitLab"
    setting: str  # the policy block: "gitlab"
    fail_open: bool
    problems: list[str] = field(default_factory=list)
    down: str | None = None

    def call(self, what: str, read: Callable[[C], T]) -> T | None:
        if self.down is not None:
            self.problems.append(f"NOT VERIFIED: {what} ({self.forge} API unavailable, {self.setting}.on_api_error: fail_open)")
            return None
        try:
            return read(self.client)
        except ForgeApiError as exc:
            if not self.fail_open:
                raise SourceError(
                    f"{exc.message} (while reading {what}); failing closed: nothing was judged",
                    (exc.hint + "; " if exc.hint else "")
                    + f"to judge without verified {self.forge} evidence instead, set "
                      f"`{self.setting}: {{on_api_error: fail_open}}` in the policy",
                ) from None
            self.down = exc.message
            self.problems.append(
                f"NOT VERIFIED: {what}: {exc.message}; judged WITHOUT verified {self.forge} evidence "
                f"because the policy sets {self.setting}.on_api_error: fail_open"
            )
            return None
