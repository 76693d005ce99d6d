"""People behind commit identities: ``.mailmap`` first, then identities that share an address, a
GitHub login or a distinctive name are one person; bots and AI agents are never anyone's knower.

During the history pass every raw (name, email) gets a small integer id and its last activity;
``resolve`` maps ids to people once, at the end, with a single ``git check-mailmap --stdin``
(the same mapping git's ``%aN``/``%aE`` use: ``.mailmap`` in the working tree, or at HEAD in a
bare repository). A GitHub noreply address (``123+alice@users.noreply.github.com``, from commits
made in the web UI) gives the person a login, which is how the memory file names them. Names
merge identities as history-analysis tools such as hercules do, compared by their letters and
digits only ("Paul Gauthier" is "paul-gauthier") and only when at least six long and not generic
("Your Name", "ubuntu").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from govgate.errors import GitError
from govgate.memory.identities import is_machine, noreply_login
from govgate.memory.schema import KNOWER_PATTERN
from govgate.sources.git import GitRepo

_KNOWER = re.compile(KNOWER_PATTERN)
_GENERIC_NAMES = frozenset({"rootuser", "administrator", "unknown", "ubuntu", "github", "gitlab", "yourname",
                           "username", "firstlast", "developer", "localhost"})
_NAME_MIN = 6  # letters and digits: "Paul Gauthier" = "paul-gauthier" = "paulgauthier"; "Alex" alone says too little
Mailmap = Callable[[Sequence[tuple[str, str]]], list[tuple[str, str]]]


@dataclass(eq=False)  # identity: one object per person
class PersonFacts:
    key: str
    name: str
    email: str
    login: str | None
    last_active: dt.datetime | None

    @property
    def handle(self) -> str:
        """How the memory file names them: @login when known, else the email."""
        return f"@{self.login}" if self.login else self.email

    @property
    def knower(self) -> str | None:
        """Their handle if it is a valid ``knows`` value (``root@localhost`` is not)."""
        return self.handle if _KNOWER.match(self.handle) else None

    def departed(self, now: dt.datetime, after_days: int) -> bool:
        return self.last_active is None or (now - self.last_active).days >= after_days


class IdentityTable:
    """Raw commit identities seen in history, with the latest moment each was active."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self.raw: list[tuple[str, str]] = []
        self.last_active: list[dt.datetime | None] = []
        self.machine: list[bool] = []

    def id_of(self, name: str, email: str) -> int:
        key = (name, email.lower())
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.raw)
            self.raw.append(key)
            self.last_active.append(None)
            self.machine.append(is_machine(name, email))
        return found

    def seen(self, identity: int, when: dt.datetime | None) -> None:
        if when is not None:
            last = self.last_active[identity]
            if last is None or when > last:
                self.last_active[identity] = when

    def resolve(self, mailmap: Mailmap) -> list[PersonFacts]:
        """The person behind each raw id (index = id); the ids of one person share one object.

        The newest identity of a person gives the name and address shown.
        """
        canonical = mailmap(self.raw)
        groups = _Groups(len(canonical))
        first: dict[str, int] = {}
        for index, (name, email) in enumerate(canonical):
            for token in _tokens(name, email):
                if token in first:
                    groups.join(first[token], index)
                else:
                    first[token] = index
        people: dict[int, PersonFacts] = {}
        for index in sorted(range(len(canonical)), key=lambda i: _order(self.last_active[i])):
            root = groups.find(index)
            name, email = canonical[index]
            person = people.get(root)
            if person is None:
                person = people[root] = PersonFacts(f"person:{root}", name, email.lower(), None, None)
            person.login = person.login or noreply_login(email)
            last = self.last_active[index]
            if last is not None:  # oldest first: the newest identity ends up shown
                person.last_active, person.name, person.email = last, name, email.lower()
        return [people[groups.find(i)] for i in range(len(canonical))]


def _tokens(name: str, email: str) -> list[str]:
    """What makes two identities one person: the same address, login or distinctive name."""
    tokens = [f"email:{email.strip().lower()}"]
    login = noreply_login(email)
    if login:
        tokens.append(f"login:{login}")
    compact = re.sub(r"[^0-9a-z]", "", name.lower())
    if len(compact) >= _NAME_MIN and compact not in _GENERIC_NAMES:
        tokens.append(f"name:{compact}")
    return tokens


def _order(moment: dt.datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("-inf")


class _Groups:
    """Union-find over identity indices."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def git_mailmap(repo: GitRepo) -> Mailmap:
    """``git check-mailmap --stdin`` over every identity at once; identities unchanged if git cannot."""

    def resolve(identities: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        if not identities:
            return []
        lines = "".join(f"{_clean(name)} <{_clean(email)}>\n" for name, email in identities)
        try:
            out = repo.run_bytes("check-mailmap", "--stdin", input_=lines.encode("utf-8")).decode("utf-8", "replace")
        except (GitError, OSError):  # an old git without --stdin: keep identities as they are
            return list(identities)
        answers = out.split("\n")  # git answers one line per "\n"; a name may hold other line breaks
        if answers and not answers[-1]:
            answers.pop()
        if len(answers) != len(identities):
            return list(identities)
        return [_split(answer, original) for answer, original in zip(answers, identities, strict=True)]

    return resolve


def _clean(text: str) -> str:
    return re.sub(r"[<>\n\r]", "", text).strip()


def _split(answer: str, original: tuple[str, str]) -> tuple[str, str]:
    match = re.match(r"^(?P<name>.*?)\s*<(?P<email>[^>]*)>\s*$", answer)
    if not match:
        return original
    return match.group("name") or original[0], match.group("email") or original[1]
