"""Benchmark `govgate check` on a 50-commit, 500-file change against a bare `git log --numstat`.

Targets (issue 2): check takes at most 2x the git baseline plus interpreter start, and the CLI
imports in under 150 ms. Run: python benchmarks/check_bench.py [--repeat N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMITS = 50
FILES = 500


def build_repo(path: Path) -> tuple[str, str]:
    """A base commit with FILES files, then COMMITS commits that together change all of them."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    stream: list[bytes] = []
    mark = 0

    def blob(text: str) -> int:
        nonlocal mark
        mark += 1
        data = text.encode()
        stream.append(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    def file_name(i: int) -> str:
        kinds = ["src/pkg{0}/module{1}.py", "tests/pkg{0}/test_module{1}.py", "deploy/k8s/app{1}.yaml",
                 "web/src/comp{1}.ts", "db/migrations/versions/{1:04d}_rev.py"]
        return kinds[i % len(kinds)].format(i % 7, i)

    def content(i: int, version: int) -> str:
        name = file_name(i)
        if name.endswith(".yaml"):
            return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\nspec:\n  replicas: {version + 2}\n"
                    "  strategy:\n    type: RollingUpdate\n  template:\n    spec:\n      containers:\n        - name: app\n"
                    f"          image: app:{version}\n")
        if "/versions/" in name:
            return (f'revision = "{i:04d}"\ndown_revision = "{i - 1:04d}"\n\ndef upgrade():\n    op.add_column("t", "c{version}")\n\n'
                    f'def downgrade():\n    op.drop_column("t", "c{version}")\n')
        body = "".join(f"value_{n} = {n * version}\n" for n in range(40))
        return f"# file {i} version {version}\n{body}"

    def commit(message: str, files: dict[str, int], parent: int | None, when: int) -> int:
        nonlocal mark
        mark += 1
        author = "Alice Example <alice@example.com>"
        msg = message.encode()
        lines = [b"commit refs/heads/main\nmark :%d\n" % mark,
                 f"author {author} {when} +0000\ncommitter {author} {when} +0000\n".encode(),
                 b"data %d\n%s\n" % (len(msg), msg)]
        if parent is not None:
            lines.append(b"from :%d\n" % parent)
        lines += [f"M 100644 :{m} {name}\n".encode() for name, m in files.items()]
        stream.append(b"".join(lines) + b"\n")
        return mark

    base = commit("Base", {file_name(i): blob(content(i, 0)) for i in range(FILES)}, None, 1_700_000_000)
    head = base
    per_commit = FILES // COMMITS
    for c in range(COMMITS):
        changed = {file_name(i): blob(content(i, c + 1)) for i in range(c * per_commit, (c + 1) * per_commit)}
        trailer = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>" if c % 5 == 0 else "\n\nReviewed-by: Bob <bob@example.com>"
        head = commit(f"Change {c}{trailer}", changed, head, 1_700_000_000 + (c + 1) * 60)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(stream), check=True)
    sha = lambda ref: subprocess.run(["git", "rev-parse", ref], cwd=path, capture_output=True, text=True, check=True).stdout.strip()  # noqa: E731
    return sha(f"main~{COMMITS}"), sha("main")


def timed(cmd: list[str], cwd: Path | None = None, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        samples.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed: {result.stderr.decode()}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="govgate-bench-"))
    repo = workdir / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    base, head = build_repo(repo)
    py = sys.executable
    env_cmd = [py, "-m", "govgate", "check", "--repo", str(repo), "--base", base, "--head", head]

    files = subprocess.run(["git", "diff", "--name-only", base, head], cwd=repo, capture_output=True, text=True, check=True)
    git_log = timed(["git", "log", "--numstat", f"{base}..{head}"], cwd=repo, repeat=args.repeat)
    interpreter = timed([py, "-c", "pass"], repeat=args.repeat)
    import_cli = timed([py, "-c", "import govgate.cli"], repeat=args.repeat) - interpreter
    check_text = timed(env_cmd, repeat=args.repeat)
    check_json = timed([*env_cmd, "--format", "json"], repeat=args.repeat)
    budget = 2 * git_log + interpreter

    print(f"change: {COMMITS} commits, {len(files.stdout.split())} files  (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"{'measure':42} {'median s':>9}")
    rows = [
        ("git log --numstat (baseline)", git_log),
        ("python -c pass (interpreter start)", interpreter),
        ("import govgate.cli (over interpreter)", import_cli),
        ("govgate check --format text", check_text),
        ("govgate check --format json", check_json),
        ("budget: 2 x git + interpreter", budget),
    ]
    for name, value in rows:
        print(f"{name:42} {value:9.3f}")
    print(f"check / budget: {check_text / budget:.2f} (target <= 1.00)  "
          f"{'MET' if check_text <= budget else 'MISSED'}")
    print(f"CLI import: {import_cli * 1000:.0f} ms (target < 150 ms)  {'MET' if import_cli < 0.150 else 'MISSED'}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
