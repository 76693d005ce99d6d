"""Benchmark ``govgate audit`` against git itself on generated histories of 5,000 and 50,000 changes.

    python benchmarks/audit_bench.py [--sizes 5000 50000] [--repeat 3]

Histories are generated once with ``git fast-import`` (see history_gen.py) and cached under
benchmarks/.work/ (git-ignored), then packed and given a commit-graph as ``git gc`` would.
For each size the table shows:

* ``git log --raw`` (tree diffs: the floor of any history audit) and the default audit's wall
  time (text report; file lists from tree diffs, churn from blob sizes) with their ratio
  (target: at most 2x);
* the same audit in one process (``--jobs 1``; the default, ``--jobs 0``, judges in worker
  processes on a long history: two on a 2-core machine), and with ``--format json`` (one check
  object per change);
* ``git log --numstat`` (diffs every blob) and ``audit --exact-lines`` with their ratio
  (target: at most 1.2x);
* the peak resident memory (VmHWM, polled from /proc every 20 ms) of the largest govgate process
  (the main one or a worker; target under 200 MB) and, apart, of the largest git process it ran
  (git maps the pack files, so its figure grows with the repository, not with the audit).

Times are the best of ``--repeat`` runs (the machine is shared; the best run is the least
disturbed one). Nothing is trimmed to flatter a number: every change of the history is judged
with the embedded default policy and every detector.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))

from history_gen import generate  # noqa: E402

TARGET_RAW, TARGET_NUMSTAT, TARGET_RSS_MB = 2.0, 1.2, 200


def history(size: int) -> Path:
    repo = WORK / f"history-{size}"
    marker = repo / ".git" / "govgate-bench-ready"
    if marker.exists():
        return repo
    if repo.exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"generating {size} changes in {repo} ...", file=sys.stderr, flush=True)
    truth = generate(repo, size, seed=size, initial_files=2000)
    subprocess.run(["git", "-C", str(repo), "gc", "--quiet"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit-graph", "write", "--reachable"], check=True)
    marker.write_text(f"{truth.changes} changes, {truth.merges} merges, {truth.side_commits} side commits\n")
    print(f"  done in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    return repo


def timed(command: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def audit_run(repo: Path, extra: list[str], repeat: int) -> tuple[float, float, float]:
    """(best wall seconds, peak RSS MB of any govgate process (main or worker), of any git process)."""
    best, python_peak, git_peak = float("inf"), 0.0, 0.0
    command = [sys.executable, "-m", "govgate", "audit", "--repo", str(repo), "--output", os.devnull, *extra]
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen(command)
        peaks: dict[int, tuple[str, int]] = {}
        while proc.poll() is None:
            for pid in _tree(proc.pid):
                name, hwm = _status(pid)
                if name:
                    peaks[pid] = (name, max(hwm, peaks.get(pid, ("", 0))[1]))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        if proc.returncode not in (0, 1):
            raise SystemExit(f"audit failed ({proc.returncode}): {' '.join(command)}")
        best = min(best, elapsed)
        python_peak = max([python_peak] + [kb / 1024 for name, kb in peaks.values() if name.startswith("python")])
        git_peak = max([git_peak] + [kb / 1024 for name, kb in peaks.values() if name.startswith("git")])
    return best, python_peak, git_peak


def _tree(root: int) -> list[int]:
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in task.read_text().split())
            except OSError:
                pass
    return found


def _status(pid: int) -> tuple[str, int]:
    """(process name, VmHWM in kB): the high-water mark only grows, so polling misses at most the last 20 ms."""
    name, hwm = "", 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Name:"):
                name = line.split()[1]
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return name, hwm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        repo = history(size)
        commits = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        git_raw = timed(["git", "-C", str(repo), "log", "--raw"], args.repeat)
        git_numstat = timed(["git", "-C", str(repo), "log", "--numstat"], args.repeat)
        audit, rss, tree = audit_run(repo, [], args.repeat)
        single, rss_single, _ = audit_run(repo, ["--jobs", "1"], args.repeat)
        audit_json, rss_json, _ = audit_run(repo, ["--format", "json"], args.repeat)
        exact, rss_exact, _ = audit_run(repo, ["--exact-lines"], args.repeat)
        rows.append((size, commits, git_raw, audit, single, audit_json, git_numstat, exact,
                     max(rss, rss_single, rss_json, rss_exact), tree))
        print(f"measured {size}", file=sys.stderr, flush=True)
    header = ("changes", "commits", "git log --raw", "audit", "ratio", "audit -j1", "audit json", "git log --numstat",
              "audit --exact-lines", "ratio", "govgate peak RSS", "git peak RSS")
    table = [header]
    for size, commits, git_raw, audit, single, audit_json, git_numstat, exact, rss, tree in rows:
        table.append((
            f"{size:,}", f"{int(commits):,}", f"{git_raw:.2f}s", f"{audit:.2f}s",
            f"{audit / git_raw:.1f}x {'ok' if audit / git_raw <= TARGET_RAW else 'MISS'}", f"{single:.2f}s",
            f"{audit_json:.2f}s",
            f"{git_numstat:.2f}s", f"{exact:.2f}s",
            f"{exact / git_numstat:.2f}x {'ok' if exact / git_numstat <= TARGET_NUMSTAT else 'MISS'}",
            f"{rss:.0f} MB {'ok' if rss < TARGET_RSS_MB else 'MISS'}", f"{tree:.0f} MB",
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)))
    print(f"targets: audit <= {TARGET_RAW}x git log --raw; --exact-lines <= {TARGET_NUMSTAT}x git log --numstat; "
          f"peak RSS < {TARGET_RSS_MB} MB")


if __name__ == "__main__":
    main()
