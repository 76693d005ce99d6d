"""``govgate memory validate|explain|init|schema|suggest``: the organisational memory file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from govgate.memory.model import DEFAULT_MEMORY_FILE

if TYPE_CHECKING:
    import datetime as dt

    from govgate.memory.model import Memory, MemoryEntry

_STARTER = """\
# govgate organisational memory: why paths look the way they do, how fragile they are, who knows them.
# govgate reads this file from the base revision of every change it judges (never from the change),
# shows the entries a change touches to its reviewers, and the policy can require a knower's approval.
# Check it with: govgate memory validate   Draft entries from history: govgate memory suggest
version: 1
stale_after_days: 365            # entries not reviewed for this long are reported as stale
entries:
  - id: example-payments-ledger
    paths: ["services/payments/ledger/**"]
    why: |
      Replace this example. Say why the code looks the way it does and what breaks if it changes:
      e.g. ledger writes are retried twice on purpose; idempotency keys live in Redis, not the DB.
    fragile: high                # low | medium | high | critical
    knows: ["@alice", "bob@example.com", "@acme/payments"]   # @login, email or @org/team
    depends_on: ["services/billing/**", "invoice-mailer (service)"]
    links: ["https://runbooks.example.com/ledger"]
    reviewed: 2026-01-15         # when people last confirmed this entry
