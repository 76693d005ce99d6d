"""Memory mined from history in one streaming pass: who knows each area, who left, what keeps breaking.

An *area* is a directory (cut at ``depth`` components) or a file. For each, from the changes that
touched it (the same first-parent changes ``audit`` judges, newest first):

* **brittleness**: the share of its changes later reverted or fixed (the audit's change-failure
  signal, ``govgate.audit.failures``);
* **knowers**: people whose share of the area's changes, each change weighted by recency
  (halving every ``half_life_days``), is at least ``knower_share``. A merge's change is credited to
  the authors of the commits it brought in (split evenly), a single commit to its author;
* **departed** knowers: no commit anywhere on the branch read (authored or committed) for
  ``departed_days`` before ``now``;
* **status**: orphaned (every knower departed), bus factor 1 (one active knower), shared, or no
  history (only bots and agents touched it).

Renames are followed: the history streams newest first, so a rename is seen before the older
changes to the old path, which then count for the path it has today; a move that leaves the
content as it was is no one's knowledge. Memory holds one small
record per area, per identity and per renamed path, not per change. Changes touching more
than ``max_files`` files (tree-wide reformats, vendored imports) say nothing about who knows what:
they count toward activity only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from govgate.audit.failures import ChangeFacts, FailureTracker, references_of
from govgate.memory.model import Knower
from govgate.memory.people import IdentityTable, Mailmap, PersonFacts
from govgate.model import Change, FileChange, FileStatus, Fragility, KnowledgeStatus, parse_moment

ROOT = "."
MIN_KNOWER_CHANGES = 2
MIN_FAILURES = 2  # one revert in five changes is an anecdote, not brittleness


@dataclass(frozen=True)
class MiningOptions:
    now: dt.datetime
    departed_days: int = 180
    half_life_days: float = 365.0
    depth: int = 3
    min_changes: int = 5
    knower_share: float = 0.1
    max_files: int = 500


class _Tally:
    """One area's (or one memory entry's) counts while the history streams."""

    __slots__ = ("activity", "changes", "counts", "failed", "last", "weights")

    def __init__(self) -> None:
        self.changes = 0
        self.failed = 0
        self.activity = 0.0  # changes weighted by recency: how alive the area is
        self.weights: dict[int, float] = {}  # raw identity id -> recency-weighted credit
        self.counts: dict[int, int] = {}  # raw identity id -> changes
        self.last: dt.datetime | None = None

    def add(self, credit: dict[int, float], weight: float, failed: bool, when: dt.datetime | None) -> None:
        self.changes += 1
        self.failed += failed
        self.activity += weight
        for identity, share in credit.items():
            self.weights[identity] = self.weights.get(identity, 0.0) + share
            self.counts[identity] = self.counts.get(identity, 0) + 1
        if when is not None and (self.last is None or when > self.last):
            self.last = when


@dataclass(eq=False)  # identity: areas are kept in sets and dicts
class AreaFacts:
    path: str  # a directory or a file
    is_dir: bool
    changes: int
    failed: int
    knowers: list[tuple[PersonFacts, float]]  # (person, share), largest share first
    departed: list[PersonFacts]
    status: KnowledgeStatus
    last_change: dt.datetime | None
    activity: float = 0.0  # changes weighted by recency

    @property
    def glob(self) -> str:
        return f"{self.path}/**" if self.is_dir else self.path

    @property
    def brittleness(self) -> float:
        return self.failed / self.changes if self.changes else 0.0

    @property
    def active(self) -> list[PersonFacts]:
        return [p for p, _ in self.knowers if p not in self.departed]

    def suggested_fragility(self, min_changes: int) -> Fragility | None:
        """A starting point for people to confirm: from brittleness, once there is enough history."""
        if self.changes < min_changes or self.failed < MIN_FAILURES:
            return None
        share = self.brittleness
        return (Fragility.HIGH if share >= 0.25 else Fragility.MEDIUM if share >= 0.10
                else Fragility.LOW if share >= 0.05 else None)

    def mined(self, as_of: dt.date) -> dict[str, Any]:
        """The facts written under an entry's ``mined`` key."""
        data: dict[str, Any] = {"as_of": as_of.isoformat(), "changes": self.changes, "reverted_or_fixed": self.failed,
                                "brittleness": round(self.brittleness, 3), "status": self.status.value,
                                "knowers": [p.handle for p in self.active], "departed": [p.handle for p in self.departed]}
        if self.last_change is not None:
            data["last_change"] = self.last_change.date().isoformat()
        return data

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "glob": self.glob, "kind": "directory" if self.is_dir else "file",
                "changes": self.changes, "reverted_or_fixed": self.failed, "brittleness": round(self.brittleness, 4),
                "status": self.status.value,
                "knowers": [{"who": p.handle, "name": p.name, "share": round(share, 3), "departed": p in self.departed,
                             "last_active": p.last_active.isoformat() if p.last_active else None} for p, share in self.knowers],
                "last_change": self.last_change.isoformat() if self.last_change else None}


