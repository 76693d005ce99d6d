"""The data that flows between stages: Change (from a source), Evidence (from detectors).

Sources build a Change; detectors read it and return Evidence; nothing here knows about
git, GitHub, YAML or output formats.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from govgate.globs import glob_any, glob_set, path_matches  # noqa: F401  (re-exported: detectors match paths)
from govgate.limits import MAX_INSPECT_BYTES, MAX_INSPECT_LINES

if TYPE_CHECKING:
    from govgate.memory.model import Memory


class Question(str, enum.Enum):
    AI_ASSISTED = "ai_assisted"
    REVIEWED = "reviewed"
    TESTED = "tested"
    ROLLOUT = "rollout"
    ROLLBACK = "rollback"
    RISK = "risk"


# The four governance questions, in the order users read them.
GOVERNANCE_QUESTIONS: tuple[Question, ...] = (
    Question.REVIEWED,
    Question.TESTED,
    Question.ROLLOUT,
    Question.ROLLBACK,
)


class Ranked:
    """Members of an ordered vocabulary compare by rank (weakest 0): ``at_least`` is what policies ask.

    The rank is the member's place in its enum, weakest first, unless ``_strongest_first``."""

    _strongest_first = False

    @property
    def rank(self) -> int:
        ranks = _RANKS.get(type(self))
        if ranks is None:
            members = list(type(self))  # type: ignore[call-overload]
            ordered = reversed(members) if self._strongest_first else members
            ranks = _RANKS[type(self)] = {member: index for index, member in enumerate(ordered)}
        return ranks[self]

    def at_least(self, other: Ranked) -> bool:
        return self.rank >= other.rank


_RANKS: dict[type, dict[Any, int]] = {}


class Trust(Ranked, str, enum.Enum):
    """How far a piece of evidence can be believed, strongest first."""

    _strongest_first = enum.nonmember(True)

    VERIFIED = "verified"  # read from an authority (GitHub API) about this exact head
    DECLARED = "declared"  # a claim by the change's author: trailer, PR body
    INFERRED = "inferred"  # derived from file analysis


class Severity(Ranked, enum.StrEnum):
    """How much a failing rule or a red flag weighs, weakest first (``--fail-on`` compares ranks)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Fragility(Ranked, str, enum.Enum):
    """How fragile a path is, as the organisational memory records it (ordered: low < critical)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class KnowledgeStatus(str, enum.Enum):
    """Who still knows an area, from its history: every knower gone, one left, several, or no history."""

    ORPHANED = "orphaned"  # every knower departed
    BUS_FACTOR_1 = "bus_factor_1"  # exactly one active knower
    SHARED = "shared"  # two or more active knowers
    NO_HISTORY = "no_history"  # no human change in the history read



