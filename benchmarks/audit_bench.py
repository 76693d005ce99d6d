"""Benchmark ``govgate audit`` against git itself, on generated histories and on any repository.

    python benchmarks/audit_bench.py                          # generated histories of 5,000 and 50,000 changes
    python benchmarks/audit_bench.py --sizes 5000 --repo /path/to/git.git --repo ../dpdk
    python benchmarks/audit_bench.py --sizes --repo REPO --jobs 1 2 --repeat 3

Generated histories are built once with ``git fast-import`` (see history_gen.py), cached under
benchmarks/.work/ (git-ignored), then packed with a commit-graph as ``git gc`` leaves them. A
``--repo`` is read as it is (a checkout, a bare clone or a mirror snapshot) and never written to:
the audit runs with ``--no-cache`` and its cache directory in a temporary folder.

Everything is measured in CPU time (user + system), per process family, because wall time on a
shared machine measures the neighbours. Every git process govgate starts runs under a wrapper
(GNU ``time``, first in PATH) that logs its CPU time and peak memory, so the audit's own git work
is timed exactly, apart from govgate's Python. Per history and per ``--jobs`` value it prints:

* ``changes``: first-parent commits audited; ``git log --raw``: its CPU seconds (when git cannot
  finish it, a damaged or filtered snapshot, ``--no-renames`` is timed instead and marked ``*``);
* ``audit``: the audit's whole CPU time (``--format json``, every process: govgate, workers, git);
* ``own git``: the CPU time of the git processes the audit ran;
* ``py/change``: govgate's CPU (the audit minus its git) per change, in microseconds, once with
  everything and once net of the fixed start-up cost (interpreter, imports, policy; measured by
  auditing a single change of the same repository with ``--knowledge-days 0``, so that the history
  before it is not read), which is what the per-change target is about;
* ``main``: with workers, the CPU time of the main process alone (the serial part: reading
  history and merging the workers' results); the wall time cannot fall below it;
* ``x git log --raw`` and ``x own git``: the audit's CPU time over each git baseline;
* peak resident memory (VmHWM, polled every 20 ms) of the largest govgate process, and (from
  the wrapper, exact) of the largest git process; git maps pack files, so its figure follows
  the repository's size, not the audit's length.

Nothing is trimmed to flatter a number: every change is judged with the embedded default policy
and every detector, and the JSON lines of every change are written (to /dev/null).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))

from history_gen import generate  # noqa: E402

TARGET_PY_US, TARGET_OWN_GIT, TARGET_RSS_MB = 300, 3.0, 200
_CLK = os.sysconf("SC_CLK_TCK")


def history(size: int) -> Path:
    repo = WORK / f"history-{size}"
    marker = repo / ".git" / "govgate-bench-ready"
    if marker.exists():
        return repo
    if repo.exists():
        shutil.rmtree(repo)
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"generating {size} changes in {repo} ...", file=sys.stderr, flush=True)
    truth = generate(repo, size, seed=size, initial_files=2000)
    subprocess.run(["git", "-C", str(repo), "gc", "--quiet"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit-graph", "write", "--reachable"], check=True)
    marker.write_text(f"{truth.changes} changes, {truth.merges} merges, {truth.side_commits} side commits\n")
    print(f"  done in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    return repo


# -- measuring -------------------------------------------------------------------------------------


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_of(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(CPU seconds of the command and everything it waited for, exit code)."""
    before = children_cpu()
    code = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False).returncode
    return children_cpu() - before, code


@dataclass
class AuditRun:
    cpu: float = float("inf")  # every process
    git_cpu: float = 0.0  # git processes only (from the wrapper)
    main_cpu: float = 0.0  # the govgate main process alone
    wall: float = 0.0
    py_rss_mb: float = 0.0
    git_rss_mb: float = 0.0
    git_processes: int = 0

    @property
    def python_cpu(self) -> float:
        return self.cpu - self.git_cpu