@dataclass
class TrackedPaths:
    """Globs followed as units besides the areas (the entries of an existing memory file)."""

    keys: list[str]
    matchers: list[Callable[[str], bool]]


@dataclass(frozen=True)
class MiningInput:
    """What the miner reads of one change: small enough to travel from a worker and to be cached."""

    date: str | None
    commits: tuple[tuple[str, str, str, str, str, str], ...]  # author name, email, time; committer name, email, time
    files: tuple[tuple[str, str | None, bool, bool], ...]  # path, old path, renamed, moved without a content change

    @classmethod
    def of(cls, change: Change) -> MiningInput:
        return cls(
            change.date,
            tuple((c.author.name, c.author.email, c.authored_at, c.committer.name, c.committer.email, c.committed_at)
                  for c in change.commits),
            tuple((f.path, f.old_path, f.status is FileStatus.RENAMED, _moved_only(f)) for f in change.files),
        )

    def values(self) -> list[Any]:
        return [self.date, self.commits, self.files]

    @classmethod
    def from_values(cls, values: list[Any]) -> MiningInput:
        date, commits, files = values
        return cls(date, tuple(tuple(c) for c in commits), tuple(tuple(f) for f in files))  # type: ignore[arg-type]


class HistoryMiner:
    def __init__(self, options: MiningOptions, tracked: TrackedPaths | None = None) -> None:
        self.options = options
        self.identities = IdentityTable()
        self.failures = FailureTracker()
        self.changes = 0
        self.sweeping = 0  # changes too wide to say who knows what
        self.newest: dt.datetime | None = None
        self.oldest: dt.datetime | None = None
        self._areas: dict[str, _Tally] = {}
        self._dirs: set[str] = {ROOT}
        self._tracked = tracked or TrackedPaths([], [])
        self._tracked_tallies = [_Tally() for _ in self._tracked.keys]
        self._area_cache: dict[str, tuple[str, ...]] = {}
        self._renamed: dict[str, str] = {}  # an older path -> the path it has at the tip
        self.marked: set[str] = set()

    def observe(self, change: Change, facts: ChangeFacts | None = None, *, mark: bool = False) -> None:
        """Take one change (newest first); ``facts`` when the caller already tracks failures.

        ``mark`` remembers the areas it touched (an audit maps the areas of its range only).
        """
        if facts is None:
            facts = self.failures.observe(references_of(change))
        self.observe_input(MiningInput.of(change), facts, mark=mark)

    def observe_input(self, change: MiningInput, facts: ChangeFacts, *, mark: bool = False) -> None:
        """``observe`` for a change known by its MiningInput (an audit's record)."""
        when = parse_moment(change.date)
        self.changes += 1
        self.newest = self.newest or when
        self.oldest = when or self.oldest
        self._note_activity(change)
        paths = self._current_paths(change)
        if len(paths) > self.options.max_files:
            self.sweeping += 1
            return
        weight = self._recency(when)
        credit = self._credit(change, weight)
        failed = facts.reverted or facts.fixed
        touched = {a for p in paths for a in self._areas_of(p)}
        for area in touched:
            tally = self._areas.get(area)
            if tally is None:
                tally = self._areas[area] = _Tally()
            tally.add(credit, weight, failed, when)
        if mark:
            self.marked.update(touched)
        for index, matches in enumerate(self._tracked.matchers):
            if any(matches(p) for p in paths):
                self._tracked_tallies[index].add(credit, weight, failed, when)

    def _current_paths(self, change: MiningInput) -> list[str]:
        """Each touched path under the name it has today: renames seen (newer) carry older history along."""
        renamed = self._renamed
        paths = [renamed.get(path, path) for path, _, _, moved_only in change.files if not moved_only]
        for path, old_path, is_rename, _ in change.files:
            if old_path and is_rename and old_path != path:
                renamed[old_path] = renamed.get(path, path)
        return paths

    def _note_activity(self, change: MiningInput) -> None:
        table = self.identities
        for author, author_email, authored_at, committer, committer_email, committed_at in change.commits:
            table.seen(table.id_of(author, author_email), parse_moment(authored_at))
            table.seen(table.id_of(committer, committer_email), parse_moment(committed_at))

    def _recency(self, when: dt.datetime | None) -> float:
        age = (self.options.now - when).total_seconds() / 86400 if when else 0.0
        return 0.5 ** (max(age, 0.0) / self.options.half_life_days)

    def _credit(self, change: MiningInput, weight: float) -> dict[int, float]:
        """Credit per human author; a merge credits the authors of the commits it brought in."""
        commits = change.commits[1:] if len(change.commits) > 1 else change.commits
        table = self.identities
        authors = {table.id_of(c[0], c[1]) for c in commits}
        humans = [a for a in authors if not table.machine[a]]
        return {author: weight / len(humans) for author in humans}

    def _areas_of(self, path: str) -> tuple[str, ...]:
        cached = self._area_cache.get(path)
        if cached is None:
            parts = path.split("/")
            dirs = ["/".join(parts[:n]) for n in range(1, min(len(parts) - 1, self.options.depth) + 1)]
            self._dirs.update(dirs)
            cached = self._area_cache[path] = (*dirs, path)
        return cached

    # -- after the pass ------------------------------------------------------------------------------

    def finish(self, mailmap: Mailmap, existing_files: Iterable[str] | None = None) -> MinedHistory:
        """Resolve people and compute every area's facts; ``existing_files`` (at the tip) hides areas gone since."""
        people = self.identities.resolve(mailmap)
        areas = [self._facts(path, tally, people) for path, tally in self._areas.items()]
        tracked = {key: self._facts(key, tally, people) for key, tally in zip(self._tracked.keys, self._tracked_tallies,
                                                                               strict=True)}
        return MinedHistory(self.options, areas, tracked, self.changes, self.sweeping, self.newest, self.oldest,
                            self.failures.pending, _with_directories(existing_files), list({id(p): p for p in people}.values()))

    def _facts(self, path: str, tally: _Tally, people: Sequence[PersonFacts]) -> AreaFacts:
        shares: dict[str, list[Any]] = {}  # person key -> [person, weight, changes]
        for identity, weight in tally.weights.items():
            person = people[identity]
            known = shares.setdefault(person.key, [person, 0.0, 0])
            known[1] += weight
            known[2] += tally.counts[identity]
        total = sum(weight for _, weight, _ in shares.values())
        ranked = sorted(((p, w / total, n) for p, w, n in shares.values() if total), key=lambda t: (-t[1], t[0].handle))
        # A knower holds a real share, and more than one drive-by change unless nobody holds more.
        knowers = [(p, share) for rank, (p, share, n) in enumerate(ranked)
                   if share >= self.options.knower_share and (n >= MIN_KNOWER_CHANGES or rank == 0)]
        departed = [p for p, _ in knowers if p.departed(self.options.now, self.options.departed_days)]
        active = len(knowers) - len(departed)
        status = (KnowledgeStatus.NO_HISTORY if not knowers else KnowledgeStatus.ORPHANED if not active
                  else KnowledgeStatus.BUS_FACTOR_1 if active == 1 else KnowledgeStatus.SHARED)
        return AreaFacts(path, path in self._dirs, tally.changes, tally.failed, knowers, departed, status, tally.last,
                         tally.activity)