def parse_moment(text: str | None) -> dt.datetime | None:
    """An ISO 8601 time as git and the forges write it (its offset kept), or None when absent or malformed."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


class Confidence(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Location:
    """Where evidence was found: a file line where one exists, else a textual place."""

    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    where: str | None = None  # e.g. "trailer of 1a2b3c4", "PR body", "GitHub reviews"

    def render(self) -> str:
        if self.path:
            text = self.path
            if self.line:
                text += f":{self.line}"
            return text
        return self.where or ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True, eq=False)  # identity semantics: attrs may hold unhashable values
class Evidence:
    """One finding that bears on a question.

    ``facets`` name the specific requirement keys this evidence can satisfy (for example
    ``tests_changed`` or ``reversible_migrations``); the policy engine matches requirements
    against facets so it never needs to know which detector produced what.
    ``subject`` identifies who or what the evidence is about (a reviewer, a check name, an
    AI tool) so requirements can count distinct subjects.
    """

    question: Question
    kind: str
    supports: bool
    trust: Trust
    source: str
    detail: str
    location: Location = field(default_factory=Location)
    facets: frozenset[str] = frozenset()
    subject: str | None = None
    confidence: Confidence = Confidence.HIGH
    # For contradicting evidence: "error" red flags fail requirements, "warning" ones are shown.
    severity: Severity = Severity.ERROR
    unavailable: bool = False  # the evidence could not be read (missing object, API down)
    # Why this finding is shown but never counted (a self-review, an AI reviewer, a pending check).
    discounted: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def contradicts(self) -> bool:
        return not self.supports

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            # _value_ is what .value returns, without the enum descriptor (every evidence of every change)
            "question": self.question._value_,
            "kind": self.kind,
            "effect": "supports" if self.supports else "contradicts",
            "trust": self.trust._value_,
            "confidence": self.confidence._value_,
            "source": self.source,
            "detail": self.detail,
            "location": self.location.to_dict(),
        }
        if self.facets:
            data["facets"] = sorted(self.facets)
        if self.subject is not None:
            data["subject"] = self.subject
        if not self.supports:
            data["severity"] = self.severity
        if self.unavailable:
            data["unavailable"] = True
        if self.discounted:
            data["discounted"] = self.discounted
        if self.attrs:
            data["attrs"] = dict(self.attrs)
        return data


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def render(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Trailer:
    key: str
    value: str
    line: int  # 1-based line number inside the commit message


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    authored_at: str  # ISO 8601
    committed_at: str
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    # Cached: every detector reads them, and a frozen dataclass's __dict__ can still hold the cache.
    @cached_property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.message.replace("\r\n", "\n").replace("\r", "\n").split("\n"))

    @cached_property
    def trailers(self) -> tuple[Trailer, ...]:
        """Every ``Key: value`` line anywhere in the message.

        Git's own parser only reads the last paragraph, which misses markers followed by
        another block; detectors that need last-paragraph semantics filter by line.
        """
        return tuple(parse_trailer_lines(self.lines))


def parse_trailer_lines(lines: Iterable[str]) -> list[Trailer]:
    found: list[Trailer] = []
    for number, raw in enumerate(lines, start=1):
        if ":" not in raw:
            continue  # most lines: no need to look closer
        key, sep, value = raw.strip().partition(":")
        if not sep or not key or not value.strip():
            continue
        if not _is_trailer_key(key):
            continue
        found.append(Trailer(key=key, value=value.strip(), line=number))
    return found


def _is_trailer_key(key: str) -> bool:
    # Git trailer keys are tokens: letters, digits and hyphens, no spaces. (The first character is a
    # letter, so what is left without the hyphens is never empty.)
    return key[0].isalpha() and key.replace("-", "").isalnum()


class GapKind(enum.StrEnum):
    """Why a change could not be read in full; any gap means the change is not fully judged."""

    COMMITS_TRUNCATED = "commits_truncated"  # a forge listed only part of the commits (GitHub: 250)
    FILES_TRUNCATED = "files_truncated"  # a forge listed only part of the files (GitHub: 3,000)
    HISTORY_MISSING = "history_missing"  # commits or trees outside the clone (shallow, force-pushed, damaged)
    CONTENT_MISSING = "content_missing"  # file contents or line counts that could not be read
    CONTENT_TOO_LARGE = "content_too_large"  # a file a detector needed was past the inspection limits


@dataclass(frozen=True)
class Gap:
    """A part of a change that could not be read: the verdict can then never be pass."""

    kind: GapKind
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "detail": self.detail}


class FileStatus(str, enum.Enum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    COPIED = "copied"
    TYPE_CHANGED = "type_changed"


ContentLoader = Callable[[], "bytes | None"]


@dataclass
class FileChange:
    """One changed path in a Change, with lazy access to its old and new contents."""

    path: str
    status: FileStatus
    old_path: str | None = None
    added: int | None = None  # None: unknown (binary file, or counts not computed)
    removed: int | None = None
    binary: bool = False
    old_blob: str | None = None
    new_blob: str | None = None
    old_size: int | None = None  # bytes; lets history audits estimate churn without diffing blobs
    new_size: int | None = None
    _load_old: ContentLoader | None = field(default=None, repr=False)
    _load_new: ContentLoader | None = field(default=None, repr=False)
    _cache: dict[str, bytes | None] = field(default_factory=dict, repr=False)
    unavailable: bool = False  # content could not be read (partial clone, damaged repo)
    too_large: str | None = None  # why the content was not inspected (past MAX_INSPECT_BYTES or _LINES)

    def old_bytes(self) -> bytes | None:
        return self._load("old", self._load_old)

    def new_bytes(self) -> bytes | None:
        return self._load("new", self._load_new)

    def old_text(self) -> str | None:
        return _decode(self.old_bytes())

    def new_text(self) -> str | None:
        return _decode(self.new_bytes())

    def added_lines(self) -> list[tuple[int, str]]:
        """(line number in the new file, text) of each line not present in the old file."""
        new = self.new_text()
        if new is None:
            return []
        old = self.old_text() or ""
        return _added_lines(old, new)

    def _load(self, which: str, loader: ContentLoader | None) -> bytes | None:
        if which not in self._cache:
            self._cache[which] = None
            known_size = self.old_size if which == "old" else self.new_size
            if loader is None or self._refuse(known_size, self.added if which == "new" else None):
                return None
            try:
                data = loader()
            except ContentUnavailable:
                self.unavailable = True
                return None
            except ContentTooLarge as exc:
                self._refuse(exc.size, None)
                return None
            # Fewer bytes than the line limit cannot hold more lines than it: no need to count them.
            lines = data.count(b"\n") if data is not None and len(data) > MAX_INSPECT_LINES else None
            if data is not None and not self._refuse(len(data), lines):
                self._cache[which] = data
        return self._cache[which]

    def _refuse(self, size: int | None, lines: int | None) -> bool:
        """Past the inspection limits the content is not read at all, and the reason is kept."""
        if size is not None and size > MAX_INSPECT_BYTES:
            self.too_large = f"{size:,} bytes, over the limit of {MAX_INSPECT_BYTES:,}"
        elif lines is not None and lines > MAX_INSPECT_LINES:
            self.too_large = f"{lines:,} lines, over the limit of {MAX_INSPECT_LINES:,}"
        return self.too_large is not None


class ContentUnavailable(Exception):
    """A source could not read an object that it listed (partial clone, damaged mirror)."""


class ContentTooLarge(Exception):
    """A source skipped an object past the inspection limit without reading it."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def _decode(data: bytes | None) -> str | None:
    if data is None or b"\0" in data[:8000]:
        return None
    return data.decode("utf-8", errors="replace")


