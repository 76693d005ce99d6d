"""SQL-file migrations: golang-migrate up/down pairs, Flyway, Liquibase formatted SQL, Prisma.

A detector only sees the files of the change, never the whole tree at head, so each rule
below is stated in terms of what the change itself shows:

- golang-migrate (and tools with the same layout: sqlx ``<ver>_<title>.up.sql``, diesel
  ``<dir>/up.sql``): an ``.up.sql`` the change adds needs a non-empty ``.down.sql`` with the
  same prefix in the change, else red flag (error). An edited ``.up.sql`` whose down file is not
  in the change gives nothing: its down file may already exist at head.
- Flyway: ``V<ver>__x.sql`` with ``U<ver>__y.sql`` (same version) supports. Undo migrations are a
  paid Flyway feature, so a ``V`` without ``U`` is only a red flag when the change itself holds a
  ``U`` file (the project uses them) or ``settings.migrations_sql.flyway_requires_undo`` is true.
  Otherwise nothing is said: the detector cannot see the project's other migrations. A ``U``
  without its ``V`` is not checked for the same reason.
- Liquibase formatted SQL (``--liquibase formatted sql``): each ``--changeset`` needs a
  ``--rollback``. Destructive SQL (DROP TABLE/COLUMN, TRUNCATE, DELETE) without one is an error;
  other changesets without one are warnings, because ``liquibase rollback`` stops at a raw SQL
  changeset it cannot invert. The rollback SQL itself is never validated (confidence medium).
  XML/YAML/JSON changelogs are not read.
- Prisma (``migrations/<dir>/migration.sql``): Prisma has no down migrations; data-destroying
  SQL without a hand-made ``down.sql`` beside it is an error, with one it supports. An additive
  migration without ``down.sql`` gives nothing.

Where a down step exists for SQL that destroys data, a warning says the schema comes back
but the data does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from govgate.detectors.migration_common import Finder, basename, dirname, line_of, live_files, read_text
from govgate.detectors.scope import FileScope
from govgate.model import Change, Confidence, Evidence, FileChange, FileStatus, Severity

_SOURCE = "migrations_sql"
_UPDOWN = Finder(_SOURCE, "golang-migrate")
_FLYWAY = Finder(_SOURCE, "flyway")
_LIQUIBASE = Finder(_SOURCE, "liquibase")
_PRISMA = Finder(_SOURCE, "prisma")

_UPDOWN_NAME = re.compile(r"^(?P<prefix>\d+_.+)\.(?P<direction>up|down)\.sql$")
_FLYWAY_NAME = re.compile(r"^(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.sql$")
_LIQUIBASE_HEADER = re.compile(r"^\s*--\s*liquibase\s+formatted\s+sql\b", re.IGNORECASE)
_CHANGESET = re.compile(r"^\s*--\s*changeset\s+(?P<id>\S+)", re.IGNORECASE)
_ROLLBACK = re.compile(r"^\s*--\s*rollback\b:?\s*(?P<sql>.*)$", re.IGNORECASE)
_ROLLBACK_BLOCK = re.compile(r"^\s*/\*\s*liquibase\s+rollback\b", re.IGNORECASE)
_DESTRUCTIVE = re.compile(
    r"\bDROP\s+(?:TABLE|COLUMN|SCHEMA|DATABASE|VIEW|MATERIALIZED\s+VIEW|TYPE|SEQUENCE)\b"
    r"|\bALTER\s+TABLE\b[^;]*?\bDROP\s+(?!CONSTRAINT|DEFAULT|NOT\s+NULL|INDEX|KEY|FOREIGN|PRIMARY|CHECK|IDENTITY"
    r"|EXPRESSION|PARTITION)"
    r"|\bTRUNCATE\b|\bDELETE\s+FROM\b",
    re.IGNORECASE,
)


class SqlMigrationDetector:
    name = "migrations_sql"
    speaks_to = (FileScope((".sql",)),)
    reads = speaks_to
    config_schema: Mapping[str, Any] | None = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "flyway_requires_undo": {
                "type": "boolean",
                "description": "the project keeps a Flyway U<ver>__ undo file for every V<ver>__ migration "
                               "(default false: only required when the change itself holds U files)",
            },
        },
    }

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        files = list(live_files(change, lambda path: path.endswith(".sql")))
        if not files:
            return
        by_path = {f.path: f for f in files}
        claimed: set[str] = set()
        # Prisma first: its down.sql must not be read again as a diesel-style down file.
        yield from _prisma(files, by_path, claimed)
        yield from _up_down(files, claimed)
        yield from _flyway(files, claimed, bool(settings.get("flyway_requires_undo", False)))
        for file in files:
            if file.path not in claimed:
                yield from _liquibase(file)


# --- shared SQL reading ----------------------------------------------------------------------


def _code_only(sql: str) -> str:
    """SQL with comments and string literals blanked out, newlines kept (so offsets keep lines)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif c == "'":
            end = i + 1
            while end < n and not (sql[end] == "'" and not sql.startswith("''", end)):
                end += 2 if sql.startswith("''", end) else 1
            end = min(end + 1, n)
        else:
            out.append(c)
            i += 1
            continue
        out.append("".join(ch if ch == "\n" else " " for ch in sql[i:end]))
        i = end
    return "".join(out)


