"""Judging changes in worker processes, in order, with bounded memory.

Detectors and the engine cost about a millisecond per change, far more than reading history,
so on a long history the verdicts are computed by ``jobs`` worker processes while the main
process reads git, aggregates and writes. Workers are started fresh (``spawn``: a forked child
would inherit the pipes of the git processes and keep them from ever seeing end-of-file), each
with its own ``git cat-file --batch`` for the contents its detectors ask for.

A change travels without its content loaders (they are bound to the main process's git
processes); the worker binds its own. The verdict comes back without its change, which the
main process still holds, so results are reattached in order. At most ``jobs * IN_FLIGHT``
chunks are outstanding: the history is never read further ahead than that.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from govgate.model import Change
from govgate.policy.model import Policy
from govgate.verdict import Verdict

CHUNK = 16  # changes per task: enough to amortise the hand-over, small enough to keep workers busy
IN_FLIGHT = 3  # chunks outstanding per worker

_worker: dict[str, Any] = {}


def judge_in_workers(
    changes: Iterable[Change], policy: Policy, fail_on: str, repo_path: Path, present: set[str] | None, jobs: int,
) -> Iterator[Verdict]:
    """The verdict of each change, in the order given."""
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(jobs, initializer=_start, initargs=(str(repo_path), policy, fail_on, present))
    pending: deque[tuple[list[Change], Any]] = deque()
    try:
        source = iter(changes)
        while chunk := list(islice(source, CHUNK)):
            pending.append((chunk, pool.apply_async(_judge, ([_portable(c) for c in chunk],))))
            while len(pending) >= jobs * IN_FLIGHT:
                yield from _collect(*pending.popleft())
        while pending:
            yield from _collect(*pending.popleft())
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _collect(chunk: list[Change], result: Any) -> Iterator[Verdict]:
    for change, verdict in zip(chunk, result.get(), strict=True):
        verdict.change = change
        yield verdict


def _portable(change: Change) -> Change:
    # Loaders are closures over this process's git pipes; the worker binds its own.
    for f in change.files:
        f._load_old = f._load_new = None
        f._cache = {}
    return change


def _start(repo_path: str, policy: Policy, fail_on: str, present: set[str] | None) -> None:
    from govgate.sources.git import GitRepo

    _worker.update(repo=GitRepo(Path(repo_path)), policy=policy, fail_on=fail_on, present=present)


def _judge(changes: list[Change]) -> list[Verdict]:
    from govgate.pipeline import evaluate
    from govgate.sources.history_objects import ChangeContents

    repo = _worker["repo"]
    results = []
    for change in changes:
        contents = ChangeContents(repo.blobs, _worker["present"], change.files)
        for f in change.files:
            f._load_old = contents.loader(f.old_blob, prefetch=False)
            f._load_new = contents.loader(f.new_blob, prefetch=True)
        verdict = evaluate(change, _worker["policy"], fail_on=_worker["fail_on"])
        verdict.change = None  # type: ignore[assignment]  # the main process still holds it
        results.append(verdict)
    return results