def _added_lines(old: str, new: str) -> list[tuple[int, str]]:
    from govgate.linediff import added_line_indexes

    new_lines = new.splitlines()
    return [(j + 1, new_lines[j]) for j in added_line_indexes(old.splitlines(), new_lines)]


GHOST_LOGIN = "ghost"  # what GitHub shows for a deleted account; nobody can register it


@dataclass(frozen=True)
class Review:
    reviewer: str  # login; GHOST_LOGIN when the account was deleted (the API returns a null user)
    reviewer_type: str  # "User", "Bot", "Organization"
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str | None
    submitted_at: str | None
    author_association: str | None = None  # OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE...; None: not given
    permission: str | None = None  # admin, write, read, none: the collaborator-permission endpoint, when asked


@dataclass(frozen=True)
class CheckOrigin:
    """Which workflow ran a check run: read from the Actions API, checked against the base commit's objects."""

    workflow_path: str | None = None  # the workflow file whose job this is; None: not a job of any workflow run
    on_base: bool = False  # the workflow file exists in the base commit
    called: tuple[str, ...] = ()  # reusable workflows of this repository that the run called
    unknown: str | None = None  # why the origin could not be read (the check then proves nothing)


@dataclass(frozen=True)
class CheckResult:
    """A check run or a legacy commit status on some commit."""

    name: str
    status: str  # completed, in_progress, queued, pending
    conclusion: str | None  # success, failure, neutral, ... or None while running
    head_sha: str | None
    kind: str = "check_run"  # or "status"
    app: str | None = None
    id: int | None = None  # check runs: larger is newer
    suite_id: int | None = None  # check runs: the check suite (for Actions, one workflow run) it belongs to
    own: bool = False  # govgate's own job: never evidence about the change
    origin: CheckOrigin | None = None  # check runs of GitHub Actions: the workflow behind them


