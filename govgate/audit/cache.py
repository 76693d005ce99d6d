"""The incremental audit's store: one row per first-parent commit, in SQLite under the cache directory.

A row holds what judging that commit's change produced (the ChangeRecord, its check object as
text, the references it makes to older changes) and the link to its first parent, so a later
audit walks the cached part of a history through the database alone and asks git only about
commits it has not seen. Rows live under a *chain key*: a digest of everything that decides a
verdict besides the commits themselves (``judge_inputs``) and of what decides which commits make
a change (the range's excluded side, the ``--path`` filters). Any difference, including a new
govgate, a changed policy or a waiver expiring, gives a different key, so nothing stale is read;
unused keys are pruned after ``KEEP_DAYS``.

Several audits may share the file at once: SQLite in WAL mode, short write transactions, and
rows that are a function of their key (two writers write the same bytes). A cache that cannot be
opened (read-only directory, corrupt file) is reported once on stderr and the audit runs without
it: a cache never changes a result, only its cost.

The cache is trusted like the repository's own git directory (it sits inside it by default):
whoever can write it could plant verdicts. Do not restore it from an untrusted source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import govgate
from govgate.audit.failures import ChangeRefs
from govgate.audit.record import ChangeRecord
from govgate.model import Severity
from govgate.policy.model import Policy

SCHEMA = 1  # bump when rows change meaning: a new file name, so an older govgate never reads them
FILE_NAME = f"audit-v{SCHEMA}.sqlite3"
KEEP_DAYS = 60
BUSY_TIMEOUT_MS = 30_000
WALK_STEP = 4096  # rows fetched per query while following first-parent links

JUDGED, OUTSIDE_PATHS, OUTSIDE_UNTIL = 0, 1, 2  # row kinds


@dataclass
class Row:
    sha: str
    parent: str | None
    committed: str  # committer date of the first-parent commit (what --since/--until compare)
    kind: int
    github: str | None  # digest of the GitHub data the verdict used (--github), else None
    record: ChangeRecord | None
    refs: ChangeRefs | None


def judge_inputs(policy: Policy, *, fail_on: Severity, exact_lines: bool, github: bool, repo_url: str | None,
                 today: dt.date, extra: Iterable[str] = ()) -> list[str]:
    """Everything besides a change's commits that decides its record, as text to digest.

    A feature that makes verdicts depend on something else adds it here or passes it in ``extra``:
    a file read at the trust root (its digest), a date window (which side of it ``today`` is on).
    """
    expired = "".join("1" if dt.date.fromisoformat(w.expires) < today else "0" for w in policy.waivers)
    # Where the policy was read (the audited tip, which moves) is the same for every change of a run: it
    # is joined to records as they are written, never stored, so it stays out of the key.
    judged_by = dataclasses.replace(policy, origin=None)
    return [f"schema {SCHEMA}", f"govgate {govgate.__version__}", f"code {_code_digest()}", f"policy {judged_by!r}",
            f"fail_on {fail_on}", f"exact_lines {exact_lines}", f"github {github}", f"repo_url {repo_url}",
            f"expired waivers {expired}", *extra]


def chain_key(inputs: Iterable[str], exclude: Iterable[str], paths: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in (*inputs, f"exclude {sorted(exclude)}", f"paths {list(paths)}"):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def _code_digest() -> str:
    """Names, sizes and times of govgate's own files: an edited or reinstalled govgate judges afresh
    even when its version number did not change (a development checkout, a patched install)."""
    root = Path(govgate.__file__).resolve().parent
    digest = hashlib.sha256()
    for folder in (root, root.parent / "policies", root / "policies"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".yml", ".json") and path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(folder)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


class AuditCache:
    def __init__(self, db: sqlite3.Connection, chain: str) -> None:
        self._db = db
        self.chain = chain
        self._pending: list[tuple[Any, ...]] = []
        self._checks: list[tuple[str, str, str]] = []

    @classmethod
    def open(cls, directory: Path, chain: str) -> AuditCache:
        """Raises OSError or sqlite3.Error when the cache cannot be used."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            # Small rows to walk; the check objects (kilobytes each) apart, read only by runs that print them.
            db.execute("CREATE TABLE IF NOT EXISTS changes (chain TEXT NOT NULL, sha TEXT NOT NULL, parent TEXT, "
                       "committed TEXT NOT NULL, kind INTEGER NOT NULL, github TEXT, record TEXT, refs TEXT, "
                       "PRIMARY KEY (chain, sha))")
            db.execute("CREATE TABLE IF NOT EXISTS checks (chain TEXT NOT NULL, sha TEXT NOT NULL, check_json TEXT NOT NULL, "
                       "PRIMARY KEY (chain, sha))")
            db.execute("CREATE TABLE IF NOT EXISTS chains (chain TEXT PRIMARY KEY, used TEXT NOT NULL)")
            today = dt.date.today()
            db.execute("BEGIN IMMEDIATE")
            stale = [r[0] for r in db.execute("SELECT chain FROM chains WHERE used < ? AND chain != ?",
                                              ((today - dt.timedelta(days=KEEP_DAYS)).isoformat(), chain))]
            for old in stale:
                db.execute("DELETE FROM changes WHERE chain = ?", (old,))
                db.execute("DELETE FROM checks WHERE chain = ?", (old,))
                db.execute("DELETE FROM chains WHERE chain = ?", (old,))
            db.execute("INSERT OR REPLACE INTO chains VALUES (?, ?)", (chain, today.isoformat()))
            db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        return cls(db, chain)

    def get(self, sha: str, with_json: bool) -> Row | None:
        check = "(SELECT check_json FROM checks k WHERE k.chain = c.chain AND k.sha = c.sha)" if with_json else "NULL"
        row = self._db.execute(f"SELECT sha, parent, committed, kind, github, record, refs, {check} "
                               "FROM changes c WHERE chain = ? AND sha = ?", (self.chain, sha)).fetchone()
        return _row(row) if row else None

    @property
    def empty(self) -> bool:
        """Whether nothing is stored under this chain key (a first audit: read everything, count nothing)."""
        return self._db.execute("SELECT 1 FROM changes WHERE chain = ? LIMIT 1", (self.chain,)).fetchone() is None

    def walk(self, start: str, with_json: bool) -> Iterator[Row]:
        """The rows from ``start`` down its first-parent links, in order, until one is missing."""
        sha: str | None = start
        columns = "sha, parent, committed, kind, github, record, refs"
        while sha is not None:
            # One query follows up to WALK_STEP links; rows come out in the order the walk reaches them.
            query = (f"WITH RECURSIVE walk(n, {columns}) AS (SELECT 0, {columns} FROM changes WHERE chain = ? AND sha = ? "
                     f"UNION ALL SELECT walk.n + 1, {', '.join('c.' + c for c in columns.split(', '))} "
                     "FROM walk JOIN changes c ON c.chain = ? AND c.sha = walk.parent WHERE walk.n < ?) ")
            parameters: tuple[Any, ...] = (self.chain, sha, self.chain, WALK_STEP - 1)
            if with_json:
                query += "SELECT walk.*, k.check_json FROM walk LEFT JOIN checks k ON k.chain = ? AND k.sha = walk.sha"
                parameters += (self.chain,)
            else:
                query += "SELECT walk.*, NULL FROM walk"
            rows = self._db.execute(query, parameters).fetchall()
            if not rows:
                return
            if any(row[0] != index for index, row in enumerate(rows)):
                rows.sort(key=lambda row: row[0])
            for row in rows:
                yield _row(row[1:])
            sha = rows[-1][2] if len(rows) == WALK_STEP else None

    def put(self, sha: str, parent: str | None, committed: str, kind: int, github: str | None = None,
            record: ChangeRecord | None = None, refs: ChangeRefs | None = None) -> None:
        from govgate.formats.compact_json import compact

        self._pending.append((self.chain, sha, parent, committed, kind, github,
                              compact(record.values()) if record is not None else None,
                              compact(refs.values()) if refs is not None else None))
        if record is not None and record.check_json:
            self._checks.append((self.chain, sha, record.check_json))
        if len(self._pending) >= 256:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # check objects first: a reader that finds the row finds its check object too
            self._db.executemany("INSERT OR REPLACE INTO checks VALUES (?, ?, ?)", self._checks)
            self._db.executemany("INSERT OR REPLACE INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._pending)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._pending.clear()
            self._checks.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()


def _row(row: tuple[Any, ...]) -> Row:
    sha, parent, committed, kind, github, record, refs, check_json = row
    parsed = ChangeRecord.from_values(_loads(record), check_json or "") if record else None
    return Row(sha, parent, committed, kind, github, parsed, ChangeRefs.from_values(_loads(refs)) if refs else None)


def _loads(text: str) -> Any:
    try:
        import orjson
    except ImportError:  # pragma: no cover
        import json

        return json.loads(text)
    return orjson.loads(text)


def default_directory(git_dir: Path) -> Path:
    return Path(os.environ["GOVGATE_AUDIT_CACHE_DIR"]) if os.environ.get("GOVGATE_AUDIT_CACHE_DIR") else git_dir / "govgate-cache"
