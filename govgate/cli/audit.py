"""``govgate audit``: judge every change on a branch with the same engine as ``check``."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from govgate.audit.thresholds import KNOWLEDGE_DAYS, MAX_AUTO_JOBS, PARALLEL_FROM
from govgate.cli.common import fail_on_option, format_option, policy_from_worktree_option, policy_option
from govgate.errors import GovgateError
from govgate.formats.audit import AUDIT_WRITERS

if TYPE_CHECKING:
    from govgate.audit.cache import AuditCache
    from govgate.audit.context import AuditContext
    from govgate.audit.failures import ChangeRefs
    from govgate.audit.github_enrich import GitHubReviewEnricher
    from govgate.audit.judging import JudgeSettings
    from govgate.audit.memory_context import MemoryTimeline
    from govgate.audit.record import ChangeRecord
    from govgate.audit.summary import AuditSummary
    from govgate.cli.progress import AuditProgress
    from govgate.formats.audit import AuditWriter
    from govgate.model import Change, Severity
    from govgate.policy.model import Policy
    from govgate.sources.git import GitRepo
    from govgate.sources.history import HistoryOptions, HistorySource
    from govgate.sources.trusted import TrustedConfig

_RELATIVE = re.compile(r"^(\d+)\s*(day|week|month|year)s?\s+ago$", re.IGNORECASE)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


@click.command("audit")
@click.argument("revision", required=False, default="HEAD", metavar="[REV | A..B]")
@click.option("--repo", "repo_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The git repository to read (a checkout, a bare repository or a mirror).")
@click.option("--since", default=None, metavar="DATE",
              help="Only changes that landed on or after DATE (YYYY-MM-DD, ISO 8601 time, or 'N days ago'; UTC).")
@click.option("--until", default=None, metavar="DATE", help="Only changes that landed on or before DATE (a bare date: the whole day).")
@click.option("--path", "paths", multiple=True, metavar="GLOB",
              help="Only changes touching a file that matches GLOB (repeatable; ** spans directories).")
@policy_option
@policy_from_worktree_option
@format_option(tuple(AUDIT_WRITERS))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report here instead of standard output.")
@click.option("--exact-lines", is_flag=True,
              help="Count changed lines exactly (git log --numstat: diffs every blob, several times slower). "
                   "Default: file lists from tree diffs, churn estimated from blob sizes.")
@click.option("--github", is_flag=True,
              help="Add verified reviews of merged pull requests from the GitHub GraphQL API (GITHUB_TOKEN; at most one "
                   "query per 50 pull requests, cached on disk so a re-run costs no API calls).")
@click.option("--cache-dir", default=None, type=click.Path(file_okay=False),
              help="Where the audit keeps its incremental cache and --github its answers (default: <git dir>/govgate-cache).")
@click.option("--no-cache", is_flag=True,
              help="Judge every change afresh and leave the cache alone. By default verdicts are cached per change, so a "
                   "re-audit reads and judges only what is new; the output is the same either way.")
@click.option("--repo-name", default=None, metavar="NAME",
              help="The repository's name in the report and in govgate report (default: owner/name from the origin "
                   "remote, else the directory's name).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
              help=f"Judge changes in N worker processes (0: as many as CPUs, up to {MAX_AUTO_JOBS}, when the range holds "
                   f"{PARALLEL_FROM} first-parent commits or more; 1: in this process). Results are the same either way.")
@fail_on_option
@click.option("--fail-on-violations", is_flag=True,
              help="Exit 1 when any audited change fails the policy or could not be fully judged. Without it an audit "
                   "is a report and exits 0.")
@click.option("--now", default=None, metavar="TIME",
              help="Measure departures (no commit for 180 days) from TIME instead of the present. Freezes are judged at "
                   "each change's merge time whatever --now says.")
@click.option("--knowledge-days", type=click.IntRange(min=0), default=KNOWLEDGE_DAYS, show_default=True, metavar="DAYS",
              help="Also read this many days of history before the audited range (never judged) to know who knew each "
                   "path before it; 0: only the range.")
def audit(
    revision: str, repo_dir: str, since: str | None, until: str | None, paths: tuple[str, ...], policy_path: str | None,
    policy_from_worktree: bool, output_format: str, output: str | None, exact_lines: bool, github: bool,
    cache_dir: str | None, no_cache: bool, repo_name: str | None, jobs: int, fail_on: Severity, fail_on_violations: bool,
    now: str | None,
    knowledge_days: int,
) -> None:
    """Judge every change on a branch against the policy, newest first, and summarise.

    Each first-parent commit of REV (default HEAD) is one change: a merge's change spans the
    commits it brought in, a squash merge or direct push is a single commit. A..B audits the
    changes on B's first-parent line that A does not have. Only that branch is read, never
    other refs. --format json writes one govgate/check/v1 object per change (one per line) and
    then one govgate/audit/v1 summary object; text, markdown and html write the summary and the
    worst failing changes; csv writes one row per change.

    The policy is read from the audited revision's git objects (.govgate.yml at REV, or at B for
    A..B), not from the working tree; --policy-from-worktree reads the working tree's instead.
    A change whose commits or contents could not be read in full is "not fully judged" (verdict
    incomplete), never counted as passing.

    Exit codes: 0 the audit ran (whatever it found, unless --fail-on-violations is given and a
    change fails: then 1), 2 usage, policy or input error (not a repository, unknown revision,
    bad date, bad policy). A range with no changes says so on stderr and exits 0.
    """
    since_at = parse_date(since, "--since", end_of_day=False)
    until_at = parse_date(until, "--until", end_of_day=True)
    now_at = parse_date(now, "--now", end_of_day=False)
    if since_at and until_at and since_at > until_at:
        raise GovgateError(f"--since {since} is after --until {until}")
    from govgate.sources.git import GitRepo
    from govgate.sources.history import HistoryOptions

    repo = GitRepo.open(repo_dir)
    options = HistoryOptions(rev=revision, since=since_at, until=until_at, paths=paths, exact_lines=exact_lines)
    source, trusted, policy = _open_history(repo, options, policy_path, policy_from_worktree)
    run = _AuditRun(source=source, trusted=trusted, policy=policy, output_format=output_format, output=output,
                    repo_dir=repo_dir, since=since_at, until=until_at, now=now_at, paths=paths, github=github,
                    cache_dir=cache_dir, no_cache=no_cache, repo_name=repo_name, jobs=jobs, fail_on=fail_on,
                    knowledge_days=knowledge_days)
    summary = run.judge_and_write()
    if summary.changes == 0:
        click.echo(f"govgate: no changes to audit in {source.range.label}{_filters(since, until, paths)}", err=True)
    not_passing = summary.total.ai.failing + summary.total.other.failing + summary.total.incomplete
    sys.exit(1 if fail_on_violations and not_passing else 0)


def _open_history(repo: GitRepo, options: HistoryOptions, policy_path: str | None,
                  from_worktree: bool) -> tuple[HistorySource, TrustedConfig, Policy]:
    """The history source and the policy in force at its tip (the repository is closed on failure)."""
    from govgate.detectors import reads_content
    from govgate.policy.choice import PolicyChoice
    from govgate.sources import SourceRequest, open_source
    from govgate.sources.trusted import read_trusted

    try:
        choice = PolicyChoice.parse(policy_path)
        source: HistorySource = open_source("history", SourceRequest(repo, history=options))  # type: ignore[assignment]
        source.prefetch = reads_content
        trusted = read_trusted(repo, source.trust_root(), choice, from_worktree=from_worktree)
        policy = trusted.policy
        # The source reads options lazily: pull requests a waiver names need their landing proven.
        options.waived_pulls = frozenset(int(w.change[1:]) for w in policy.waivers if w.change.startswith("#"))
    except BaseException:
        repo.close()
        raise
    return source, trusted, policy


@dataclass
class _AuditRun:
    """One audit after its options are parsed: judge every change, write the report, summarise."""

    source: HistorySource
    trusted: TrustedConfig
    policy: Policy
    output_format: str
    output: str | None
    repo_dir: str
    since: dt.datetime | None
    until: dt.datetime | None
    now: dt.datetime | None
    paths: tuple[str, ...]
    github: bool
    cache_dir: str | None
    no_cache: bool
    repo_name: str | None
    jobs: int
    fail_on: Severity
    knowledge_days: int

    def judge_and_write(self) -> AuditSummary:
        from govgate.audit.memory_context import MemoryTimeline

        source = self.source
        enricher = None
        try:
            timeline = MemoryTimeline(source.repo, source.range.tip, source.range.exclude, self.policy.memory_file)
            if self.github:
                from govgate.audit.github_enrich import enricher_for

                enricher = enricher_for(source.repo, source.repo_url, self.cache_dir,
                                        [source.range.tip, "--not", *source.range.exclude])
            with OutputFile(self.output, Path(self.repo_dir)) as out:
                return self._write(out, timeline, enricher)
        finally:
            if enricher is not None:
                enricher.close()
            source.close()

    def _write(self, out: TextIO, timeline: MemoryTimeline, enricher: GitHubReviewEnricher | None) -> AuditSummary:
        from govgate.audit.baseline import complete_history
        from govgate.audit.judging import JudgeSettings
        from govgate.audit.summary import AuditSummary
        from govgate.formats.audit import audit_writer, needs_check_json

        source, policy = self.source, self.policy
        writer = audit_writer(self.output_format, out)
        summary = AuditSummary(policy, range_label=source.range.label, since=self.since, until=self.until,
                               paths=self.paths, repo_url=source.repo_url, fail_on=self.fail_on, now=self.now,
                               context=_context(source, github=self.github, name=self.repo_name))
        today = dt.date.today()
        cache = None if self.no_cache else _open_cache(source, policy, self.fail_on, self.github, self.cache_dir,
                                                       today, self.now)
        prints_json = needs_check_json(self.output_format)
        settings = JudgeSettings(policy=policy, fail_on=self.fail_on, today=today, sizes=source.size_settings,
                                 with_json=prints_json or cache is not None, prints_json=prints_json)
        try:
            self._judge(cache, settings, timeline, enricher, summary, writer)
            summary.problems = self.trusted.problems + list(source.problems) + (enricher.problems if enricher else [])
            if enricher is not None and enricher.failed:
                summary.context = replace(summary.context, github_reviews=False)
            complete_history(summary, source, self.knowledge_days, timeline)
            writer.finish(summary)
        except BrokenPipeError:
            # The reader went away (`| head`): nothing left to report to; not an error of the audit.
            from govgate.cli.common import silence_stdout

            silence_stdout()
            sys.exit(0)
        finally:
            if cache is not None:
                cache.close()
        return summary

    def _judge(self, cache: AuditCache | None, settings: JudgeSettings, timeline: MemoryTimeline,
               enricher: GitHubReviewEnricher | None, summary: AuditSummary, writer: AuditWriter) -> None:
        from govgate.audit.memory_context import with_memory_and_clock

        source = self.source
        progress = show_progress(source)
        if cache is not None:
            _judge_incrementally(source, cache, settings, lambda read: with_memory_and_clock(read, timeline),
                                 enricher, summary, writer, progress, self.jobs)
            return
        changes = with_memory_and_clock(source.changes(), timeline)
        if enricher is not None:
            changes = enricher.enrich(changes)
        from govgate.audit.parallel import choose_jobs

        _judge_all(changes, source, settings, summary, writer, progress, choose_jobs(self.jobs, source.estimate()))


def _context(source: HistorySource, *, github: bool, name: str | None) -> AuditContext:
    from govgate.audit.context import AuditContext, repository_name

    repo = source.repo
    label = source.range.label
    return AuditContext(
        repository_name=repository_name(source.repo_url, repo.path, name), repository_url=source.repo_url,
        range_label=label, branch=repo.current_branch() if label == "HEAD" else None, tip=source.range.tip,
        github_reviews=github,
    )


def show_progress(source: HistorySource) -> AuditProgress | None:
    """Click's progress bar over the walk's first-parent commits, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    total = source.estimate()
    if total is None:
        return None
    from govgate.cli.progress import AuditProgress

    return AuditProgress(total)


