"""Benchmark incremental audits: a re-audit with nothing new, and one after N new changes.

    python benchmarks/cache_bench.py                         # the generated history of 5,000 changes
    python benchmarks/cache_bench.py --sizes --repo /path/to/git.git --new 10 100

For each history, with a fresh cache directory in a temporary folder (a ``--repo`` is never
written to), in CPU seconds (user + system, every process; the audit's own git processes apart,
timed by the same wrapper as audit_bench.py):

* ``git log --raw``: the yardstick a re-audit with nothing new must stay well under;
* ``cold``: the first audit, which fills the cache (``--format json``, one process);
* ``warm``: the same audit again: nothing new, everything from the cache;
* ``+N``: the cache filled by an audit of ``HEAD~N`` (the history as it was N changes ago), then
  an audit of ``HEAD``: the N newest changes are read and judged, the rest comes from the cache;
  shown with the CPU time per new change beyond the warm run.

Every run's output is compared with a cold ``--no-cache`` run's: a mismatch stops the benchmark.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from audit_bench import GitWrapper, children_cpu, git_count, git_log_raw, targets  # noqa: E402


@dataclass
class Timing:
    cpu: float
    git_cpu: float


@dataclass
class Row:
    name: str
    changes: int
    git_raw: float
    git_raw_note: str
    cold: Timing
    warm: Timing
    after_new: dict[int, Timing] = field(default_factory=dict)


def run(repo: Path, cache: Path, args: list[str], wrapper: GitWrapper, output: Path) -> Timing:
    command = [sys.executable, "-m", "govgate", "audit", "--repo", str(repo), "--format", "json", "--jobs", "1",
               "--cache-dir", str(cache), "--output", str(output), *args]
    wrapper.take()
    before = children_cpu()
    result = subprocess.run(command, env=wrapper.env(), stderr=subprocess.PIPE, text=True, check=False)
    cpu = children_cpu() - before
    git_cpu, _, _ = wrapper.take()
    if result.returncode not in (0, 1):
        raise SystemExit(f"audit failed: {' '.join(command)}\n{result.stderr}")
    return Timing(cpu, git_cpu)


def same_as_cold(repo: Path, revision: str, output: Path, work: Path) -> None:
    cold = work / "cold.json"
    subprocess.run([sys.executable, "-m", "govgate", "audit", "--repo", str(repo), "--format", "json", "--no-cache",
                    "--output", str(cold), revision], check=True, stderr=subprocess.DEVNULL)
    if cold.read_bytes() != output.read_bytes():
        raise SystemExit(f"{repo} {revision}: the cached audit's output differs from a cold audit's")


def measure(name: str, repo: Path, new: list[int], wrapper: GitWrapper, repeat: int) -> Row:
    changes = git_count(repo, "--first-parent")
    git_raw, note = git_log_raw(repo, repeat)
    with tempfile.TemporaryDirectory(prefix="govgate-cache-bench-") as folder:
        work = Path(folder)
        out = work / "out.json"
        cold = run(repo, work / "cache", [], wrapper, out)
        same_as_cold(repo, "HEAD", out, work)
        warm = min((run(repo, work / "cache", [], wrapper, out) for _ in range(repeat)), key=lambda t: t.cpu)
        same_as_cold(repo, "HEAD", out, work)
        row = Row(name, changes, git_raw, note, cold, warm)
        for count in new:
            cache = work / f"cache-{count}"
            run(repo, cache, [f"HEAD~{count}"], wrapper, out)  # the history as it was `count` changes ago
            row.after_new[count] = run(repo, cache, [], wrapper, out)
            same_as_cold(repo, "HEAD", out, work)
        print(f"measured {name}", file=sys.stderr, flush=True)
    return row


def report(rows: list[Row], new: list[int]) -> None:
    header = ["history", "changes", "git log --raw", "cold", "warm (nothing new)", "warm / git log --raw",
              *(f"+{n} new" for n in new), *(f"per new change (+{n})" for n in new)]
    table = [header]
    for row in rows:
        cells = [row.name, f"{row.changes:,}", f"{row.git_raw:.2f}s{row.git_raw_note}", f"{row.cold.cpu:.2f}s",
                 f"{row.warm.cpu:.2f}s (git {row.warm.git_cpu:.2f}s)", f"{row.warm.cpu / row.git_raw:.2f}x"]
        cells += [f"{row.after_new[n].cpu:.2f}s (git {row.after_new[n].git_cpu:.2f}s)" for n in new]
        cells += [f"{(row.after_new[n].cpu - row.warm.cpu) / n * 1000:.1f} ms" for n in new]
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(cell.rjust(widths[i]) for i, cell in enumerate(r)))
    print("CPU seconds (user+sys) of every process. * git log --raw --no-renames (the snapshot lacks objects that "
          "rename detection reads). Every cached run wrote the same bytes as a cold --no-cache run.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000], help="generated histories (changes)")
    parser.add_argument("--repo", action="append", default=[], type=Path, help="any repository (repeatable; read only)")
    parser.add_argument("--new", type=int, nargs="+", default=[10, 100], help="new changes on top of a cached history")
    parser.add_argument("--repeat", type=int, default=1, help="warm runs; the least CPU time is kept")
    args = parser.parse_args()
    wrapper = GitWrapper()
    rows = []
    try:
        for name, repo in targets(args.sizes, args.repo):
            rows.append(measure(name, repo, args.new, wrapper, args.repeat))
    finally:
        wrapper.close()
    report(rows, args.new)


if __name__ == "__main__":
    main()
