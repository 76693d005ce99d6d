"""An incremental audit: the cached part of a history from the cache, only the rest from git.

The walk goes down the audited branch's first-parent line from its tip. Where the cache holds a
usable row for a commit, the row is taken and its first-parent link followed, with no git at
all. Where it does not, ``git rev-list --first-parent`` (no diffs) counts how many commits in a
row are missing, and exactly those are read (``git log --max-count``), judged (in workers when
they are many) and stored. So a re-audit with nothing new reads one commit from git, and one
after N new changes reads and judges those N.

The stream is the very one a cold audit makes: the same records in the same order, the filters
applied the same way (``--since`` ends the walk at the first older commit, ``--until`` passes
over newer ones, ``--path`` over changes that touch no matching file), and the failure tracker
and summary still see every change, so later reverts and fixes of cached changes are found.

What is never cached, so that a warm run says exactly what a cold one says: changes that came
with problems (missing objects, unreadable contents), and anything read after the history walk
ran into damage. Partial and shallow clones are audited without the cache (their contents can
change between runs without any commit changing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from govgate.audit.cache import JUDGED, OUTSIDE_PATHS, OUTSIDE_UNTIL, AuditCache, Row
from govgate.audit.failures import ChangeRefs, references_of
from govgate.audit.judging import JudgeSettings, judged
from govgate.audit.parallel import choose_jobs
from govgate.audit.record import ChangeRecord
from govgate.model import Change, Commit, parse_moment
from govgate.sources.history import HistorySource
from govgate.sources.history_walk import GitStream


class IncrementalAudit:
    def __init__(self, source: HistorySource, cache: AuditCache, settings: JudgeSettings, jobs: int,
                 prepare: Callable[[Iterator[Change]], Iterator[Change]] = iter, enricher: Any | None = None) -> None:
        """``prepare``: what the audit does to each change it reads before judging it (its memory and clock)."""
        self.source = source
        self.cache = cache
        self.settings = settings
        self.jobs = jobs
        self.prepare = prepare
        self.enricher = enricher
        self.from_cache = 0  # first-parent commits taken from the cache
        self._storing = True

    @property
    def scanned(self) -> int:
        return self.from_cache + self.source.scanned

    def records(self) -> Iterator[tuple[ChangeRecord, ChangeRefs]]:
        source = self.source
        exclude = set(source.range.exclude)
        since, until = source.options.since, source.options.until
        prints_json = self.settings.prints_json
        source.on_skip = self._skipped
        sha: str | None = source.range.tip
        while sha is not None and sha not in exclude:
            for row in self.cache.walk(sha, prints_json):
                if not self._usable(row):
                    break
                self.from_cache += 1
                when = parse_moment(row.committed)
                if since is not None and when is not None and when < since:
                    return
                sha = row.parent
                if until is not None and when is not None and when > until:
                    continue
                if row.kind == JUDGED:
                    yield row.record, row.refs  # type: ignore[misc]
                if sha is None or sha in exclude:
                    return
            if sha is None or sha in exclude:
                return
            count = self._missing_from(sha, exclude)
            if count == 0:
                continue  # another audit stored it meanwhile
            scanned = source.scanned
            yield from self._read(sha, count)
            last = source.last_scanned
            if count is None or source.reached_since or last is None or source.scanned - scanned < count:
                return  # the history (or the --since window) ended inside what was read
            sha = last.parents[0] if last.parents else None

    # -- reading what the cache lacks --------------------------------------------------------------

    def _missing_from(self, sha: str, exclude: set[str]) -> int | None:
        """How many first-parent commits from ``sha`` down the cache lacks (None: all of them)."""
        if self.cache.empty:
            return None
        stream = GitStream(self.source.repo, ["rev-list", "--first-parent", sha, "--not", *exclude, "--"])
        count = 0
        try:
            pending = b""
            for chunk in stream.chunks():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    row = self.cache.get(line.decode(), self.settings.prints_json)
                    if row is not None and self._usable(row):
                        return count
                    count += 1
        finally:
            stream.close()
        return count

    def _read(self, start: str, count: int | None) -> Iterator[tuple[ChangeRecord, ChangeRefs]]:
        source = self.source
        changes: Iterator[Change] = self.prepare(source.changes(start=start, limit=count))
        if self.enricher is not None:
            changes = self.enricher.enrich(changes)
        items = ((change, (references_of(change), _link(change))) for change in changes)
        # The stretch to read: counted when part of the history is cached, else the whole walk's estimate.
        jobs = choose_jobs(self.jobs, count if count is not None else source.estimate())
        for record, (refs, link) in judged(items, self.settings, source.repo, jobs):
            if self._storing and source.troubled:
                self._storing = False  # from here on a cold run would also report the damage: keep nothing
            if self._storing and not record.problems:
                self.cache.put(*link, JUDGED, self._github_digest(record.pull_request), record, refs)
            yield record, refs
        if source.troubled:
            self._storing = False

    def _skipped(self, commit: Commit, reason: str) -> None:
        if self._storing:
            kind = OUTSIDE_UNTIL if reason == "until" else OUTSIDE_PATHS
            self.cache.put(commit.sha, commit.parents[0] if commit.parents else None, commit.committed_at, kind)

    # -- rows ----------------------------------------------------------------------------------------

    def _usable(self, row: Row) -> bool:
        if row.kind == OUTSIDE_UNTIL:
            until = self.source.options.until
            when = parse_moment(row.committed)
            return until is not None and when is not None and when > until  # still passed over
        if row.kind == JUDGED:
            if self.settings.prints_json and not (row.record and row.record.check_json):
                return False  # judged by a run that did not write check objects
            if self.enricher is not None and (
                    self.enricher.failed  # a cold run judges the rest without GitHub too
                    or row.github != self._github_digest(row.record.pull_request if row.record else None)):
                return False  # GitHub's data for its pull request is not what it was judged with
        return True

    def _github_digest(self, number: int | None) -> str | None:
        if self.enricher is None or number is None:
            return None
        data = self.enricher.cache.get(number)
        if data is None:
            return "absent"
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def _link(change: Change) -> tuple[str, str | None, str]:
    return change.head, change.base, change.date or ""