def _judge_all(
    changes: Iterator[Change], source: HistorySource, settings: JudgeSettings, summary: AuditSummary,
    writer: AuditWriter, progress: AuditProgress | None, jobs: int,
) -> None:
    from govgate.audit.judging import judged, with_references

    records = judged(with_references(changes), settings, source.repo, jobs)
    _merge(records, lambda: source.scanned, settings, summary, writer, progress)


def _judge_incrementally(
    source: HistorySource, cache: AuditCache, settings: JudgeSettings,
    prepare: Callable[[Iterator[Change]], Iterator[Change]], enricher: Any, summary: AuditSummary,
    writer: AuditWriter, progress: AuditProgress | None, requested_jobs: int,
) -> None:
    from govgate.audit.incremental import IncrementalAudit

    walk = IncrementalAudit(source, cache, settings, requested_jobs, prepare, enricher)
    _merge(walk.records(), lambda: walk.scanned, settings, summary, writer, progress)


def _merge(
    records: Iterator[tuple[ChangeRecord, ChangeRefs]], scanned: Callable[[], int], settings: JudgeSettings,
    summary: AuditSummary, writer: AuditWriter, progress: AuditProgress | None,
) -> None:
    """Count and write each record, in history order, with what the run shares joined to it."""
    from govgate.audit.record import RunFacts

    run = RunFacts.of(settings.policy, settings.fail_on)
    for record, refs in records:
        run.finish(record)
        facts = summary.add(record, refs)
        writer.change(record, facts)
        if progress is not None:
            progress.tick(scanned(), summary.changes)
    if progress is not None:
        progress.done()


