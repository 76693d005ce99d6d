"""The audit's progress bar (click's, on stderr, only when stderr is a terminal).

Its total is the number of first-parent commits the walk will look at within --since/--until
(one ``git rev-list --count``, no tree diffs), and it advances as the walk looks at each one,
so it ends at 100% whatever the filters. --path cannot be counted ahead without diffing every
commit (the work the audit itself does), so the changes it keeps are shown beside the bar.
"""

from __future__ import annotations

import sys
import time

import click

REDRAW_SECONDS = 0.1


class AuditProgress:
    def __init__(self, total: int) -> None:
        self.total = total
        self._bar = click.progressbar(length=total, label="audit", file=sys.stderr, show_pos=True, show_eta=True,
                                      item_show_func=self._kept)
        self._bar.__enter__()
        self._scanned = 0
        self._kept_count = 0
        self._drawn = 0.0

    def tick(self, scanned: int, kept: int) -> None:
        """``scanned`` first-parent commits looked at so far, ``kept`` of them audited."""
        self._kept_count = kept
        now = time.monotonic()
        if now - self._drawn >= REDRAW_SECONDS:
            self._drawn = now
            self._advance(min(scanned, self.total))

    def done(self) -> None:
        self._advance(self.total)  # the walk ended: every commit in the window was looked at
        self._bar.__exit__(None, None, None)

    def _advance(self, position: int) -> None:
        steps = max(0, position - self._scanned)
        self._scanned = max(self._scanned, position)
        if steps:
            self._bar.update(steps, self._kept_count)
        else:  # click redraws only on a step; the count of changes still moved
            self._bar.current_item = self._kept_count
            self._bar.render_progress()

    @staticmethod
    def _kept(kept: int | None) -> str | None:
        return None if kept is None else f"{kept:,} change{'s' if kept != 1 else ''} audited"