def newest_per_name(checks: Iterable[CheckResult]) -> set[CheckResult]:
    """The newest run of each check name (per app; ids grow with time). Statuses come one per context already."""
    newest: dict[tuple[str, str | None, str], CheckResult] = {}
    for check in checks:
        key = (check.kind, check.app, check.name)
        held = newest.get(key)
        if held is None or (check.id or 0) > (held.id or 0):
            newest[key] = check
    return set(newest.values())


class AccountState(enum.StrEnum):
    """What a forge says of the account behind an approval; only an active one can stand behind it."""

    ACTIVE = "active"
    BLOCKED = "blocked"  # blocked, banned, deactivated, locked, awaiting approval: the forge took it out of use
    DELETED = "deleted"  # the account is gone; the forge shows a placeholder (GitLab: the ghost user)


@dataclass(frozen=True)
class Approval:
    """An approval of a whole merge request (GitLab approves the request, not a commit), with the facts
    that decide whether it counts; the source reads them, the detector judges."""

    login: str
    name: str = ""
    state: AccountState = AccountState.ACTIVE
    state_detail: str = "active"  # the forge's own word for the account state, for messages
    bot: bool = False  # the forge marks the account as a bot (GitLab: bot users and access-token bots)
    may_approve: bool | None = None  # holds a role that may approve (GitLab: Developer or above); None: not read
    role: str | None = None  # that role in words ("the Reporter role"), or why it is unknown
    on_head: bool = False  # the approval stands for the head commit (given after its push, or reset by pushes)
    on_head_reason: str = ""  # how on_head was established, in words
    approved_at: str | None = None
    contributed: str | None = None  # how this person wrote or pushed the change's commits, when they did
    owner_references: frozenset[str] = frozenset()  # CODEOWNERS references naming this person (@login, @group, @@role)


@dataclass(frozen=True)
class ApprovalRule:
    """A forge's own approval rule and its state (GitLab ``approval_state``): shown, never counted,
    since the forge counts approvals govgate discounts (authors, committers, bots) when allowed to."""

    name: str
    kind: str  # regular, code_owner, any_approver, report_approver
    required: int
    approved: bool
    approved_by: tuple[str, ...] = ()
    section: str | None = None


@dataclass(frozen=True)
class OwnerRule:
    """What one CODEOWNERS entry asks of a change: approvals by its owners for the paths it matches.

    GitLab's sections are judged apart: each section's last matching entry for a path owns it, and a
    required section needs ``approvals`` approvals from that entry's owners; an optional one needs none.
    """

    section: str
    pattern: str
    owners: tuple[str, ...]
    approvals: int
    optional: bool
    paths: tuple[str, ...]


class JobDefinition(enum.StrEnum):
    """Whether a pipeline job is defined the same way at the base revision, so the change cannot have written it."""

    SAME = "same"  # defined identically at the base revision
    OUTSIDE = "outside"  # the pipeline configuration lives outside the repository (another project)
    CHANGED = "changed"  # the change edits its definition (the job, a template it extends, or a global key)
    ADDED = "added"  # not defined at the base revision: the change added it
    UNKNOWN = "unknown"  # could not be established (unreadable configuration, remote includes)