def _open_cache(source: HistorySource, policy: Policy, fail_on: Severity, github: bool, cache_dir: str | None,
                today: dt.date, now: dt.datetime | None) -> AuditCache | None:
    """The incremental cache for this audit, or None (a partial or shallow clone, or a cache that cannot be used)."""
    import sqlite3

    from govgate.audit.cache import AuditCache, chain_key, default_directory, judge_inputs
    from govgate.sources.history_walk import git_dir

    if source.present_blobs is not None or source.is_shallow:
        return None
    # A waiver for #N holds only where refs/pull/N/head proves the landing: those refs can move.
    proofs = sorted((number, source.pull_refs.head_of(number)) for number in source.options.waived_pulls)
    inputs = judge_inputs(policy, fail_on=fail_on, exact_lines=source.options.exact_lines, github=github,
                          repo_url=source.repo_url, today=today,
                          extra=[f"now {now.isoformat() if now else None}", f"pull request heads {proofs}"])
    directory = Path(cache_dir) if cache_dir else default_directory(git_dir(source.repo))
    try:
        return AuditCache.open(directory, chain_key(inputs, source.range.exclude, source.options.paths))
    except (OSError, sqlite3.Error) as exc:
        click.echo(f"govgate: the audit cache in {directory} cannot be used ({exc}); judging every change afresh", err=True)
        return None