"""


@click.group("memory")
def memory() -> None:
    """Validate, explain, start or mine the organisational memory file (default .govgate/memory.yml)."""


def _now_option(func: Any) -> Any:
    return click.option("--now", default=None, metavar="TIME",
                        help="Judge staleness and departures at TIME (ISO 8601) instead of the present.")(func)


def _today(now: str | None) -> dt.date:
    import datetime as dt

    from govgate.cli.audit import parse_date

    moment = parse_date(now, "--now", end_of_day=False)
    return (moment or dt.datetime.now(dt.UTC)).date()


@memory.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@_now_option
@click.option("--fail-on-stale", is_flag=True, help="Exit 1 when an entry is stale (not reviewed within stale_after_days).")
def validate(files: tuple[Path, ...], now: str | None, fail_on_stale: bool) -> None:
    """Check memory FILES (default .govgate/memory.yml) against the schema; exit 2 with file:line errors.

    Also reports entries that are stale, lack a `why` or name nobody in `knows`.
    """
    from govgate.errors import GovgateError
    from govgate.memory.loader import load_memory_file

    today = _today(now)
    failed, stale = False, False
    for path in files or (Path(DEFAULT_MEMORY_FILE),):
        try:
            loaded = load_memory_file(path)
        except GovgateError as exc:
            click.echo(exc.render(), err=True)
            failed = True
            continue
        old = loaded.stale(today)
        stale = stale or bool(old)
        click.echo(f"{path}: valid ({len(loaded.entries)} entries)")
        for entry in old:
            when = f"last reviewed {entry.reviewed.isoformat()}" if entry.reviewed else "never reviewed"
            click.echo(f"  stale: {entry.name} (line {entry.line}): {when}")
        for entry in loaded.entries:
            missing = [what for what, present in (("why", entry.why), ("knows", entry.knows)) if not present]
            if missing:
                click.echo(f"  incomplete: {entry.name} (line {entry.line}): no {' and no '.join(missing)}")
    if failed:
        sys.exit(2)
    sys.exit(1 if fail_on_stale and stale else 0)


@memory.command("explain")
@click.argument("paths", nargs=-1)
@click.option("--file", "memory_file", default=DEFAULT_MEMORY_FILE, show_default=True,
              help="The memory file (relative to the repository with --rev).")
@click.option("--rev", default=None, metavar="REV",
              help="Read the file from this revision, as the gate does (default: the working tree).")
@click.option("--repo", "repo_dir", default=".", show_default=True, type=click.Path(file_okay=False))
@click.option("--format", "-f", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_now_option
def explain(paths: tuple[str, ...], memory_file: str, rev: str | None, repo_dir: str, output_format: str,
            now: str | None) -> None:
    """Show what the memory says about PATHS (every entry when none is given): why, knowers, dependents."""
    loaded = _read(memory_file, rev, repo_dir)
    today = _today(now)
    entries = [t.entry for t in loaded.touched(paths)] if paths else list(loaded.entries)
    if output_format == "json":
        rows = [{**e.to_dict(), "stale": e.is_stale(today, loaded.stale_after_days),
                 "covers": [p for p in paths if e.covers(p)]} for e in entries]
        click.echo(json.dumps({"source": loaded.source, "entries": rows}, indent=2))
        return
    if not entries:
        click.echo(f"{loaded.source}: no entry covers {', '.join(paths)}" if paths else f"{loaded.source}: no entries")
        return
    click.echo(f"{loaded.source}:")
    for entry in entries:
        click.echo(_describe(entry, paths, today, loaded.stale_after_days))


def _describe(entry: MemoryEntry, paths: tuple[str, ...], today: dt.date, stale_after: int) -> str:
    level = f" [fragile: {entry.fragile.value}]" if entry.fragile else ""
    lines = [f"\n{entry.name}{level}", f"  paths: {', '.join(entry.paths)}"]
    covered = [p for p in paths if entry.covers(p)]
    if covered:
        lines.append(f"  covers: {', '.join(covered)}")
    lines += [f"  why: {line}" if i == 0 else f"       {line}" for i, line in enumerate(entry.why.splitlines() or ["(not written yet)"])]
    lines.append(f"  knows: {', '.join(k.text for k in entry.knows) or '(nobody named)'}")
    if entry.depends_on:
        lines.append(f"  depends on it: {', '.join(entry.depends_on)}")
    if entry.links:
        lines.append(f"  links: {' '.join(entry.links)}")
    if entry.is_stale(today, stale_after):
        lines.append(f"  ! stale: {'last reviewed ' + entry.reviewed.isoformat() if entry.reviewed else 'never reviewed'}")
    if entry.mined:
        facts = ", ".join(f"{k} {v}" for k, v in entry.mined.items())
        lines.append(f"  from history: {facts}")
    return "\n".join(lines)


def _read(memory_file: str, rev: str | None, repo_dir: str) -> Memory:
    from govgate.errors import MemoryFileError
    from govgate.memory.base_revision import memory_at
    from govgate.memory.loader import load_memory_file
    from govgate.sources.git import GitRepo

    if rev is None:
        return load_memory_file(Path(memory_file))
    repo = GitRepo.open(repo_dir)
    try:
        loaded = memory_at(repo, repo.resolve(rev), memory_file)
    finally:
        repo.close()
    if loaded is None:
        raise MemoryFileError(f"{memory_file} does not exist at {rev}")
    return loaded


@memory.command("init")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path(DEFAULT_MEMORY_FILE),
              show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(output: Path, force: bool) -> None:
    """Write a starting memory file with one commented example entry to replace."""
    from govgate.cli.common import write_file
    from govgate.errors import GovgateError

    if output.exists() and not force:
        raise GovgateError(f"{output} already exists", "pass --force to overwrite it, or `govgate memory suggest` to add to it")
    write_file(output, _STARTER, Path.cwd())
    click.echo(f"wrote {output}; replace the example entry, or draft entries from history: govgate memory suggest")


@memory.command("schema")
def schema() -> None:
    """Print the memory file's JSON Schema (for editors and other tools)."""
    from govgate.memory.schema import memory_schema

    click.echo(json.dumps(memory_schema(), indent=2))


