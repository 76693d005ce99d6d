"""Which commits each first-parent commit brought in, from one streamed ``git log --topo-order``.

A merge M on the audited branch brought in the commits reachable from M but not from its first
parent M^1. Asking git for ``M^1..M`` per merge costs a process per merge, so instead one
``git log --topo-order`` of the whole range (metadata only, no diffs) is read in lockstep with
the first-parent stream that carries the diffs, and each commit is assigned to its merge on the fly:

* Topological order shows every commit after all of its children. A side commit's merge is the
  *oldest* first-parent commit that reaches it, which is the oldest among the merges its children
  belong to (a first-parent child counts as itself). So when a commit is shown, its merge is
  already known from its shown children; each commit then passes that index on to its parents.
* Only the frontier is kept: commits some shown child points at, with the oldest merge seen so far.
  It is as wide as the history's parallel branches, not as long as the history.
* The group of merge k is complete once merge k has been shown and no frontier commit still has an
  index at or below k (such a commit could only end up in group k or newer).
* A frontier commit that is itself on the first parent chain (a branch's fork point) is recognised
  through a read-ahead window of the chain (``git rev-list --first-parent``, 40 bytes a commit);
  fork points further back than the window, or commits shared with an older merge (stacked or
  long-lived branches), would hold a group open; when too many first-parent commits wait behind one,
  a single ``git rev-list`` asks which of the holders are ancestors of the far end of the window,
  and those move out of the way (their merge is at least that far back).

Requests come in first-parent order. The walk starts at the first merge asked for, so a linear
history never starts it. A walk started at any first-parent commit assigns that commit and every
older one correctly, which makes restarts simple: when the walk fails (a damaged mirror lacking a
commit object), merges are read one by one (``git log M^2 --not M^1``) until the damaged merge is
passed, then a fresh walk starts at the next merge.
"""

from __future__ import annotations

import heapq
import subprocess
import tempfile
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from pathlib import Path

from govgate.errors import GitError
from govgate.model import Commit
from govgate.sources.git import LOG_FORMAT, GitRepo, _git_env, commit_of, log_records, parse_log, record_fields

READ_AHEAD = 4096  # first-parent commits known beyond the walk's position
HOLD_LIMIT = 512  # first-parent commits allowed to wait behind an open group before holders are resolved


class GitStream:
    """A git process whose stdout is read in chunks; stderr goes to a file so it can never block git."""

    def __init__(self, repo: GitRepo, args: Sequence[str], extra_env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            ["git", "-C", str(repo.path), *self.args],
            stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
            env={**_git_env(), **(extra_env or {})},
        )
        self.error: str | None = None

    def chunks(self) -> Iterator[bytes]:
        assert self._proc.stdout is not None
        while chunk := self._proc.stdout.read(1 << 16):
            yield chunk
        code = self._proc.wait()
        if code != 0:
            self.error = self._last_error(code)
            raise GitError(f"git {self.args[0]} failed: {self.error}")

    def _last_error(self, code: int) -> str:
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
        return (fatal or lines or [f"exit {code}"])[-1]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()  # we stopped reading early (e.g. --since reached): git need not finish
        if self._proc.stdout:
            self._proc.stdout.close()
        self._proc.wait()
        self._stderr.close()


class SideCommits:
    """Answers "which commits did first-parent commit M bring in?" for M in first-parent order."""

    def __init__(self, repo: GitRepo, exclude: Sequence[str], shallow: frozenset[str]) -> None:
        self.repo = repo
        self.exclude = list(exclude)
        self.shallow = shallow
        self.problems: list[str] = []  # run-level notes (a walk that failed)
        self.holder_checks = 0  # times the open-group resolution ran (for benchmarks and tests)
        self._walk: _TopoWalk | None = None
        self._one_by_one = False

    def brought_in(self, mainline: Commit) -> tuple[list[Commit], list[str]]:
        """The commits ``mainline`` brought in besides itself, newest first, and problems reading them."""
        if not mainline.is_merge:
            return [], []
        if self._walk is None and not self._one_by_one:
            self._walk = _TopoWalk(self, mainline.sha)
        if self._walk is not None:
            try:
                found = self._walk.group_of(mainline.sha)
                if found is not None:
                    return found, self._shallow_note(found)
                raise GitError(f"git log --topo-order did not show {mainline.sha[:12]}")
            except GitError as exc:
                self._walk.close()
                self._walk = None
                self._one_by_one = True
                self.problems.append(f"the history walk failed ({exc.message}); merges were read one at a time from there")
        return self._read_one(mainline)

    def _read_one(self, merge: Commit) -> tuple[list[Commit], list[str]]:
        stream = GitStream(self.repo, ["log", "-z", "--topo-order", f"--format={LOG_FORMAT}", *merge.parents[1:],
                                       "--not", merge.parents[0], *self.exclude, "--"])
        try:
            commits = [c for c, _ in parse_log(stream.chunks())]
        except GitError as exc:
            self._one_by_one = False  # past the damage, a fresh walk may succeed again
            return [], [f"the commits this merge brought in could not be read ({exc.message})"]
        finally:
            stream.close()
        return commits, self._shallow_note(commits)

    def _shallow_note(self, commits: list[Commit]) -> list[str]:
        if self.shallow and any(c.sha in self.shallow for c in commits):
            return ["shallow clone: the branch this merge brought in reaches past the clone's depth; older commits are missing"]
        return []

    def close(self) -> None:
        if self._walk is not None:
            self._walk.close()
            self._walk = None


