"""Hostile inputs that used to hang govgate or exhaust memory: CPU time, peak memory and outcome of each.

    python benchmarks/hostile_bench.py                 # this checkout
    python benchmarks/hostile_bench.py --code DIR      # another copy of govgate (e.g. `git archive` of an old commit)
    python benchmarks/hostile_bench.py --quick         # skip the 100,000-line diff and the 20 MB policy

Each case runs in a child process capped at --memory-gb of address space and --timeout seconds
(a case that hits either is reported as such). CPU time is the child's user+sys time (wall time
is noisy on a shared machine); the API case reports wall time, since a deadline is what it tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TRICKLE_CLIENT = """
import socket, sys, threading, time
from govgate.sources.github_api import GitHubClient
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
def serve():
    conn, _ = srv.accept(); conn.recv(65536)
    body = b'{"items": [' + b" " * 2000 + b"]}"
    conn.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: %d\\r\\n\\r\\n" % len(body))
    for byte in body:
        try:
            conn.sendall(bytes([byte])); time.sleep(0.05)
        except OSError:
            return
threading.Thread(target=serve, daemon=True).start()
client = GitHubClient(f"http://127.0.0.1:{srv.getsockname()[1]}/api/v3", "t", deadline_seconds=2.0, max_attempts=1)
started = time.monotonic()
try:
    client.get_json("repos/o/r")
    outcome = "read the whole body"
except Exception as exc:
    outcome = str(exc).split(":")[-1].strip()
print(f"{time.monotonic() - started:.1f} s wall, deadline 2 s: {outcome}")
"""


def alias_bomb(path: Path) -> None:
    lines = ["version: 1", "rules: []", 'description: &a0 "lol"']
    lines += [f"x{i}: &a{i + 1} [" + ",".join([f"*a{i}"] * 9) + "]" for i in range(9)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def big_policy(path: Path, megabytes: int) -> None:
    rule = "  - id: rule-{i}\n    require: {{reviewed: {{approvals: 1}}}}\n    message: a reasonably long message {i}\n"
    with path.open("w", encoding="utf-8") as out:
        out.write("version: 1\nrules:\n")
        i = 0
        while out.tell() < megabytes * 1024 * 1024:
            out.write(rule.format(i=i))
            i += 1


def identical_lines_repo(path: Path, lines: int) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True)

    path.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    (path / "src").mkdir()
    (path / "src" / "lib.rs").write_text("let x = 1;\n" * lines, encoding="utf-8")
    git("add", ".")
    git("-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "base")
    half = lines // 2
    (path / "src" / "lib.rs").write_text("let x = 1;\n" * half + "#[test]\n" + "let x = 1;\n" * (lines - half), encoding="utf-8")
    git("-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qam", "change")


def run(args: list[str], code: Path, timeout: float, memory_gb: float) -> tuple[float, str]:
    """(CPU seconds of the child, what happened), the child alone measured through wait4."""
    env = {**os.environ, "PYTHONPATH": str(code), "GOVGATE_CACHE_DIR": tempfile.mkdtemp()}
    limit = int(memory_gb * 1024**3)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # Run outside any source tree, so that PYTHONPATH (not the current folder) decides which govgate runs.
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=out, stderr=err, preexec_fn=cap, text=True,
                                cwd=tempfile.gettempdir())
        started = time.monotonic()
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                killed = True
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    cpu = usage.ru_utime + usage.ru_stime
    if killed:
        return cpu, f"still running after {timeout:.0f} s (killed)"
    if args[:1] == ["-c"]:
        return cpu, stdout.strip()
    said = _summary(stdout, stderr)
    return cpu, f"exit {proc.returncode}, {wall:.2f} s wall, peak {usage.ru_maxrss / 1024:.0f} MB: {said}"


def _summary(stdout: str, stderr: str) -> str:
    if stdout.startswith("{"):
        import json

        data = json.loads(stdout)
        tested = [e["location"] for e in data["questions"]["tested"]["evidence"]]
        return f"verdict {data['verdict']}, tested evidence at {tested}, problems {data['problems']}"[:160]
    lines = (stderr.strip() or stdout.strip()).splitlines()
    return lines[0][:110] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the govgate source tree to measure (default: this one)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--memory-gb", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govgate-hostile-"))
    cases: list[tuple[str, list[str]]] = []
    alias_bomb(work / "bomb.yml")
    cases.append(("policy: alias bomb (9 levels of 9)", ["-m", "govgate", "policy", "validate", str(work / "bomb.yml")]))
    if not options.quick:
        big_policy(work / "big.yml", 20)
        cases.append(("policy: 20 MB of YAML", ["-m", "govgate", "policy", "validate", str(work / "big.yml")]))
    # Files of 12,000 and 100,000 lines after the change (the second at the inspection ceiling), then one past it.
    for lines in (12_000, *(() if options.quick else (100_000, 200_000))):
        identical_lines_repo(work / f"repo{lines}", lines - 1)
        cases.append((f"diff: {lines:,}-line file of identical lines",
                      ["-m", "govgate", "check", "--repo", str(work / f"repo{lines}"), "--base", "HEAD~1", "--format", "json"]))
    policy = work / "regex.yml"
    policy.write_text("version: 1\nrules: []\nsettings:\n  ai: {body_patterns: ['^(a+)+$']}\n", encoding="utf-8")
    for count in (32, 100_000):
        body = work / f"body{count}.md"
        body.write_text("a" * count + "!\n", encoding="utf-8")
        cases.append((f"regex: '^(a+)+$' on {count:,} a's and '!'",
                      ["-m", "govgate", "check", "--repo", str(work / "repo12000"), "--base", "HEAD~1", "--policy", str(policy),
                       "--pr-body-file", str(body), "--format", "json"]))
    cases.append(("api: body trickled at 20 bytes/s", ["-c", TRICKLE_CLIENT]))
    version = subprocess.run([sys.executable, "-c", "import govgate; print(govgate.__file__)"], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(options.code)}, cwd=tempfile.gettempdir()).stdout.strip()
    print(f"govgate from {version}")
    for name, args in cases:
        cpu, outcome = run(args, options.code, options.timeout, options.memory_gb)
        print(f"{name:46} {cpu:7.2f} s CPU  {outcome}", flush=True)


if __name__ == "__main__":
    main()
