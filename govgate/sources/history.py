"""Every change on an audited branch, streamed newest first: one Change per first-parent commit.

Each first-parent commit is one change. A merge's change spans the commits it brought
in (their messages, authors and trailers belong to it) and its files are the diff of the merge
against its first parent; squash merges and direct pushes are single-commit changes. Only the
named branch is walked (``git log <rev>``, never ``--all``: mirrors carry ``refs/pull/*``).

Cost: one streamed ``git log --first-parent -z --raw`` gives the commits and their file lists
(tree diffs only, no blob is read); ``--exact-lines`` adds ``--numstat`` (git then diffs every
blob, several times slower). The commits merges brought in come from a second, metadata-only
``git log --topo-order`` read in lockstep (see ``history_walk``). File sizes, which let the risk
detector estimate churn without diffing, come from one ``git cat-file --batch-check`` process fed
in batches; contents only when a detector asks, through one ``git cat-file --batch``. No git
process runs per commit, and memory depends on the width of the history, not its length.

Incomplete histories never end the run. A partial clone (``--filter=blob:none``) lacks most
blobs: nothing is fetched (an audit stays offline), renames are detected only when the content is
unchanged, and absent contents read as unavailable. A shallow clone's boundary commit has no parent
to diff against: its file list is dropped and the change says why. A damaged mirror lacking an
object: the change that needs it records the gap (``Change.incomplete``: it is not fully judged),
git is restarted after it, and the walk goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from govgate.errors import GitError
from govgate.model import Change, Commit, FileChange, Gap, GapKind, parse_moment, path_matches
from govgate.sources import SourceRequest, TrustRoot
from govgate.sources.git import LOG_FORMAT, GitRepo, commit_from_object, parse_diff_tokens, parse_log
from govgate.sources.history_objects import ChangeContents, SizeSettings
from govgate.sources.history_walk import GitStream, SideCommits, git_dir
from govgate.sources.merge_messages import pull_request_for, read_landing, web_url
from govgate.sources.pull_refs import PullRefs

CHANGE_BATCH = 64  # changes whose absent blobs (partial clones) are counted together
_NO_LAZY_FETCH = {"GIT_ALLOW_PROTOCOL": "none"}  # a partial clone's lazy fetch fails at once instead of going online


@dataclass
class HistoryOptions:
    rev: str = "HEAD"  # REV, or A..B
    since: dt.datetime | None = None  # aware datetimes; a change's date is its first-parent commit's committer date
    until: dt.datetime | None = None
    paths: tuple[str, ...] = ()  # keep a change when any of its files matches one of these globs
    exact_lines: bool = False
    waived_pulls: frozenset[int] = frozenset()  # pull requests a waiver names: their landings need proof


@dataclass
class HistoryRange:
    tip: str
    exclude: list[str] = field(default_factory=list)
    label: str = "HEAD"


def resolve_range(repo: GitRepo, rev: str) -> HistoryRange:
    """``REV`` or ``A..B`` (an empty side means HEAD) into shas; unknown revisions are input errors."""
    text = rev.strip() or "HEAD"
    if "..." in text:
        raise GitError(f"{text!r}: symmetric ranges (A...B) are not supported", "audit one branch: REV or A..B")
    if ".." in text:
        start, _, end = text.partition("..")
        return HistoryRange(tip=repo.resolve(end or "HEAD"), exclude=[repo.resolve(start or "HEAD")], label=text)
    if text.startswith("-"):
        raise GitError(f"{text!r} is not a revision", "pass REV or A..B")
    return HistoryRange(tip=repo.resolve(text), label=text)


class HistorySource:
    """A ChangeSource over history; ``problems`` holds notes about the run as a whole."""

    def __init__(self, repo: GitRepo, options: HistoryOptions, prefetch: Callable[[FileChange], bool] | None = None) -> None:
        """``prefetch``: which files' new contents to fetch together on a change's first read."""
        self.repo = repo
        self.options = options
        self.prefetch = prefetch
        self.on_skip: Callable[[Commit, str], None] | None = None
        self.last_scanned: Commit | None = None  # the last first-parent commit looked at
        self.reached_since = False  # the walk ended at a commit older than --since
        self.range = resolve_range(repo, options.rev)
        self.problems: list[str] = []
        self.scanned = 0  # first-parent commits looked at (in the date window or not)
        self.repo_url = web_url(repo.remote_url())
        self._shallow = self._read_shallow()
        self._partial = self._is_partial_clone()
        self._present: set[str] | None = self._present_blobs() if self._partial else None
        self._env = _NO_LAZY_FETCH if self._partial else {}
        self._side = SideCommits(repo, self.range.exclude, self._shallow)
        self.pull_refs = PullRefs(repo)  # listed once, on first use: the walk's landing proofs and the audit cache's key
        self._streams: list[GitStream] = []
        self._missing_blobs = 0
        self._estimate: int | None = None
        if self._partial:
            self.problems.append(
                "partial clone: file contents not present locally are not fetched (an audit stays offline); "
                "renames are detected only for unchanged files" + ("; --exact-lines needs every blob, so line counts "
                                                                  "were not computed" if options.exact_lines else ""))

    # -- public ------------------------------------------------------------------------------

    name = "history"

    def trust_root(self) -> TrustRoot:
        return TrustRoot(self.range.tip, "the audited revision")

    def changes(self, trusted: object = None, *, start: str | None = None, limit: int | None = None) -> Iterator[Change]:
        """The changes, newest first (one policy judges them all: ``trusted`` is not needed here).
        Blob sizes are not filled in here: ``BlobSizes`` (made from ``size_settings``) does it where
        the changes are judged, in this process or a worker.

        ``start`` and ``limit`` read a segment of the range: at most ``limit`` first-parent commits
        from ``start`` (a first-parent commit of the range) down (an incremental audit reads only
        what its cache does not hold). First-parent commits the filters pass over are reported to
        ``on_skip`` (commit, "until" | "paths") when it is set.
        """
        if start is not None:
            self._side.close()
            self._side = SideCommits(self.repo, self.range.exclude, self._shallow)  # a walk from the segment's top
        absent: set[str] = set()  # counted per batch of changes, as the sizes were once looked up
        in_batch = 0
        present = self._present
        for change in self._changes(start or self.range.tip, limit):
            if present is not None:
                absent.update(sha for f in change.files for sha in (f.old_blob, f.new_blob) if sha and sha not in present)
                in_batch += 1
                if in_batch >= CHANGE_BATCH:
                    self._missing_blobs += len(absent)
                    absent, in_batch = set(), 0
            yield change
        self._missing_blobs += len(absent)
        if self._missing_blobs and self._partial and start is None:
            self.problems.append(f"partial clone: {self._missing_blobs} file versions were not present locally")
        self.problems.extend(self._side.problems)
        self._side.problems.clear()

    @property
    def troubled(self) -> bool:
        """Whether reading has run into damage so far (a run-level problem, or one on its way)."""
        return bool(self.problems or self._side.problems)

    @property
    def is_shallow(self) -> bool:
        return bool(self._shallow)

    @property
    def present_blobs(self) -> set[str] | None:
        """In a partial clone, the blobs present locally (None: any blob may be read)."""
        return self._present

    @property
    def size_settings(self) -> SizeSettings:
        """How the changes of this source get their blob sizes (picklable: workers look them up themselves)."""
        return SizeSettings(enabled=self._partial or not self.options.exact_lines, present=self._present, env=self._env)

    def estimate(self) -> int | None:
        """How many first-parent commits the walk will look at (within --since/--until; for a progress bar), or None."""
        if self._estimate is None:
            window = [f"--{name}={moment.isoformat()}" for name, moment in
                      (("since", self.options.since), ("until", self.options.until)) if moment is not None]
            out = self.repo.try_run("rev-list", "--first-parent", "--count", *window, self.range.tip, "--not",
                                    *self.range.exclude, "--")
            self._estimate = int(out) if out and out.strip().isdigit() else -1
        return self._estimate if self._estimate >= 0 else None

    def close(self) -> None:
        self._side.close()
        for stream in self._streams:
            stream.close()
        self.repo.close()

    # -- the first-parent walk -------------------------------------------------------------

    def _changes(self, start: str, limit: int | None) -> Iterator[Change]:
        since, until = self.options.since, self.options.until
        for commit, tokens, gaps in self._mainline(start, limit):
            self.scanned += 1
            self.last_scanned = commit
            when = parse_moment(commit.committed_at)
            if since is not None and when is not None and when < since:
                self.reached_since = True
                return  # like git log --since: the walk ends at the first older first-parent commit
            if until is not None and when is not None and when > until:
                if self.on_skip is not None:
                    self.on_skip(commit, "until")
                continue
            files = self._files(commit, tokens, gaps)
            if self.options.paths and not any(
                any(path_matches(path, glob) for glob in self.options.paths) for f in files for path in _paths_of(f)
            ):
                if self.on_skip is not None:
                    self.on_skip(commit, "paths")
                continue
            side, side_problems = self._side.brought_in(commit)
            yield self._change(commit, side, files, gaps + [Gap(GapKind.HISTORY_MISSING, p) for p in side_problems])

    def _mainline(self, first: str, limit: int | None) -> Iterator[tuple[Commit, list[bytes], list[Gap]]]:
        """(commit, diff tokens, gaps) for each first-parent commit from ``first`` (at most ``limit``
        of them); git is restarted past damage."""
        start: str | None = first
        left = limit
        while start is not None and (left is None or left > 0):
            last: Commit | None = None
            args = self._log_args(start)
            if left is not None:
                args.insert(1, f"--max-count={left}")
            stream = GitStream(self.repo, args, self._env)
            self._streams.append(stream)
            try:
                for commit, tokens in parse_log(stream.chunks()):
                    last = commit
                    if left is not None:
                        left -= 1
                    yield commit, tokens, []
                return
            except GitError as exc:
                if last is not None:
                    start = last.parents[0] if last.parents else None
                    continue
                alone = self._alone(start)  # git may have died on a later commit before this one was complete
                if alone is not None:
                    if left is not None:
                        left -= 1
                    yield alone[0], alone[1], []
                    start = alone[0].parents[0] if alone[0].parents else None
                    continue
                fallback = self._fallback(start, stream.error or exc.message)
                if fallback is None:
                    return
                if left is not None:
                    left -= 1
                yield fallback
                start = fallback[0].parents[0] if fallback[0].parents else None
            finally:
                stream.close()
                self._streams.remove(stream)
            if start is not None and start in self.range.exclude:
                return

    def _log_args(self, start: str) -> list[str]:
        args = ["log", "--first-parent", "-z", f"--format={LOG_FORMAT}", "--raw", "--no-abbrev",
                "--no-ext-diff", "--no-textconv", "--diff-merges=first-parent"]
        if self._partial:
            args.append("-M100%")  # inexact renames would need every blob
        else:
            args.append("-M")
            if self.options.exact_lines:
                args.append("--numstat")
        return [*args, start, "--not", *self.range.exclude, "--"]

    def _alone(self, sha: str) -> tuple[Commit, list[bytes]] | None:
        stream = GitStream(self.repo, ["log", "-1", *self._log_args(sha)[1:]], self._env)
        try:
            entries = list(parse_log(stream.chunks()))
        except GitError:
            return None
        finally:
            stream.close()
        return entries[0] if entries else None

    def _fallback(self, sha: str, error: str) -> tuple[Commit, list[bytes], list[Gap]] | None:
        """The commit git log died on: its metadata and an undetected-rename file list, or the end."""
        commit = self._commit_object(sha)
        if commit is None:
            self.problems.append(f"history ends early: commit {sha[:12]} cannot be read ({error})")
            return None
        against = [commit.parents[0], sha] if commit.parents else ["--root", sha]
        try:
            diff = self.repo.run_bytes("diff-tree", "-r", "-z", "--raw", "--no-abbrev", "--no-renames", *against)
            tokens = diff.split(b"\0")
            gap = Gap(GapKind.CONTENT_MISSING,
                      f"git could not diff this change ({error}); files are listed without rename detection or line counts")
        except GitError as exc:
            tokens = []
            gap = Gap(GapKind.HISTORY_MISSING, f"the files of this change cannot be read ({exc.message})")
        return commit, tokens, [gap]

    def _commit_object(self, sha: str) -> Commit | None:
        """A commit read straight from its object: works when its parents are missing, unlike git log."""
        try:
            return commit_from_object(sha, self.repo.run_bytes("cat-file", "commit", sha))
        except GitError:
            return None

    def _files(self, commit: Commit, tokens: list[bytes], gaps: list[Gap]) -> list[FileChange]:
        if commit.sha in self._shallow:
            gaps.append(Gap(GapKind.HISTORY_MISSING,
                            "shallow clone: this commit's parent is beyond the clone's depth, so its diff is unknown"))
            note = f"shallow clone: the audit ends at the clone's depth ({commit.sha[:12]})"
            if note not in self.problems:
                self.problems.append(note)
            return []
        files = parse_diff_tokens(tokens, None)
        contents = ChangeContents(self.repo.blobs, self._present, files, self.prefetch)
        for f in files:
            f._load_old = contents.loader(f.old_blob, prefetch=False)
            f._load_new = contents.loader(f.new_blob, prefetch=True)
        return files

    def _change(self, commit: Commit, side: list[Commit], files: list[FileChange], gaps: list[Gap]) -> Change:
        landing = read_landing(commit)
        pull_request = pull_request_for(landing, commit, self.repo_url)
        if pull_request is not None and pull_request.number is not None:
            # Only a waiver cares whether the number is proven; the proof costs a git call or two.
            waived = pull_request.number in self.options.waived_pulls
            pull_request.landing_proven = waived and self.pull_refs.proves(commit, pull_request.number)
        commits = [commit, *side]
        return Change(
            id=f"#{landing.number}" if landing.number is not None else commit.sha[:12],
            title=landing.title or commit.subject,
            base=commit.parents[0] if commit.parents else None,
            head=commit.sha,
            commits=commits,
            files=files,
            pull_request=pull_request,
            branch=landing.head_ref,
            kind="merge" if commit.is_merge else "commit",
            date=commit.committed_at,
            author=commits[-1].author,
            repo_url=self.repo_url,
            incomplete=gaps,
        )

    # -- objects -------------------------------------------------------------------------------

    def _read_shallow(self) -> frozenset[str]:
        try:
            return frozenset((git_dir(self.repo) / "shallow").read_text().split())
        except OSError:
            return frozenset()

    def _is_partial_clone(self) -> bool:
        out = self.repo.try_run("config", "--get-regexp", r"^(remote\..*\.promisor|extensions\.partialclone)$") or ""
        return any(line.split(" ", 1)[-1].strip().lower() not in ("", "false") for line in out.splitlines())

    def _present_blobs(self) -> set[str]:
        """Blobs a partial clone has locally; asking git for any other one would go online."""
        stream = GitStream(self.repo, ["cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname)"])
        present: set[str] = set()
        pending = b""
        try:
            for chunk in stream.chunks():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                present.update(line[5:].decode() for line in lines if line.startswith(b"blob "))
        except GitError as exc:
            self.problems.append(f"cannot list the objects of this partial clone ({exc.message})")
        finally:
            stream.close()
        return present


def open_source(request: SourceRequest) -> HistorySource:
    return HistorySource(request.repo, request.history or HistoryOptions(rev=request.head or "HEAD"))


def _paths_of(f: FileChange) -> tuple[str, ...]:
    return (f.path, f.old_path) if f.old_path else (f.path,)



def take(iterator: Iterator[Change], count: int) -> list[Change]:
    """The first ``count`` changes (tests, previews)."""
    return list(islice(iterator, count))