class GitWrapper:
    """A ``git`` first in PATH that runs the real git under GNU time, logging CPU and peak memory."""

    def __init__(self) -> None:
        self.real = shutil.which("git")
        timer = shutil.which("time") or "/usr/bin/time"
        if not self.real or not Path(timer).exists():
            raise SystemExit("needs git and GNU time (/usr/bin/time: apt-get install time)")
        self.dir = Path(tempfile.mkdtemp(prefix="govgate-bench-git-"))
        self.log = self.dir / "git-times.log"
        script = self.dir / "git"
        script.write_text(f'#!/bin/sh\nexec {timer} -a -o "{self.log}" -f "@@ %U %S %M" "{self.real}" "$@"\n')
        script.chmod(0o755)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PATH": f"{self.dir}{os.pathsep}{os.environ.get('PATH', '')}"}

    def take(self) -> tuple[float, float, int]:
        """(CPU seconds, peak RSS MB, processes) logged since the last call."""
        cpu, peak, count = 0.0, 0.0, 0
        if self.log.exists():
            for line in self.log.read_text().splitlines():
                if line.startswith("@@ "):
                    user, system, rss_kb = line.split()[1:4]
                    cpu += float(user) + float(system)
                    peak = max(peak, int(rss_kb) / 1024)
                    count += 1
            self.log.unlink()
        return cpu, peak, count

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def audit_run(repo: Path, extra: list[str], repeat: int, wrapper: GitWrapper, cache_dir: Path) -> AuditRun:
    """The least disturbed of ``repeat`` runs (least CPU time)."""
    best = AuditRun()
    command = [sys.executable, "-m", "govgate", "audit", "--repo", str(repo), "--output", os.devnull,
               *_cache_options(cache_dir), *extra]
    for _ in range(repeat):
        wrapper.take()
        before = children_cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=wrapper.env())
        peaks: dict[int, tuple[str, int]] = {}
        main_ticks = 0
        while proc.poll() is None:
            for pid in _tree(proc.pid):
                name, hwm = _status(pid)
                if name:
                    peaks[pid] = (name, max(hwm, peaks.get(pid, ("", 0))[1]))
            main_ticks = max(main_ticks, _ticks(proc.pid))
            time.sleep(0.02)
        wall = time.perf_counter() - started
        cpu = children_cpu() - before
        git_cpu, git_rss, git_count = wrapper.take()
        if proc.returncode not in (0, 1):
            raise SystemExit(f"audit failed ({proc.returncode}): {' '.join(command)}")
        if cpu < best.cpu:
            best = AuditRun(cpu=cpu, git_cpu=git_cpu, main_cpu=main_ticks / _CLK, wall=wall,
                            py_rss_mb=max([0.0] + [kb / 1024 for name, kb in peaks.values() if name.startswith("python")]),
                            git_rss_mb=git_rss, git_processes=git_count)
    return best


def _cache_options(cache_dir: Path) -> list[str]:
    """Bypass the incremental cache (a cold audit), in a govgate old enough not to have one too."""
    usage = subprocess.run([sys.executable, "-m", "govgate", "audit", "--help"], capture_output=True, text=True).stdout
    return ["--no-cache", "--cache-dir", str(cache_dir)] if "--no-cache" in usage else ["--cache-dir", str(cache_dir)]


def _tree(root: int) -> list[int]:
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        try:  # a process may end between finding it and reading its tasks
            tasks = list(Path(f"/proc/{pid}/task").glob("*/children"))
        except OSError:
            continue
        for task in tasks:
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


def _ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (its children not included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


# -- one history -------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    changes: int
    commits: int
    git_raw: float
    git_raw_note: str
    startup_py: float
    runs: dict[int, AuditRun] = field(default_factory=dict)


def git_count(repo: Path, *args: str) -> int:
    out = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", *args, "HEAD"], capture_output=True, text=True,
                         check=True).stdout
    return int(out.strip())


