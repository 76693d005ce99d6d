"""``govgate memory suggest``: one pass over history, a report of the riskiest areas, a merged draft."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from govgate.globs import glob_set
from govgate.memory.mining import AreaFacts, HistoryMiner, MinedHistory, MiningOptions, TrackedPaths
from govgate.memory.model import Memory
from govgate.memory.people import git_mailmap
from govgate.model import Change
from govgate.sources import SourceRequest, open_source
from govgate.sources.base_files import tree_listing
from govgate.sources.git import GitRepo
from govgate.sources.history import HistoryOptions, HistorySource

SCHEMA = "govgate/memory-suggest/v1"
SHOWN_PER_SECTION = 10


@dataclass
class Mined:
    history: MinedHistory
    label: str
    repository: str | None
    problems: list[str]


def tracked_entries(memory: Memory | None) -> TrackedPaths:
    """The existing entries' globs, followed as units so their mined facts can be refreshed."""
    entries = memory.entries if memory else ()
    return TrackedPaths([str(i) for i in range(len(entries))], [glob_set(e.paths) for e in entries])


class Progress(Protocol):
    def tick(self, scanned: int, kept: int) -> None: ...

    def done(self) -> None: ...


def mine(repo: GitRepo, rev: str, options: MiningOptions, since: dt.datetime | None, tracked: TrackedPaths,
         progress: Callable[[HistorySource], Progress | None] | None = None) -> Mined:
    """``progress`` makes a progress display for the walk once its source knows how long it is."""
    source: HistorySource = open_source("history", SourceRequest(repo, history=HistoryOptions(rev=rev, since=since)))  # type: ignore[assignment]
    miner = HistoryMiner(options, tracked)
    shown = progress(source) if progress is not None else None
    for change in _counted(source.changes(), source, shown):
        miner.observe(change)
    if shown is not None:
        shown.done()
    existing = list(tree_listing(repo, source.range.tip))
    return Mined(miner.finish(git_mailmap(repo), existing), source.range.label, source.repo_url, list(source.problems))


def _counted(changes: Iterator[Change], source: HistorySource, progress: Progress | None) -> Iterator[Change]:
    for kept, change in enumerate(changes, start=1):
        yield change
        if progress is not None:
            progress.tick(source.scanned, kept)


def report_lines(mined: Mined) -> list[str]:
    history, options = mined.history, mined.history.options
    span = (f" from {history.oldest.date().isoformat()} to {history.newest.date().isoformat()}"
            if history.oldest and history.newest else "")
    lines = [f"govgate memory suggest: {mined.label}: {history.changes} changes{span}, as of "
             f"{options.now.date().isoformat()}",
             f"  knowers: at least {options.knower_share:.0%} of an area's changes, weighted by recency (half-life "
             f"{options.half_life_days:g} days); departed: no commit for {options.departed_days} days; areas with "
             f"{options.min_changes}+ changes"]
    sections = (("orphaned (every knower has left)", history.orphaned()),
                ("brittle (changes later reverted or fixed)", history.brittle()),
                ("bus factor 1 (one active knower)", history.bus_factor_one()))
    for title, areas in sections:
        lines += ["", f"{title}: {len(areas)}"]
        lines += [f"  {area_line(a)}" for a in areas[:SHOWN_PER_SECTION]]
        if len(areas) > SHOWN_PER_SECTION:
            lines.append(f"  … and {len(areas) - SHOWN_PER_SECTION} more (--format json lists all)")
    if history.sweeping:
        lines.append(f"\n({history.sweeping} changes touching more than {options.max_files} files counted for activity only)")
    lines += [f"! {p}" for p in mined.problems]
    return lines


def area_line(area: AreaFacts) -> str:
    brittle = f"{area.failed} reverted or fixed ({area.brittleness:.0%})"
    people = "; ".join(
        f"{p.handle} {share:.0%}" + (f" (left: last commit {p.last_active.date().isoformat()})" if p in area.departed
                                     and p.last_active else "")
        for p, share in area.knowers[:4])
    last = area.last_change.date().isoformat() if area.last_change else "?"
    return f"{area.glob}: {area.changes} changes, {brittle}, last {last}; knowers: {people or 'none'}"


def report_dict(mined: Mined, added: list[str], refreshed: list[str], written: str | None) -> dict[str, Any]:
    history, options = mined.history, mined.history.options
    return {
        "schema": SCHEMA,
        "range": mined.label,
        "repository": mined.repository,
        "as_of": options.now.isoformat(),
        "settings": {"departed_days": options.departed_days, "half_life_days": options.half_life_days,
                     "depth": options.depth, "min_changes": options.min_changes, "knower_share": options.knower_share,
                     "max_files": options.max_files},
        "changes": history.changes,
        "oldest": history.oldest.isoformat() if history.oldest else None,
        "newest": history.newest.isoformat() if history.newest else None,
        "orphaned": [a.to_dict() for a in history.orphaned()],
        "brittle": [a.to_dict() for a in history.brittle()],
        "bus_factor_1": [a.to_dict() for a in history.bus_factor_one()],
        "areas": len(history.reported()),
        "draft": {"file": written, "added": added, "refreshed": refreshed},
        "problems": mined.problems,
    }
