"""``govgate check``: judge one change."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from govgate.cli.common import fail_on_option, format_option, policy_from_worktree_option, policy_option, write_reports
from govgate.formats import CHECK_FORMATS
from govgate.model import Severity
from govgate.sources import SOURCES, check_source_names

_SOURCE_HELP = "; ".join(f"{name}: {SOURCES[name].summary}" + ("" if SOURCES[name].module else " (not available yet)")
                         for name in check_source_names())


@click.command("check")
@click.option("--repo", "repo_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The git repository to read.")
@click.option("--base", default=None, metavar="REV",
              help="Compare against this revision (default: merge base with the remote default branch). Locally, the "
                   "policy is read from this revision.")
@click.option("--head", default="HEAD", show_default=True, metavar="REV", help="The change's newest commit.")
@policy_option
@policy_from_worktree_option
@format_option(CHECK_FORMATS)
@fail_on_option
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the result here instead of standard output.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT=PATH",
              help="Also write the result in FORMAT to PATH (repeatable), e.g. sarif=govgate.sarif.")
@click.option("--pr-body-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A file holding the pull-request description (test, rollout and rollback plans).")
@click.option("--label", "labels", multiple=True, metavar="NAME", help="A pull-request label (repeatable).")
@click.option("--pr-author", default=None, metavar="LOGIN", help="The pull request's author login.")
@click.option("--pr-title", default=None, help="The pull request's title.")
@click.option("--branch", default=None, help="The change's branch name (default: the checked-out branch).")
@click.option("--source", "source_name", type=click.Choice(["auto", *check_source_names()]), default="auto",
              show_default=True,
              help=f"Where the change comes from ({_SOURCE_HELP}). auto: the CI service govgate runs in "
                   "(GITHUB_ACTIONS=true: github; a GitLab merge-request pipeline: gitlab), else local.")
@click.option("--github/--no-github", "github", default=None,
              help="Same as --source github / --source local (default: on when GITHUB_ACTIONS=true).")
@click.option("--now", default=None, metavar="TIME",
              help="Judge freezes, stale memory and waiver expiry at TIME (ISO 8601, UTC unless it says otherwise) "
                   "instead of the present.")
def check(
    repo_dir: str, base: str | None, head: str, policy_path: str | None, policy_from_worktree: bool, output_format: str,
    fail_on: Severity, output: str | None, reports: tuple[str, ...], pr_body_file: Path | None, labels: tuple[str, ...],
    pr_author: str | None, pr_title: str | None, branch: str | None, source_name: str, github: bool | None,
    now: str | None,
) -> None:
    """Judge one change against the policy.

    Locally, the change is the commits in BASE..HEAD and the diff from their merge base, and the
    policy is .govgate.yml at BASE (the change cannot loosen the rules that judge it;
    --policy-from-worktree judges with the working tree's). On GitHub Actions the change, its
    reviews and its checks come from the event and the API, and the policy from the base commit;
    in a GitLab merge-request pipeline, from the CI_MERGE_REQUEST_* variables and the GitLab API,
    and the policy from the target branch.

    Exit codes: 0 the gate passes, 1 the gate fails, 2 usage, policy or input error, or a change
    that could not be read in full (verdict "incomplete": not fully judged, never a pass).
    """
    from govgate.cli import EXIT_ERROR, EXIT_FAIL, EXIT_PASS
    from govgate.cli.audit import parse_date
    from govgate.cli.common import emit, parse_reports
    from govgate.memory.base_revision import attach_base_memory
    from govgate.pipeline import evaluate
    from govgate.policy.choice import PolicyChoice
    from govgate.sources import NothingToJudge, PullRequestFlags, SourceRequest, detect_source, open_source
    from govgate.sources.git import GitRepo
    from govgate.sources.trusted import read_trusted
    from govgate.verdict import Outcome

    report_targets = parse_reports(reports, CHECK_FORMATS)
    choice = PolicyChoice.parse(policy_path)
    name = detect_source(source_name, github, os.environ)
    at = parse_date(now, "--now", end_of_day=False)
    repo = GitRepo.open(repo_dir)
    flags = PullRequestFlags(body_file=pr_body_file, labels=labels, author=pr_author, title=pr_title, branch=branch)
    request = SourceRequest(repo, base=base, head=None if head == "HEAD" else head, pr=flags)
    try:
        try:
            source = open_source(name, request)
            root = source.trust_root()
        except NothingToJudge as exc:  # e.g. a tag deletion: a clean no-op, not an error
            click.echo(f"govgate: {exc}", err=True)
            sys.exit(EXIT_PASS)
        trusted = read_trusted(repo, root, choice, from_worktree=policy_from_worktree)
        change = next(iter(source.changes(trusted)))
        change.problems[:0] = trusted.problems
        attach_base_memory(repo, change, trusted)
        verdict = evaluate(change, trusted.policy, fail_on=fail_on, now=at)
    finally:
        repo.close()
    checkout = Path(repo_dir)
    emit(verdict, output_format, output, checkout)
    write_reports(verdict, report_targets, checkout)
    if verdict.verdict is Outcome.INCOMPLETE:
        click.echo(f"govgate: not fully judged ({len(verdict.incomplete)} gap{'s' if len(verdict.incomplete) != 1 else ''}: "
                   f"{verdict.incomplete[0].detail}); a change that could not be read in full never passes", err=True)
    sys.exit({Outcome.PASS: EXIT_PASS, Outcome.FAIL: EXIT_FAIL, Outcome.INCOMPLETE: EXIT_ERROR}[verdict.verdict])