def _is_empty_sql(sql: str) -> bool:
    return not _code_only(sql).replace(";", "").strip()


def _destruction(sql: str) -> tuple[str, int] | None:
    """The first data-destroying statement (shortened) and its line."""
    code = _code_only(sql)
    match = _DESTRUCTIVE.search(code)
    if match is None:
        return None
    end = code.find(";", match.start())
    statement = " ".join(code[match.start():end if end >= 0 else len(code)].split())
    if len(statement) > 60:
        statement = statement[:59] + "…"
    return statement, line_of(code, match.start())


# --- golang-migrate and friends --------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    key: str
    up: FileChange | None
    down: FileChange | None


def _pair_key(path: str) -> tuple[str, str] | None:
    """(pair key, "up"|"down") for golang-migrate files and diesel-style up.sql/down.sql."""
    name = basename(path)
    match = _UPDOWN_NAME.match(name)
    if match:
        return f"{dirname(path)}/{match.group('prefix')}", match.group("direction")
    if name in ("up.sql", "down.sql"):
        return f"{dirname(path)}/", name[:-4]
    return None


def _up_down(files: list[FileChange], claimed: set[str]) -> Iterator[Evidence]:
    pairs: dict[str, dict[str, FileChange]] = {}
    for file in files:
        found = _pair_key(file.path) if file.path not in claimed else None
        if found is not None:
            pairs.setdefault(found[0], {})[found[1]] = file
            claimed.add(file.path)
    for key, halves in pairs.items():
        yield from _judge_pair(_Pair(key, halves.get("up"), halves.get("down")))


def _judge_pair(pair: _Pair) -> Iterator[Evidence]:
    up, down = pair.up, pair.down
    if up is None:
        assert down is not None
        text, missing = read_text(down, _UPDOWN)
        if missing is not None:
            yield missing
        elif text is not None and _is_empty_sql(text):
            yield _UPDOWN.flag("empty-down-migration", f"{basename(down.path)} is empty: rolling back does nothing",
                               down.path, 1)
        elif text is not None:
            yield _UPDOWN.supports("down-migration", f"{basename(down.path)} adds a down step for an existing "
                                   "up migration", down.path, 1, confidence=Confidence.MEDIUM)
        return
    if down is None:
        if up.status is FileStatus.ADDED:
            yield _UPDOWN.flag(
                "irreversible-migration",
                f"irreversible migration: {basename(up.path)} has no matching "
                f"{_down_name(up.path)} in this change", up.path, 1,
            )
        return
    text, missing = read_text(down, _UPDOWN)
    if missing is not None:
        yield missing
        return
    if text is None:
        return
    if _is_empty_sql(text):
        yield _UPDOWN.flag("empty-down-migration",
                           f"irreversible migration: {basename(down.path)} is empty, so rolling back "
                           f"{basename(up.path)} does nothing", down.path, 1)
        return
    yield _UPDOWN.supports("reversible-migration", f"{basename(up.path)} has a non-empty {basename(down.path)}",
                           up.path, 1)
    up_text, up_missing = read_text(up, _UPDOWN)
    if up_missing is not None:
        yield up_missing
    elif up_text is not None:
        yield from _loses_data(_UPDOWN, up.path, up_text, basename(down.path))


def _down_name(up_path: str) -> str:
    name = basename(up_path)
    return "down.sql" if name == "up.sql" else name[: -len(".up.sql")] + ".down.sql"


def _loses_data(finder: Finder, path: str, sql: str, down: str) -> Iterator[Evidence]:
    destroyed = _destruction(sql)
    if destroyed is not None:
        statement, line = destroyed
        yield finder.flag("rollback-loses-data",
                          f"{statement} destroys data: {down} can bring the schema back, not the data",
                          path, line, severity=Severity.WARNING)


# --- Flyway ----------------------------------------------------------------------------------


def _flyway_version(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.split(r"[._]", raw))


def _flyway(files: list[FileChange], claimed: set[str], requires_undo: bool) -> Iterator[Evidence]:
    versioned: list[tuple[tuple[int, ...], FileChange]] = []
    undo: dict[tuple[int, ...], FileChange] = {}
    for file in files:
        name = basename(file.path)
        if name.startswith("R__"):
            claimed.add(file.path)  # repeatable migrations are re-applied, never undone
            continue
        match = _FLYWAY_NAME.match(name)
        if match is None:
            continue
        claimed.add(file.path)
        version = _flyway_version(match.group("version"))
        if match.group("kind") == "V":
            versioned.append((version, file))
        else:
            undo[version] = file
    uses_undo = requires_undo or bool(undo)
    for version, file in versioned:
        partner = undo.get(version)
        if partner is None:
            if uses_undo and file.status is FileStatus.ADDED:
                why = "the project requires undo files" if requires_undo else "this change uses U undo files"
                yield _FLYWAY.flag(
                    "irreversible-migration",
                    f"irreversible migration: {basename(file.path)} has no U{'.'.join(map(str, version))}__ undo "
                    f"file ({why})", file.path, 1,
                )
            continue
        text, missing = read_text(partner, _FLYWAY)
        if missing is not None:
            yield missing
        elif text is not None and _is_empty_sql(text):
            yield _FLYWAY.flag("empty-down-migration", f"irreversible migration: undo file {basename(partner.path)} "
                               "is empty", partner.path, 1)
        elif text is not None:
            yield _FLYWAY.supports("reversible-migration",
                                   f"{basename(file.path)} has its undo file {basename(partner.path)}", file.path, 1)
            up_text, up_missing = read_text(file, _FLYWAY)
            if up_missing is not None:
                yield up_missing
            elif up_text is not None:
                yield from _loses_data(_FLYWAY, file.path, up_text, basename(partner.path))