def git_log_raw(repo: Path, repeat: int) -> tuple[float, str]:
    best, note = float("inf"), ""
    for _ in range(repeat):
        cpu, code = cpu_of(["git", "-C", str(repo), "log", "--raw"])
        if code != 0:  # a snapshot lacking objects that rename detection reads
            cpu, code = cpu_of(["git", "-C", str(repo), "log", "--raw", "--no-renames"])
            note = "*"
            if code != 0:
                raise SystemExit(f"git log --raw fails in {repo}")
        best = min(best, cpu)
    return best, note


def measure(name: str, repo: Path, jobs: list[int], repeat: int, wrapper: GitWrapper) -> Row:
    with tempfile.TemporaryDirectory(prefix="govgate-bench-cache-") as cache:
        changes = git_count(repo, "--first-parent")
        git_raw, note = git_log_raw(repo, repeat)
        # One change, and no history before it: an audit of HEAD~1..HEAD would otherwise read three years
        # of history before the range (--knowledge-days), which is per-change work, not start-up.
        startup = audit_run(repo, ["--format", "json", "--jobs", "1", "--knowledge-days", "0", "HEAD~1..HEAD"], repeat,
                            wrapper, Path(cache))
        row = Row(name, changes, git_count(repo), git_raw, note, startup.python_cpu)
        for n in jobs:
            row.runs[n] = audit_run(repo, ["--format", "json", "--jobs", str(n)], repeat, wrapper, Path(cache))
            print(f"measured {name} --jobs {n}", file=sys.stderr, flush=True)
    return row


def targets(sizes: list[int], repos: list[Path]) -> list[tuple[str, Path]]:
    """(name, path) of each history to measure: the generated ones, then the repositories given."""
    found = [(f"generated {size:,}", history(size)) for size in sizes]
    for repo in repos:
        path = repo.resolve()
        found.append((path.parent.name if path.name in ("repo", ".git") else path.name, path))
    return found


def report(rows: list[Row]) -> None:
    header = ("history", "changes", "jobs", "git log --raw", "audit", "own git", "py/change", "net py/change", "main",
              "x git log --raw", "x own git", "govgate RSS", "git RSS", "wall")
    table = [header]
    for row in rows:
        for jobs, run in row.runs.items():
            per_change = run.python_cpu / row.changes * 1e6
            net = (run.python_cpu - row.startup_py) / max(1, row.changes - 1) * 1e6
            table.append((
                row.name, f"{row.changes:,}", str(jobs), f"{row.git_raw:.2f}s{row.git_raw_note}", f"{run.cpu:.2f}s",
                f"{run.git_cpu:.2f}s", f"{per_change:.0f}us", f"{net:.0f}us {'ok' if net < TARGET_PY_US else 'MISS'}",
                f"{run.main_cpu:.2f}s", f"{run.cpu / row.git_raw:.1f}x",
                f"{run.cpu / max(run.git_cpu, 1e-9):.1f}x {'ok' if run.cpu <= TARGET_OWN_GIT * run.git_cpu else 'MISS'}",
                f"{run.py_rss_mb:.0f} MB {'ok' if run.py_rss_mb < TARGET_RSS_MB else 'MISS'}", f"{run.git_rss_mb:.0f} MB",
                f"{run.wall:.2f}s",
            ))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(cell.rjust(widths[i]) for i, cell in enumerate(r)))
    print(f"CPU seconds (user+sys). Targets: net Python < {TARGET_PY_US} us per change; audit <= {TARGET_OWN_GIT}x its own "
          f"git work; govgate RSS < {TARGET_RSS_MB} MB. * git log --raw --no-renames (the snapshot lacks objects that "
          "rename detection reads).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 50000], help="generated histories (changes)")
    parser.add_argument("--repo", action="append", default=[], type=Path, help="any repository (repeatable)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to run the audit with")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measure; the least CPU time is kept")
    args = parser.parse_args()
    wrapper = GitWrapper()
    rows = []
    try:
        for name, repo in targets(args.sizes, args.repo):
            rows.append(measure(name, repo, args.jobs, args.repeat, wrapper))
    finally:
        wrapper.close()
    report(rows)


if __name__ == "__main__":
    main()
