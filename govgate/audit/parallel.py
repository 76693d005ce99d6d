"""Judging changes in worker processes, in order, with bounded memory.

The main process only reads history and merges: it sends each batch of changes to a worker
and takes back finished ChangeRecords (the check object already written as text, and the few
facts the summary counts), so its own cost per change is reading, sending and counting, and the
wall time falls with the number of cores. A worker does the rest: blob sizes, contents,
detectors, the engine and the JSON text, with its own ``git cat-file`` processes. Workers are
started fresh (``spawn``: a forked child would inherit the pipes of the main process's git
processes and keep them from ever seeing end-of-file).

A change travels without its content loaders (they are bound to the main process's pipes) and
is dropped by the main process once sent. Results are taken back in order; at most
``jobs * IN_FLIGHT`` batches are outstanding, so the history is never read further ahead.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from govgate.audit.judging import Judge, JudgeSettings
from govgate.audit.record import ChangeRecord
from govgate.audit.thresholds import MAX_AUTO_JOBS, PARALLEL_FROM
from govgate.model import Change


def choose_jobs(requested: int, to_judge: int | None) -> int:
    """Worker processes for ``to_judge`` changes (None: not known): ``requested`` when given (1: in
    this process), else as many as CPUs (up to MAX_AUTO_JOBS) for a long stretch, else none."""
    if requested > 0:
        return requested
    cpus = os.cpu_count() or 1
    if cpus < 2 or to_judge is None or to_judge < PARALLEL_FROM:
        return 1
    return min(cpus, MAX_AUTO_JOBS)


CHUNK = 16  # changes per task: enough to amortise the hand-over, small enough to keep workers busy
IN_FLIGHT = 3  # chunks outstanding per worker

Tag = TypeVar("Tag")
_worker: dict[str, Judge] = {}


def judge_in_workers(
    items: Iterable[tuple[Change, Tag]], settings: JudgeSettings, repo_path: Path, jobs: int,
) -> Iterator[tuple[ChangeRecord, Tag]]:
    """(record, tag) for each (change, tag) given, in the order given; the tag stays in this process."""
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(jobs, initializer=_start, initargs=(str(repo_path), settings))
    pending: deque[tuple[list[Tag], Any]] = deque()
    try:
        source = iter(items)
        while chunk := list(islice(source, CHUNK)):
            tags = [tag for _, tag in chunk]
            pending.append((tags, pool.apply_async(_judge, ([_portable(change) for change, _ in chunk],))))
            while len(pending) >= jobs * IN_FLIGHT:
                yield from _collect(*pending.popleft())
        while pending:
            yield from _collect(*pending.popleft())
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _collect(tags: list[Tag], result: Any) -> Iterator[tuple[ChangeRecord, Tag]]:
    yield from zip(result.get(), tags, strict=True)


def _portable(change: Change) -> Change:
    # Loaders are closures over this process's git pipes; the worker binds its own.
    for f in change.files:
        f._load_old = f._load_new = None
        f._cache = {}
    return change


def _start(repo_path: str, settings: JudgeSettings) -> None:
    from govgate.sources.git import GitRepo

    _worker["judge"] = Judge(GitRepo(Path(repo_path)), settings, bind_contents=True)


def _judge(changes: list[Change]) -> list[ChangeRecord]:
    return _worker["judge"].judge(changes)
