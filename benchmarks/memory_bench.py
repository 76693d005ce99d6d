"""Benchmark ``govgate memory suggest`` against git itself and against ``govgate audit`` on the same history.

    python benchmarks/memory_bench.py [--sizes 50000] [--repo PATH ...] [--repeat 2]

Generated histories (``--sizes``) are the audit benchmark's (history_gen.py, cached under
benchmarks/.work/); ``--repo`` adds real repositories (a clone or a bare mirror; never used by
the tests). For each history the table shows CPU time (user + system, of the command and every
git process it ran, from ``wait4``), because wall time on a shared machine says little:

* ``git log --raw``: the floor of any history pass;
* ``memory suggest`` (one streaming pass, report and draft, nothing written) and its cost per change;
* ``audit --jobs 1`` on the same history: the budget ``suggest`` must stay within;
* the peak resident memory of the govgate process (VmHWM, polled) and, apart, the largest of any
  process of the tree (``ru_maxrss``: usually git, which maps pack files and grows with the repository).

The best of ``--repeat`` runs is kept (the least disturbed one). Nothing is trimmed: every
first-parent change is read and every area is mined.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from audit_bench import history  # noqa: E402  (the same cached generated histories)

NOW = "2026-06-01"  # a fixed clock: every run mines the same thing


def cpu_run(command: list[str], repeat: int) -> tuple[float, float, float]:
    """(best CPU seconds of the command's process tree, peak RSS in MB of the command itself, of its tree)."""
    best, own, tree = float("inf"), 0.0, 0.0
    for _ in range(repeat):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        high_water = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            high_water = max(high_water, _vm_hwm_kb(proc.pid))  # only grows: polling misses at most the end
            time.sleep(0.02)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"failed: {' '.join(command)}")
        best = min(best, usage.ru_utime + usage.ru_stime)
        own, tree = max(own, high_water / 1024), max(tree, usage.ru_maxrss / 1024)
    return best, own, tree


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def measure(label: str, repo: Path, repeat: int) -> tuple[str, ...]:
    changes = int(subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent", "--count", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout)
    govgate = [sys.executable, "-m", "govgate"]
    git_raw, _, _ = cpu_run(["git", "-C", str(repo), "log", "--raw"], repeat)
    suggest, rss, tree = cpu_run([*govgate, "memory", "suggest", "--repo", str(repo), "--dry-run", "--now", NOW], repeat)
    audit, _, _ = cpu_run([*govgate, "audit", "--repo", str(repo), "--jobs", "1", "--knowledge-days", "0", "--now", NOW,
                        "--output", os.devnull], repeat)
    print(f"measured {label}", file=sys.stderr, flush=True)
    return (label, f"{changes:,}", f"{git_raw:.2f}s", f"{suggest:.2f}s", f"{suggest / changes * 1e6:.0f} µs",
            f"{suggest / git_raw:.1f}x", f"{audit:.2f}s", f"{suggest / audit:.2f} {'ok' if suggest <= audit else 'MISS'}",
            f"{rss:.0f} MB", f"{tree:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[50000])
    parser.add_argument("--repo", type=Path, nargs="*", default=[], help="real repositories to measure as well")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rows = [measure(f"generated {size:,}", history(size), args.repeat) for size in args.sizes]
    for path in args.repo:
        label = path.name if path.name != "repo" else path.parent.name
        try:
            rows.append(measure(label, path, args.repeat))
        except SystemExit as exc:  # a damaged mirror git itself cannot walk: say so and go on
            print(f"skipped {label}: {exc}", file=sys.stderr, flush=True)
    header = ("history", "changes", "git log --raw", "memory suggest", "per change", "vs git", "audit -j1",
              "suggest/audit", "govgate peak RSS", "peak RSS, any process")
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)))
    print("CPU time (user+system) of each command and the git processes it ran; target: suggest within the audit's budget")


if __name__ == "__main__":
    main()