@dataclass(frozen=True)
class PipelineJob:
    """A job of the change's pipeline (GitLab CI), with who could have defined it."""

    name: str
    status: str  # GitLab's job status: success, failed, running, pending, canceled, skipped, manual, ...
    id: int | None = None
    stage: str | None = None
    allow_failure: bool = False
    pipeline_id: int | None = None
    sha: str | None = None  # the commit the pipeline ran on
    own: bool = False  # govgate's own job (or a run of it): never evidence about the change
    definition: JobDefinition = JobDefinition.UNKNOWN
    definition_note: str = ""  # why, in words
    bound: str | None = None  # why the pipeline itself cannot vouch for the head (another project, commit); None: it can


@dataclass
class PullRequest:
    number: int | None = None
    title: str = ""
    body: str = ""
    labels: tuple[str, ...] = ()
    author_login: str | None = None
    author_type: str | None = None  # "User" or "Bot"
    head_ref: str | None = None
    base_ref: str | None = None
    head_sha: str | None = None
    base_sha: str | None = None
    merged: bool = False
    reviews: tuple[Review, ...] | None = None  # None: not fetched (local run)
    checks: tuple[CheckResult, ...] | None = None
    codeowners: tuple[tuple[str, tuple[str, ...]], ...] | None = None  # (pattern, owners)
    url: str | None = None
    head_repository: str | None = None  # owner/name holding the head branch (a fork, or the base repository)
    # Lower-case GitHub login -> how that account took part in the commits (authored, committed or
    # pushed them): such a person cannot approve them. None: not read (offline).
    contributors: dict[str, str] | None = None
    # Audits: whether the history proves the pull request landed as this very commit (a "(#N)" in a
    # message is only a claim). None: the pull request came from the forge itself.
    landing_proven: bool | None = None
    # Merge requests (GitLab): approvals of the whole request, CODEOWNERS rules for the touched paths,
    # the forge's own approval rules and the pipeline's jobs. None: not read.
    approvals: tuple[Approval, ...] | None = None
    owner_rules: tuple[OwnerRule, ...] | None = None
    approval_rules: tuple[ApprovalRule, ...] | None = None
    jobs: tuple[PipelineJob, ...] | None = None


@dataclass
class Change:
    """The unit that is judged: what would be reverted as one."""

    id: str
    title: str
    base: str | None
    head: str
    commits: list[Commit]
    files: list[FileChange]
    pull_request: PullRequest | None = None
    branch: str | None = None
    kind: str = "range"  # range | pull_request | merge | commit | merge_group | push
    date: str | None = None
    author: Person | None = None
    repo_url: str | None = None
    forge: str | None = None  # the forge whose API supplied verified data (github, gitlab); None offline
    memory: Memory | None = None  # organisational memory read from the base revision, never from the change
    merged_at: str | None = None  # when the change landed (an audit judges freezes at that moment); None: not yet
    problems: list[str] = field(default_factory=list)  # notes said aloud that do not stop a verdict
    # What could not be read at all: a change with a gap is "not fully judged", never "pass".
    incomplete: list[Gap] = field(default_factory=list)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.pull_request.labels if self.pull_request else ()

    @property
    def pr_body(self) -> str:
        return self.pull_request.body if self.pull_request else ""

    @property
    def author_identities(self) -> set[str]:
        """Lower-cased emails, names and logins of whoever authored the change."""
        ids: set[str] = set()
        for commit in self.commits:
            ids.add(commit.author.email.lower())
            ids.add(commit.author.name.lower())
        if self.pull_request and self.pull_request.author_login:
            ids.add(self.pull_request.author_login.lower())
        return ids

    def paths(self) -> list[str]:
        return [f.path for f in self.files] + [f.old_path for f in self.files if f.old_path]

    def touches(self, patterns: Iterable[str]) -> bool:
        pats = list(patterns)
        return any(path_matches(p, pat) for p in self.paths() for pat in pats)
