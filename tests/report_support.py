"""Histories for the report tests: generated busy repositories, plus the shapes that used to mislead a reader.

``busy_history`` is a generated GitHub-like history of a few hundred changes over about a year
(enough changes per month to judge), then a merge that brings in ``LARGE_MERGE`` commits at once
(an upstream sync), then a month with only four changes (too few to judge).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.audit_support import ROOT, HistoryGenerator, Truth, git

LARGE_MERGE = 120
SMALL_MONTH_CHANGES = 4
DAY = 86_400


@dataclass
class BusyHistory:
    path: Path
    truth: Truth  # of the generated part
    changes: int  # first-parent changes in all
    large_merge: str  # sha of the merge that brought LARGE_MERGE commits
    small_month: str  # YYYY-MM of the last month, which holds SMALL_MONTH_CHANGES changes


def busy_history(path: Path, *, changes: int = 300, seed: int = 11, remote: str = "git@github.com:acme/widgets.git",
                 span_days: int = 330) -> BusyHistory:
    truth = HistoryGenerator(path, changes, seed=seed, initial_files=60, span_days=span_days).generate()
    last = int(git(path, "log", "-1", "--format=%ct", "main").strip())
    merge = _fast_import(path, _large_merge_stream(last + DAY))
    git(path, "update-ref", "-d", "refs/heads/upstream")  # only main is audited; no stray branch left behind
    month_start = _next_month_start(last + 3 * DAY)
    for number in range(SMALL_MONTH_CHANGES):
        _fast_import(path, _small_change_stream(month_start + (number + 1) * DAY, number))
    if remote:
        git(path, "remote", "add", "origin", remote)
    small_month = git(path, "log", "-1", "--format=%cd", "--date=format:%Y-%m", "main").strip()
    return BusyHistory(path, truth, truth.changes + 1 + SMALL_MONTH_CHANGES, merge, small_month)


def _fast_import(path: Path, stream: str) -> str:
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=stream.encode(), check=True)
    return git(path, "rev-parse", "main").strip()


def _large_merge_stream(when: int) -> str:
    """An upstream branch of LARGE_MERGE commits forked from main, merged back as one merge commit."""
    parts = []
    for number in range(1, LARGE_MERGE + 1):
        start = "from refs/heads/main^0\n" if number == 1 else ""
        message = f"upstream: sync part {number}\n"
        content = f"value = {number}\n"
        parts.append(f"commit refs/heads/upstream\nmark :{number}\n"
                     f"author Upstream Dev <upstream@example.org> {when - LARGE_MERGE + number} +0000\n"
                     f"committer Upstream Dev <upstream@example.org> {when - LARGE_MERGE + number} +0000\n"
                     f"data {len(message)}\n{message}{start}"
                     f"M 100644 inline vendor/upstream/part_{number % 10}.py\ndata {len(content)}\n{content}\n")
    message = "Merge branch 'upstream' into main\n"
    newest = {number % 10: f"value = {number}\n" for number in range(1, LARGE_MERGE + 1)}
    files = "".join(f"M 100644 inline vendor/upstream/part_{n}.py\ndata {len(text)}\n{text}\n" for n, text in newest.items())
    parts.append(f"commit refs/heads/main\nauthor Release Bot <maintainers@example.com> {when} +0000\n"
                 f"committer Release Bot <maintainers@example.com> {when} +0000\ndata {len(message)}\n{message}"
                 f"from refs/heads/main^0\nmerge :{LARGE_MERGE}\n{files}")
    return "".join(parts) + "done\n"


def _small_change_stream(when: int, number: int) -> str:
    message = f"Tidy docs {number} (#{9000 + number})\n"
    content = f"# notes {number}\n"
    return (f"commit refs/heads/main\nauthor Alice Moreau <alice.moreau@example.com> {when} +0000\n"
            f"committer Alice Moreau <alice.moreau@example.com> {when} +0000\ndata {len(message)}\n{message}"
            f"from refs/heads/main^0\nM 100644 inline docs/notes_{number}.md\ndata {len(content)}\n{content}\ndone\n")


def _next_month_start(moment: int) -> int:
    import datetime as dt

    day = dt.datetime.fromtimestamp(moment, dt.UTC)
    first = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0)
    return int(first.timestamp())


def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (screenshots): $GOVGATE_TEST_ARTIFACTS or build/test-artifacts."""
    folder = Path(os.environ.get("GOVGATE_TEST_ARTIFACTS") or ROOT / "build" / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