def parse_date(text: str | None, option: str, *, end_of_day: bool) -> dt.datetime | None:
    """YYYY-MM-DD, an ISO 8601 time (UTC unless it says otherwise) or 'N days|weeks|months|years ago'."""
    if text is None:
        return None
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        days = int(relative.group(1)) * _UNIT_DAYS[relative.group(2).lower()]
        return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
        else:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GovgateError(f"{option} {text!r}: not a date", "use YYYY-MM-DD, an ISO 8601 time or 'N days ago'") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _filters(since: str | None, until: str | None, paths: tuple[str, ...]) -> str:
    parts = [f"since {since}"] * bool(since) + [f"until {until}"] * bool(until)
    if paths:
        parts.append("touching " + ", ".join(paths))
    return f" ({'; '.join(parts)})" if parts else ""


class OutputFile:
    """Standard output, or a file opened only once the input has been checked (a bad run leaves no file)."""

    def __init__(self, path: str | None, checkout: Path) -> None:
        self.path = path
        self.checkout = checkout
        self.handle: TextIO | None = None

    def __enter__(self) -> TextIO:
        if self.path is None:
            return sys.stdout
        from govgate.cli.common import open_output

        self.handle = open_output(Path(self.path), self.checkout, newline="")
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()
        else:
            sys.stdout.flush()