@memory.command("suggest")
@click.argument("revision", required=False, default="HEAD", metavar="[REV]")
@click.option("--repo", "repo_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The git repository to read (a checkout, a bare repository or a mirror).")
@click.option("--output", "-o", "output", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help=f"The memory file to merge the draft into (default: {DEFAULT_MEMORY_FILE} in the repository).")
@click.option("--dry-run", is_flag=True, help="Print the merged file instead of writing it (the report then goes to stderr).")
@click.option("--format", "-f", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The report's format.")
@_now_option
@click.option("--since", default=None, metavar="DATE", help="Read only changes from DATE on (faster; knowers from less history).")
@click.option("--departed-days", type=click.IntRange(min=1), default=180, show_default=True,
              help="A person with no commit for this many days has left.")
@click.option("--half-life-days", type=click.FloatRange(min=1), default=365.0, show_default=True,
              help="A change counts half as much toward knowing an area after this many days.")
@click.option("--depth", type=click.IntRange(min=1), default=3, show_default=True, help="Directory depth of areas.")
@click.option("--min-changes", type=click.IntRange(min=1), default=5, show_default=True,
              help="Areas with fewer changes are not reported.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="At most this many new draft entries (the riskiest areas first).")
def suggest(revision: str, repo_dir: str, output: Path | None, dry_run: bool, output_format: str, now: str | None,
            since: str | None, departed_days: int, half_life_days: float, depth: int, min_changes: int, limit: int) -> None:
    """Mine REV's history (default HEAD) for who knows what, who left and what keeps breaking.

    Prints the riskiest areas (orphaned, brittle, bus factor 1) and merges draft entries for them
    into the memory file: new entries are appended and each entry's `mined` facts are refreshed;
    nothing people wrote (why, knows, fragile, comments, formatting) is changed.
    """
    import datetime as dt

    from govgate.cli.audit import parse_date, show_progress
    from govgate.cli.common import write_file
    from govgate.errors import GovgateError
    from govgate.memory.draft import merge_draft
    from govgate.memory.loader import parse_memory
    from govgate.memory.mining import MiningOptions
    from govgate.memory.suggest import mine, report_dict, report_lines, tracked_entries
    from govgate.sources.git import GitRepo

    moment = parse_date(now, "--now", end_of_day=False) or dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time.min,
                                                                               dt.UTC)
    since_at = parse_date(since, "--since", end_of_day=False)
    repo = GitRepo.open(repo_dir)
    target = output or _default_output(repo.path, dry_run)
    existing = target.read_text("utf-8") if target is not None and target.is_file() else None
    memory = parse_memory(existing, str(target)) if existing and existing.strip() else None
    options = MiningOptions(now=moment, departed_days=departed_days, half_life_days=half_life_days, depth=depth,
                            min_changes=min_changes)
    try:
        mined = mine(repo, revision, options, since_at, tracked_entries(memory), show_progress)
    finally:
        repo.close()
    facts = {int(key): area for key, area in mined.history.tracked.items()}
    merged = merge_draft(existing, mined.history.riskiest(limit), facts, moment.date(), str(target or "draft"), min_changes)
    if dry_run or target is None:
        click.echo(merged.text, nl=False)
    elif merged.added or merged.refreshed or existing is None:
        if target.exists() and not target.is_file():
            raise GovgateError(f"{target} is not a file")
        write_file(target, merged.text, repo.path)
    written = None if dry_run else str(target)
    if output_format == "json":
        click.echo(json.dumps(report_dict(mined, merged.added, merged.refreshed, written), indent=2),
                   err=dry_run)
        return
    lines = report_lines(mined)
    where = "(dry run: nothing written)" if dry_run else f"into {target}"
    lines += ["", f"draft {where}: {len(merged.added)} new entr{'y' if len(merged.added) == 1 else 'ies'}"
                  f"{' (' + ', '.join(merged.added) + ')' if merged.added else ''}, mined facts refreshed for "
                  f"{len(merged.refreshed)}; text people wrote is unchanged",
              "next: write each `why`, check `knows` and `fragile`, add `reviewed:`, then run govgate memory validate"]
    click.echo("\n".join(lines), err=dry_run)


def _default_output(repo_path: Path, dry_run: bool) -> Path | None:
    from govgate.errors import GovgateError

    if not (repo_path / ".git").exists():
        if dry_run:
            return None
        raise GovgateError(f"{repo_path} has no working tree to write {DEFAULT_MEMORY_FILE} into",
                           "pass --output FILE, or --dry-run to print the draft")
    return repo_path / DEFAULT_MEMORY_FILE