# --- Prisma ----------------------------------------------------------------------------------


def _prisma(files: list[FileChange], by_path: Mapping[str, FileChange], claimed: set[str]) -> Iterator[Evidence]:
    for file in files:
        parts = file.path.split("/")
        if len(parts) < 3 or parts[-1] != "migration.sql" or parts[-3] != "migrations":
            continue
        claimed.add(file.path)
        text, missing = read_text(file, _PRISMA)
        if missing is not None:
            yield missing
            continue
        if text is None:
            continue
        down_path = dirname(file.path) + "/down.sql"
        down = by_path.get(down_path)
        destroyed = _destruction(text)
        down_text: str | None = None
        if down is not None:
            claimed.add(down_path)
            down_text, down_missing = read_text(down, _PRISMA)
            if down_missing is not None:
                yield down_missing
                continue
        if down_text is not None and not _is_empty_sql(down_text):
            yield _PRISMA.supports("reversible-migration", f"{dirname(file.path)} has a hand-made down.sql",
                                   file.path, 1, confidence=Confidence.MEDIUM)
            yield from _loses_data(_PRISMA, file.path, text, "down.sql")
        elif destroyed is not None:
            statement, line = destroyed
            yield _PRISMA.flag(
                "irreversible-migration",
                f"irreversible migration: {statement} and no down.sql beside migration.sql "
                "(Prisma has no built-in down migration)", file.path, line,
            )


# --- Liquibase formatted SQL -----------------------------------------------------------------


@dataclass
class _Changeset:
    id: str
    line: int
    sql: list[tuple[int, str]]
    rollback: list[str]


def _liquibase(file: FileChange) -> Iterator[Evidence]:
    text, missing = read_text(file, _LIQUIBASE)
    if missing is not None:
        # An unreadable .sql file is only worth mentioning when its path looks like a migration.
        if any(word in file.path.lower() for word in ("changelog", "liquibase", "migrat")):
            yield missing
        return
    if text is None:
        return
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not _LIQUIBASE_HEADER.match(first):
        return
    changesets = _changesets(text)
    flagged = False
    for changeset in changesets:
        sql = "\n".join(line for _, line in changeset.sql)
        if _is_empty_sql(sql) or any(r.strip() for r in changeset.rollback):
            continue
        flagged = True
        destroyed = _destruction(sql)
        if destroyed is not None:
            statement, offset = destroyed
            line = changeset.sql[offset - 1][0]
            yield _LIQUIBASE.flag(
                "irreversible-migration",
                f"irreversible migration: changeset {changeset.id} runs {statement} with no --rollback",
                file.path, line,
            )
        else:
            yield _LIQUIBASE.flag(
                "liquibase-no-rollback",
                f"changeset {changeset.id} has no --rollback: liquibase rollback cannot get past it",
                file.path, changeset.line, severity=Severity.WARNING,
            )
    with_sql = [c for c in changesets if not _is_empty_sql("\n".join(s for _, s in c.sql))]
    if with_sql and not flagged:
        count = len(with_sql)
        yield _LIQUIBASE.supports(
            "reversible-migration",
            f"{f'each of the {count} changesets has' if count > 1 else 'the changeset has'} --rollback SQL "
            "(not validated: govgate cannot check it is correct)",
            file.path, with_sql[0].line, confidence=Confidence.MEDIUM,
        )


def _changesets(text: str) -> list[_Changeset]:
    found: list[_Changeset] = []
    current: _Changeset | None = None
    in_block = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_block:
            if current is not None:
                current.rollback.append(line.split("*/", 1)[0])
            in_block = "*/" not in line
            continue
        changeset = _CHANGESET.match(line)
        if changeset:
            current = _Changeset(changeset.group("id"), number, [], [])
            found.append(current)
            continue
        if current is None:
            continue
        rollback = _ROLLBACK.match(line)
        if rollback:
            current.rollback.append(rollback.group("sql"))
        elif _ROLLBACK_BLOCK.match(line):
            rest = line.split("rollback", 1)[1]
            current.rollback.append(rest.split("*/", 1)[0])
            in_block = "*/" not in rest
        elif not line.strip().startswith("--"):
            current.sql.append((number, line))
    return found


DETECTOR = SqlMigrationDetector()
