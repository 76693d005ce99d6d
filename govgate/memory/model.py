"""Typed organisational memory: entries that say why paths look the way they do, and who knows them."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govgate.globs import glob_set
from govgate.memory.identities import noreply_login
from govgate.model import Fragility

DEFAULT_MEMORY_FILE = ".govgate/memory.yml"
DEFAULT_STALE_AFTER_DAYS = 365


class KnowerKind(str, enum.Enum):
    LOGIN = "login"  # @alice
    TEAM = "team"  # @acme/payments
    EMAIL = "email"  # alice@example.com


@dataclass(frozen=True)
class Knower:
    """A person or team a memory entry names in ``knows``."""

    text: str  # as written in the file
    kind: KnowerKind
    key: str  # lower case: the login, org/team or email

    @classmethod
    def parse(cls, text: str) -> Knower:
        value = text.strip()
        if value.startswith("@"):
            kind = KnowerKind.TEAM if "/" in value else KnowerKind.LOGIN
            return cls(value, kind, value[1:].lower())
        return cls(value, KnowerKind.EMAIL, value.lower())

    @property
    def login(self) -> str | None:
        """The forge login this knower can approve as, when it is known."""
        if self.kind is KnowerKind.LOGIN:
            return self.key
        if self.kind is KnowerKind.EMAIL:
            return noreply_login(self.key)
        return None

    def approves_as(self, subject: str) -> bool:
        """Whether an approval's subject (a login, or an email or name from a trailer) is this knower."""
        lowered = subject.strip().lower()
        if self.kind is KnowerKind.TEAM:
            return False  # expanding a team needs an organisation-scoped token: never assumed
        if lowered == self.key:
            return True
        login = self.login
        return login is not None and (lowered == login or noreply_login(lowered) == login)


@dataclass(frozen=True)
class MemoryEntry:
    paths: tuple[str, ...]
    id: str | None = None
    why: str = ""
    fragile: Fragility | None = None
    knows: tuple[Knower, ...] = ()
    depends_on: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    reviewed: dt.date | None = None
    mined: Mapping[str, Any] = field(default_factory=dict)  # facts `govgate memory suggest` wrote from history
    line: int | None = None

    @property
    def name(self) -> str:
        return self.id or ", ".join(self.paths)

    def covers(self, path: str) -> bool:
        return glob_set(self.paths)(path)

    def is_stale(self, today: dt.date, after_days: int) -> bool:
        return self.reviewed is None or (today - self.reviewed).days > after_days

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "paths": list(self.paths), "why": self.why,
                                "fragile": self.fragile.value if self.fragile else None,
                                "knows": [k.text for k in self.knows], "depends_on": list(self.depends_on),
                                "links": list(self.links), "reviewed": self.reviewed.isoformat() if self.reviewed else None}
        if self.mined:
            data["mined"] = dict(self.mined)
        return data


@dataclass(frozen=True)
class TouchedEntry:
    """An entry and the paths of a change it covers."""

    entry: MemoryEntry
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Memory:
    entries: tuple[MemoryEntry, ...]
    source: str  # where it was read: "path@revision" or a file path
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS

    def touched(self, paths: Iterable[str]) -> list[TouchedEntry]:
        """The entries covering any of ``paths``, in file order, each with the paths it covers."""
        unique = list(dict.fromkeys(paths))
        found: list[TouchedEntry] = []
        for entry in self.entries:
            covered = tuple(p for p in unique if entry.covers(p))
            if covered:
                found.append(TouchedEntry(entry, covered))
        return found

    def stale(self, today: dt.date) -> list[MemoryEntry]:
        return [e for e in self.entries if e.is_stale(today, self.stale_after_days)]