class _TopoWalk:
    def __init__(self, owner: SideCommits, start: str) -> None:
        self.owner = owner
        self.repo = owner.repo
        self._topo = GitStream(self.repo, ["log", "-z", "--topo-order", f"--format={LOG_FORMAT}", start,
                                           "--not", *owner.exclude, "--"])
        self._records = log_records(self._topo.chunks())
        self._chain_stream = GitStream(self.repo, ["rev-list", "--first-parent", start, "--not", *owner.exclude, "--"])
        self._chain_lines = _lines(self._chain_stream)
        self._chain: dict[str, int] = {}  # first-parent sha -> index (0 = start), a window
        self._chain_order: deque[str] = deque()
        self._chain_next = 0
        self._chain_done = False
        self._frontier: dict[str, int] = {}  # unseen commit -> oldest merge index among its seen children
        self._holding: Counter[int] = Counter()  # merge index -> frontier commits at that index
        # Min-heaps of the keys of _holding and _groups (stale entries dropped as they surface), so a
        # request looks at the oldest open group instead of scanning them all.
        self._holding_keys: list[int] = []
        self._groups: dict[int, list[Commit]] = {}
        self._group_keys: list[int] = []
        self._shown_upto = -1  # highest first-parent index the walk has shown
        self._asked = 0  # the last index asked for: requests only go forward
        self._next_check = 0  # when open groups may next be resolved (one git process per HOLD_LIMIT)
        self._ended = False

    def group_of(self, sha: str) -> list[Commit] | None:
        index = self._index_of(sha)
        if index is None:
            return None
        self._asked = index
        while not self._complete(index):
            record = next(self._records, None)
            if record is None:
                self._ended = True
                break
            self._take(record)
            if self._shown_upto - index > HOLD_LIMIT and self._shown_upto >= self._next_check:
                self._next_check = self._shown_upto + HOLD_LIMIT
                self._resolve_holders(index)
        group = self._groups.pop(index, [])
        keys = self._group_keys
        while keys and keys[0] <= index:
            self._groups.pop(heapq.heappop(keys), None)  # groups of first-parent commits nobody asked for (filtered out)
        return group

    def _complete(self, index: int) -> bool:
        if self._ended:
            return True
        if self._shown_upto < index:
            return False
        keys = self._holding_keys
        while keys and keys[0] not in self._holding:
            heapq.heappop(keys)
        return not (keys and keys[0] <= index)

    def _take(self, record: bytes) -> None:
        fields = record_fields(record)
        sha = fields[0].decode()
        parents = fields[1].decode().split()
        self._read_chain(self._shown_upto + READ_AHEAD)
        index = self._chain.get(sha)
        held = self._frontier.pop(sha, None)
        if held is not None:
            self._release(held)
        if index is not None:
            self._shown_upto = index
            for parent in parents[1:]:
                self._hold(parent, index)
            self._forget_chain_before(self._asked)
            return
        group = held if held is not None else max(self._shown_upto, 0)
        members = self._groups.get(group)
        if members is None:
            members = self._groups[group] = []
            heapq.heappush(self._group_keys, group)
        members.append(commit_of(fields))
        for parent in parents:
            self._hold(parent, group)

    def _hold(self, parent: str, group: int) -> None:
        if parent in self._chain:
            return  # a first-parent commit is its own change
        before = self._frontier.get(parent)
        if before is None:
            self._frontier[parent] = group
            self._add_holder(group)
        elif group > before:
            self._frontier[parent] = group
            self._release(before)
            self._add_holder(group)

    def _add_holder(self, group: int) -> None:
        count = self._holding[group]
        if not count:
            heapq.heappush(self._holding_keys, group)
        self._holding[group] = count + 1

    def _release(self, group: int) -> None:
        left = self._holding[group] - 1
        if left:
            self._holding[group] = left
        else:
            del self._holding[group]

    def _resolve_holders(self, index: int) -> None:
        """Move frontier commits that are ancestors of the window's far end out of group ``index``'s way."""
        self._read_chain(self._shown_upto + READ_AHEAD)
        holders = [sha for sha, k in self._frontier.items() if k <= index]
        if not holders or not self._chain_order:
            return
        far = self._chain_order[-1]
        far_index = self._chain[far]
        if far_index <= index:
            return
        self.owner.holder_checks += 1
        try:
            listed = self.repo.run_bytes("rev-list", "--stdin", input_=("\n".join([*holders, f"^{far}"]) + "\n").encode())
        except GitError:
            return  # the walk will still finish; only memory is at stake
        not_ancestors = set(listed.decode().split())
        for sha in holders:
            if sha not in not_ancestors:
                self._release(self._frontier[sha])
                self._frontier[sha] = far_index
                self._add_holder(far_index)

    def _index_of(self, sha: str) -> int | None:
        while sha not in self._chain and not self._chain_done:
            self._read_chain(self._chain_next + 1024)
        return self._chain.get(sha)

    def _read_chain(self, upto: int) -> None:
        while self._chain_next <= upto and not self._chain_done:
            line = next(self._chain_lines, None)
            if line is None:
                self._chain_done = True
                return
            self._chain[line] = self._chain_next
            self._chain_order.append(line)
            self._chain_next += 1

    def _forget_chain_before(self, index: int) -> None:
        # Below the last request nothing is asked for again, and a commit already shown can be
        # nobody's parent from now on (topological order).
        while self._chain_order and self._chain[self._chain_order[0]] < index:
            del self._chain[self._chain_order.popleft()]

    def close(self) -> None:
        self._topo.close()
        self._chain_stream.close()


def _lines(stream: GitStream) -> Iterator[str]:
    pending = b""
    for chunk in stream.chunks():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line:
                yield line.decode()
    if pending:
        yield pending.decode()


def git_dir(repo: GitRepo) -> Path:
    out = repo.try_run("rev-parse", "--absolute-git-dir")
    return Path(out.strip()) if out else repo.path / ".git"