@dataclass
class MinedHistory:
    options: MiningOptions
    areas: list[AreaFacts]
    tracked: dict[str, AreaFacts]  # facts per followed glob set (existing memory entries)
    changes: int
    sweeping: int
    newest: dt.datetime | None
    oldest: dt.datetime | None
    unresolved_references: int
    existing: frozenset[str] | None = None  # files and directories at the tip: gone areas are no risk
    people: list[PersonFacts] = field(default_factory=list)  # everyone seen, once each
    _reported: list[AreaFacts] | None = field(default=None, repr=False)

    def reported(self) -> list[AreaFacts]:
        """Areas that still exist, with enough history, without children that say nothing their parent does not."""
        if self._reported is None:
            by_path = {a.path: a for a in self.areas if a.changes >= self.options.min_changes and a.path != ROOT
                       and (self.existing is None or a.path in self.existing)}
            self._reported = [a for a in by_path.values() if not _echoes_parent(a, by_path)]
        return self._reported

    def orphaned(self) -> list[AreaFacts]:
        return _by_activity(a for a in self.reported() if a.status is KnowledgeStatus.ORPHANED)

    def bus_factor_one(self) -> list[AreaFacts]:
        return _by_activity(a for a in self.reported() if a.status is KnowledgeStatus.BUS_FACTOR_1)

    def brittle(self) -> list[AreaFacts]:
        found = [a for a in self.reported() if a.suggested_fragility(self.options.min_changes) is not None]
        return sorted(found, key=lambda a: (-a.brittleness, -a.changes, a.path))

    def person(self, knower: Knower) -> PersonFacts | None:
        """The person of history a memory entry's knower is, if they ever committed."""
        login = knower.login
        for person in self.people:
            if (login is not None and person.login == login) or knower.key == person.email:
                return person
        return None

    def riskiest(self, limit: int) -> list[AreaFacts]:
        """Orphaned areas first, then brittle ones, then bus factor 1, each by activity; no repeats."""
        ranked = list(dict.fromkeys([*self.orphaned(), *self.brittle(), *self.bus_factor_one()]))
        return ranked[:limit]


def _moved_only(f: FileChange) -> bool:
    """A file moved without a change to its content: whoever moved it learnt nothing about it."""
    return f.status is FileStatus.RENAMED and f.old_blob is not None and f.old_blob == f.new_blob


def _with_directories(files: Iterable[str] | None) -> frozenset[str] | None:
    if files is None:
        return None
    found: set[str] = set()
    for path in files:
        found.add(path)
        parts = path.split("/")
        found.update("/".join(parts[:n]) for n in range(1, len(parts)))
    return frozenset(found)


def _echoes_parent(area: AreaFacts, by_path: dict[str, AreaFacts]) -> bool:
    parent_path = area.path.rsplit("/", 1)[0] if "/" in area.path else None
    parent = by_path.get(parent_path) if parent_path else None
    if parent is None:
        return False
    same_people = {p.key for p, _ in area.knowers} == {p.key for p, _ in parent.knowers}
    return (same_people and area.status is parent.status
            and area.suggested_fragility(1) == parent.suggested_fragility(1))


def _by_activity(areas: Any) -> list[AreaFacts]:
    """Most alive first: an orphaned area nobody changes any more is the least of the worries."""
    return sorted(areas, key=lambda a: (-a.activity, -a.changes, a.path))

