"""How fast `govgate report` combines many audits, and what the README's DuckDB query costs on the same files.

One real audit of a generated history (cached under benchmarks/.work/) is copied under as many
repository names as asked, as an organisation's CI would leave them; then `govgate report` runs on
the folder (CPU time of the child process, user + sys, and its peak memory) and so does the DuckDB
query (CPU time in this process). Nothing here reads history again: that is the point.

    python benchmarks/report_bench.py --repositories 100 --changes 2000
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"
sys.path.insert(0, str(ROOT / "benchmarks"))

from history_gen import generate  # noqa: E402


def one_audit(changes: int) -> Path:
    repo = WORK / f"report-history-{changes}"
    audit = WORK / f"report-audit-{changes}.jsonl"
    if not audit.exists():
        if repo.exists():
            shutil.rmtree(repo)
        generate(repo, changes, seed=5, initial_files=200)
        subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", "https://github.com/acme/template.git"], check=True)
        subprocess.run([sys.executable, "-m", "govgate", "audit", "--repo", str(repo), "--format", "json", "--output", str(audit)],
                       check=True)
    return audit


def organisation(audit: Path, repositories: int) -> Path:
    folder = WORK / f"report-org-{repositories}-{audit.stem}"
    if folder.exists() and len(list(folder.glob("*.jsonl"))) == repositories:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    text = audit.read_text(encoding="utf-8")
    for number in range(repositories):
        name = f"acme/service-{number:04d}"
        renamed = re.sub(r'"repository(_name)?":"(?:https://github\.com/)?acme/template"',
                         lambda m, name=name: m.group(0).replace("acme/template", name), text)
        (folder / f"service-{number:04d}.jsonl").write_text(renamed, encoding="utf-8")
    return folder


def run_report(folder: Path) -> tuple[float, float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "govgate", "report", str(folder), "--format", "json"], capture_output=True,
                         text=True, check=True).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, after.ru_maxrss / 1024, json.loads(out)


def run_duckdb(folder: Path) -> tuple[float, int]:
    import duckdb

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    query = re.search(r"<!-- duckdb-summary-query -->\s*```sql\n(.*?)```", readme, re.DOTALL).group(1)  # type: ignore[union-attr]
    before = resource.getrusage(resource.RUSAGE_SELF)
    rows = duckdb.sql(query.replace("'audits/*.jsonl'", f"'{folder.as_posix()}/*.jsonl'")).fetchall()
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=100)
    parser.add_argument("--changes", type=int, default=2000, help="changes per audited repository")
    args = parser.parse_args()
    audit = one_audit(args.changes)
    folder = organisation(audit, args.repositories)
    size = sum(p.stat().st_size for p in folder.glob("*.jsonl"))
    lines = args.repositories * (args.changes + 1)
    cpu, wall, rss, report = run_report(folder)
    assert report["totals"]["repositories"] == args.repositories
    duck_cpu, rows = run_duckdb(folder)
    assert rows == args.repositories
    print(f"{args.repositories} repositories x {args.changes:,} changes: {lines:,} JSON lines, {size / 1e6:,.0f} MB")
    print(f"govgate report: {cpu:.2f} s CPU (user+sys), {wall:.2f} s wall, {cpu / lines * 1e6:.1f} µs per line, "
          f"{size / 1e6 / cpu:,.0f} MB/s, peak RSS {rss:.0f} MB")
    print(f"DuckDB query (README): {duck_cpu:.2f} s CPU (user+sys, all its threads)")


if __name__ == "__main__":
    main()
