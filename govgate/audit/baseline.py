"""History before the audited range: who knew each path before it, so that "new to it" and the
knowledge map do not start from nothing.

An audit of the last 90 days used to call everyone who had not changed a path *within those 90
days* new to it. After the range is judged, the first-parent history before it is read (never
judged, never counted): ``A`` for ``A..B``, the commits older than ``--since``, back ``days``
before the oldest audited change (default three years: with knowledge halving every year, older
changes weigh little). The same ``--path`` filter applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from govgate.audit.memory_context import MemoryTimeline
from govgate.audit.summary import AuditSummary
from govgate.errors import GitError
from govgate.memory.people import git_mailmap
from govgate.model import Change
from govgate.sources import SourceRequest, open_source
from govgate.sources.base_files import tree_listing
from govgate.sources.git import GitRepo
from govgate.sources.history import HistoryOptions, HistorySource


def complete_history(summary: AuditSummary, source: HistorySource, days: int, timeline: MemoryTimeline) -> None:
    """Feed the baseline into the summary, then settle the knowledge map (people, areas that still exist)
    and check the memory file at the tip against it (stale entries, knowers who left)."""
    repo = source.repo
    older: list[str] = []
    for change in history_before(repo, source, days, older):
        summary.add_older(change)
    summary.problems.extend([*timeline.problems, *(f"history before the range: {p}" for p in older)])
    try:
        files: list[str] | None = list(tree_listing(repo, source.range.tip))
    except GitError as exc:
        summary.problems.append(f"the files at the tip cannot be listed ({exc.message}): the knowledge map keeps areas gone since")
        files = None
    summary.memory.finish(git_mailmap(repo), files, timeline.memory_at_tip())


def history_before(repo: GitRepo, source: HistorySource, days: int, problems: list[str]) -> Iterator[Change]:
    if days <= 0:
        return
    options = source.options
    start = _start(repo, source)
    oldest = _oldest(source)
    if start is None or oldest is None:
        return
    wanted = HistoryOptions(rev=start, since=oldest - dt.timedelta(days=days), paths=options.paths)
    older: HistorySource = open_source("history", SourceRequest(repo, history=wanted))  # type: ignore[assignment]
    try:
        yield from older.changes()
    finally:
        problems.extend(older.problems)
        older.close()


def _start(repo: GitRepo, source: HistorySource) -> str | None:
    """The newest first-parent commit before the range, or None when the range reaches the root."""
    if source.range.exclude:
        return source.range.exclude[0]
    since = source.options.since
    if since is None:
        return None
    found = repo.try_run("rev-list", "--first-parent", "-1", f"--until={int(since.timestamp())}", source.range.tip)
    return found.strip() or None if found else None


def _oldest(source: HistorySource) -> dt.datetime | None:
    since = source.options.since
    if since is not None:
        return since
    if not source.range.exclude:
        return None
    found = source.repo.try_run("log", "-1", "--format=%cI", source.range.exclude[0])
    try:
        return dt.datetime.fromisoformat(found.strip()) if found else None
    except ValueError:
        return None
