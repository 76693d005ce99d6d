"""Generate realistic git histories fast with ``git fast-import``, and record their known answers.

The history looks like a busy GitHub repository: most changes are squash merges (``Title (#N)``),
some are ``Merge pull request #N from owner/branch`` merges of 1-4 commits forked from a recent or
an older first-parent commit, a few are direct pushes. Messages carry real-world trailers (the AI
markers real agents write, ``Reviewed-by``, ``Signed-off-by``, ``Tested-by``), and
the tree holds source packages, tests, Alembic migrations (most with a ``downgrade()``), Kubernetes
deployments (a few with ``strategy: Recreate``), renames, reverts (``This reverts commit <sha>``)
and fixes (``Fixes: <sha>`` trailers and "fix" commits naming a sha).

``Truth`` counts what a correct audit must find: changes, merges, AI-assisted changes by tool,
changes without a Reviewed-by by someone else, reverted and fixed changes. Commit ids needed inside
messages come from fast-import itself (``get-mark``), so a reference is always a real sha.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HUMANS = [(f"{first} {last}", f"{first.lower()}.{last.lower()}@example.com") for first, last in (
    ("Alice", "Moreau"), ("Bob", "Okafor"), ("Chen", "Wei"), ("Dana", "Kowalski"), ("Eli", "Haddad"),
    ("Fatima", "Rahman"), ("Goran", "Petrovic"), ("Hana", "Sato"), ("Ivan", "Novak"), ("Julia", "Costa"),
    ("Kofi", "Mensah"), ("Lena", "Fischer"), ("Mateo", "Rossi"), ("Nadia", "Haddad"), ("Omar", "Farouk"),
    ("Priya", "Nair"), ("Quinn", "Byrne"), ("Rosa", "Lopez"), ("Sven", "Larsen"), ("Tomoko", "Ito"),
)]
MERGER = ("Release Bot", "maintainers@example.com")  # who clicks "merge": never a reviewer, never an author
AI_MARKERS = {
    # tool -> trailer lines (the literal forms agents write)
    "Claude Code": "🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
    "OpenAI Codex": "Co-authored-by: Codex <noreply@openai.com>",
    "GitHub Copilot": "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
    "Claude (Assisted-by)": "Assisted-by: Claude:claude-opus-4-6",
}
PACKAGES = ["api", "auth", "billing", "search", "users", "orders", "notify", "reports", "storage", "web"]
VERBS = ["Add", "Fix", "Refactor", "Improve", "Handle", "Support", "Remove", "Speed up", "Document", "Validate"]
NOUNS = ["pagination", "retry logic", "cache keys", "error messages", "timeouts", "rate limits", "the parser",
         "input validation", "logging", "metrics", "the CLI", "config loading", "batch jobs", "webhooks"]
WORDS = ("value", "request", "result", "config", "handler", "client", "record", "buffer", "token", "index")


@dataclass
class Truth:
    changes: int = 0
    merges: int = 0
    ai: Counter[str] = field(default_factory=Counter)  # tool -> changes
    unreviewed_ai: int = 0
    unreviewed_other: int = 0
    reverted: set[int] = field(default_factory=set)  # change numbers (0 = oldest)
    fixed: set[int] = field(default_factory=set)
    side_commits: int = 0
    pull_request_numbers: list[int] = field(default_factory=list)  # newest last

    @property
    def ai_changes(self) -> int:
        return sum(self.ai.values())


@dataclass
class _Change:
    number: int
    mark: int
    subject: str
    ai: str | None


class _Importer:
    def __init__(self, repo: Path) -> None:
        self.read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            ["git", "-C", str(repo), "fast-import", "--quiet", f"--cat-blob-fd={write_fd}"],
            stdin=subprocess.PIPE, pass_fds=(write_fd,),
        )
        os.close(write_fd)
        self.answers = os.fdopen(self.read_fd, "rb")
        assert self.proc.stdin is not None
        self.out = self.proc.stdin

    def write(self, text: str | bytes) -> None:
        self.out.write(text.encode() if isinstance(text, str) else text)

    def data(self, payload: bytes) -> None:
        self.write(f"data {len(payload)}\n".encode() + payload + b"\n")

    def sha_of(self, mark: int) -> str:
        self.write(f"get-mark :{mark}\n")
        self.out.flush()
        return self.answers.readline().decode().strip()

    def close(self) -> None:
        self.out.close()
        if self.proc.wait() != 0:
            raise RuntimeError("git fast-import failed")
        self.answers.close()


class HistoryGenerator:
    def __init__(self, repo: Path, changes: int, seed: int = 7, initial_files: int = 600,
                 start: int = 1_640_995_200, span_days: int = 900) -> None:
        self.repo = repo
        self.target = changes
        self.rng = random.Random(seed)
        self.initial_files = initial_files
        self.clock = start
        self.step = max(60, span_days * 86400 // max(1, changes))
        self.truth = Truth()
        self.files: dict[str, bytes] = {}
        self.mark = 0
        self.pr = 100
        self.mainline: list[_Change] = []
        self.migration = 0

    # -- content ---------------------------------------------------------------------------------

    def _line(self) -> str:
        r = self.rng
        return f"    {r.choice(WORDS)}_{r.randrange(1000)} = compute({r.choice(WORDS)}, {r.randrange(100)})"

    def _source(self, package: str, name: str) -> bytes:
        body = "\n".join(self._line() for _ in range(self.rng.randrange(20, 60)))
        return f'"""{package}.{name}"""\n\n\ndef run():\n{body}\n    return None\n'.encode()

    def _mutate(self, content: bytes) -> bytes:
        lines = content.decode().split("\n")
        for _ in range(self.rng.randrange(1, 6)):
            lines.insert(self.rng.randrange(3, max(4, len(lines))), self._line())
        if len(lines) > 90:
            del lines[4:30]
        return "\n".join(lines).encode()

    def _migration(self, reversible: bool) -> tuple[str, bytes]:
        self.migration += 1
        table = self.rng.choice(PACKAGES)
        down = (f"def downgrade():\n    op.drop_column('{table}', 'col{self.migration}')\n" if reversible
                else "def downgrade():\n    pass\n")
        text = (f'"""add col{self.migration}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
                f"revision = 'r{self.migration:05d}'\ndown_revision = 'r{self.migration - 1:05d}'\n\n\n"
                f"def upgrade():\n    op.add_column('{table}', sa.Column('col{self.migration}', sa.Integer()))\n\n\n{down}")
        return f"db/migrations/versions/{self.migration:05d}_add_col{self.migration}.py", text.encode()

    def _deployment(self, service: str, recreate: bool) -> bytes:
        strategy = "type: Recreate" if recreate else "type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 0"
        return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {service}\nspec:\n  replicas: 3\n"
                f"  revisionHistoryLimit: 5\n  strategy:\n    {strategy}\n  template:\n    spec:\n      containers:\n"
                f"        - name: {service}\n          image: registry.example.com/{service}:{self.rng.randrange(1, 999)}\n").encode()

    def _edits(self, count: int) -> dict[str, bytes | None]:
        """Paths to (new) contents for one commit: mostly edits, some new files, tests alongside."""
        edits: dict[str, bytes | None] = {}
        paths = list(self.files)
        for _ in range(count):
            roll = self.rng.random()
            if roll < 0.12:
                package = self.rng.choice(PACKAGES)
                # spread over the package's modules: real trees have no directory of thousands of files
                path = f"src/{package}/mod{self.rng.randrange(8)}/{self.rng.choice(WORDS)}_{self.rng.randrange(100000)}.py"
                edits[path] = self._source(package, path)
            else:
                path = self.rng.choice(paths)
                edits[path] = self._mutate(edits.get(path) or self.files[path])
        if self.rng.random() < 0.35:
            package = self.rng.choice(PACKAGES)
            path = f"tests/{package}/test_{package}.py"
            edits[path] = self._mutate(self.files.get(path) or self._source(package, "tests"))
        return edits

    # -- git objects -----------------------------------------------------------------------------

    def _commit(self, imp: _Importer, ref: str, author: tuple[str, str], message: str,
                edits: dict[str, bytes | None], *, parent: int | None = None, merge: int | None = None,
                renames: list[tuple[str, str]] = (), committer: tuple[str, str] | None = None) -> int:
        self.mark += 1
        self.clock += self.rng.randrange(self.step // 2, self.step * 3 // 2)
        who = committer or author
        imp.write(f"commit {ref}\nmark :{self.mark}\nauthor {author[0]} <{author[1]}> {self.clock} +0000\n"
                  f"committer {who[0]} <{who[1]}> {self.clock} +0000\n")
        imp.data(message.encode())
        if parent is not None:
            imp.write(f"from :{parent}\n")
        if merge is not None:
            imp.write(f"merge :{merge}\n")
        for old, new in renames:
            imp.write(f'R "{old}" "{new}"\n')
        for path, content in edits.items():
            if content is None:
                imp.write(f'D "{path}"\n')
            else:
                imp.write(f'M 100644 inline "{path}"\n')
                imp.data(content)
        return self.mark

    def _message(self, subject: str, author: tuple[str, str], ai: str | None, reviewed: bool,
                 extra: str = "") -> tuple[str, tuple[str, str] | None]:
        """The message, and who commits it: the reviewer, when an AI-assisted commit carries their
        Reviewed-by (a trailer the agent's operator committed alone would not count)."""
        body = [subject, "", f"{self.rng.choice(VERBS)} {self.rng.choice(NOUNS)} so that callers see fewer surprises."]
        if extra:
            body += ["", extra]
        trailers = []
        committer = None
        if ai:
            trailers.append(AI_MARKERS[ai])
        if reviewed:
            reviewer = self.rng.choice([h for h in HUMANS if h != author])
            trailers.append(f"Reviewed-by: {reviewer[0]} <{reviewer[1]}>")
            committer = reviewer if ai else None
        if self.rng.random() < 0.3:
            tester = self.rng.choice(HUMANS)
            trailers.append(f"Tested-by: {tester[0]} <{tester[1]}>")
        trailers.append(f"Signed-off-by: {author[0]} <{author[1]}>")
        return "\n".join(body) + "\n\n" + "\n".join(trailers) + "\n", committer

    # -- the history -----------------------------------------------------------------------------

    def generate(self) -> Truth:
        subprocess.run(["git", "init", "-q", "-b", "main", str(self.repo)], check=True)
        imp = _Importer(self.repo)
        try:
            self._initial(imp)
            while self.truth.changes < self.target:
                self._one_change(imp)
            imp.write("done\n")
        finally:
            imp.close()
        subprocess.run(["git", "-C", str(self.repo), "update-ref", "-d", "refs/heads/topic"], check=False)
        return self.truth

    def _initial(self, imp: _Importer) -> None:
        for i in range(self.initial_files):
            package = PACKAGES[i % len(PACKAGES)]
            sub = f"mod{(i // len(PACKAGES)) % 8}"
            self.files[f"src/{package}/{sub}/file_{i}.py"] = self._source(package, f"file_{i}")
        for package in PACKAGES:
            self.files[f"deploy/k8s/{package}.yaml"] = self._deployment(package, recreate=False)
            self.files[f"docs/{package}.md"] = f"# {package}\n\nHow {package} works.\n".encode()
        mark = self._commit(imp, "refs/heads/main", HUMANS[0], "Initial import\n", dict(self.files))
        self._record(mark, "Initial import", None, reviewed=False, kind="direct")

    def _one_change(self, imp: _Importer) -> None:
        roll = self.rng.random()
        ai = self.rng.choice(list(AI_MARKERS)) if self.rng.random() < 0.25 else None
        reviewed = self.rng.random() < 0.55
        author = self.rng.choice(HUMANS)
        if len(self.mainline) > 30 and roll < 0.04:
            self._revert_or_fix(imp, author, ai, reviewed, revert=True)
        elif len(self.mainline) > 30 and roll < 0.08:
            self._revert_or_fix(imp, author, ai, reviewed, revert=False)
        elif roll < 0.38:
            self._merge(imp, author, ai, reviewed)
        else:
            self._squash(imp, author, ai, reviewed, direct=roll > 0.92)

    def _squash(self, imp: _Importer, author: tuple[str, str], ai: str | None, reviewed: bool, direct: bool = False) -> None:
        self.pr += 1
        subject = f"{self.rng.choice(VERBS)} {self.rng.choice(NOUNS)} in {self.rng.choice(PACKAGES)}"
        if not direct:
            subject += f" (#{self.pr})"
        edits = self._edits(self.rng.randrange(1, 5))
        renames: list[tuple[str, str]] = []
        roll = self.rng.random()
        if roll < 0.05:
            path, content = self._migration(reversible=self.rng.random() < 0.85)
            edits[path] = content
        elif roll < 0.09:
            service = self.rng.choice(PACKAGES)
            edits[f"deploy/k8s/{service}.yaml"] = self._deployment(service, recreate=self.rng.random() < 0.3)
        elif roll < 0.13:
            old = self.rng.choice([p for p in self.files if p.startswith("src/") and p not in edits])
            new = old.rsplit("/", 1)[0] + f"/renamed_{self.rng.randrange(100000)}.py"
            renames.append((old, new))
            edits[new] = self._mutate(self.files[old])
            edits.pop(old, None)
        elif roll < 0.15:
            victim = self.rng.choice([p for p in self.files if p.startswith("src/") and p not in edits])
            edits[victim] = None
        message, committer = self._message(subject, author, ai, reviewed)
        mark = self._commit(imp, "refs/heads/main", author, message, edits, renames=renames, committer=committer)
        for old, _ in renames:
            self.files.pop(old, None)
        self._apply(edits)
        self._record(mark, subject, ai, reviewed, kind="direct" if direct else "squash")

    def _merge(self, imp: _Importer, author: tuple[str, str], ai: str | None, reviewed: bool) -> None:
        self.pr += 1
        back = 0 if self.rng.random() < 0.7 or len(self.mainline) < 3 else self.rng.randrange(1, min(20, len(self.mainline)))
        fork = self.mainline[-1 - back].mark
        branch = f"{author[1].split('.')[0]}/{self.rng.choice(NOUNS).replace(' ', '-')}-{self.pr}"
        title = f"{self.rng.choice(VERBS)} {self.rng.choice(NOUNS)}"
        count = self.rng.randrange(1, 5)
        marker_at = self.rng.randrange(count)
        tip = fork
        branch_edits: dict[str, bytes | None] = {}
        for i in range(count):
            edits = {p: c for p, c in self._edits(self.rng.randrange(1, 4)).items() if c is not None}
            message, committer = self._message(f"{title} (part {i + 1})", author, ai if i == marker_at else None,
                                               reviewed and i == count - 1)
            tip = self._commit(imp, "refs/heads/topic", author, message, edits, parent=tip, committer=committer)
            branch_edits.update(edits)
            self.truth.side_commits += 1
        subject = f"Merge pull request #{self.pr} from example/{branch}"
        mark = self._commit(imp, "refs/heads/main", MERGER, f"{subject}\n\n{title}\n", branch_edits, merge=tip)
        self._apply(branch_edits)
        self._record(mark, subject, ai, reviewed, kind="merge")

    def _revert_or_fix(self, imp: _Importer, author: tuple[str, str], ai: str | None, reviewed: bool, revert: bool) -> None:
        target = self.rng.choice(self.mainline[max(1, len(self.mainline) - 200):-1])
        sha = imp.sha_of(target.mark)
        self.pr += 1
        edits = self._edits(1)
        if revert:
            subject = f'Revert "{target.subject}" (#{self.pr})'
            extra = f"This reverts commit {sha}."
        elif self.rng.random() < 0.5:
            subject = f"Fix {self.rng.choice(NOUNS)} regression (#{self.pr})"
            extra = f'Fixes: {sha[:12]} ("{target.subject}")'
        else:
            subject = f"fix: {self.rng.choice(NOUNS)} broke in {sha[:8]} (#{self.pr})"
            extra = ""
        message, committer = self._message(subject, author, ai, reviewed, extra)
        mark = self._commit(imp, "refs/heads/main", author, message, edits, committer=committer)
        self._apply(edits)
        (self.truth.reverted if revert else self.truth.fixed).add(target.number)
        self._record(mark, subject, ai, reviewed, kind="squash")

    def _apply(self, edits: dict[str, bytes | None]) -> None:
        for path, content in edits.items():
            if content is None:
                self.files.pop(path, None)
            else:
                self.files[path] = content

    def _record(self, mark: int, subject: str, ai: str | None, reviewed: bool, kind: str) -> None:
        number = len(self.mainline)
        self.mainline.append(_Change(number, mark, subject, ai))
        truth = self.truth
        truth.changes += 1
        truth.merges += kind == "merge"
        if kind != "direct" and number:
            truth.pull_request_numbers.append(self.pr)
        if ai:
            truth.ai[ai] += 1
        if not reviewed:
            if ai:
                truth.unreviewed_ai += 1
            else:
                truth.unreviewed_other += 1


def generate(repo: Path, changes: int, seed: int = 7, initial_files: int = 600) -> Truth:
    return HistoryGenerator(repo, changes, seed=seed, initial_files=initial_files).generate()
