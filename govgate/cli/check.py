"""``govgate check``: judge one change."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from govgate.cli.common import fail_on_option, format_option, policy_option, write_reports
from govgate.formats import CHECK_FORMATS


@click.command("check")
@click.option("--repo", "repo_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The git repository to read.")
@click.option("--base", default=None, metavar="REV",
              help="Compare against this revision (default: merge base with the remote default branch).")
@click.option("--head", default="HEAD", show_default=True, metavar="REV", help="The change's newest commit.")
@policy_option
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
@click.option("--github/--no-github", "github", default=None,
              help="Read the change from the GitHub Actions event and API (default: on when GITHUB_ACTIONS=true).")
@click.option("--now", default=None, metavar="TIME",
              help="Judge freezes, stale memory and waiver expiry at TIME (ISO 8601, UTC unless it says otherwise) "
                   "instead of the present.")
def check(
    repo_dir: str, base: str | None, head: str, policy_path: str | None, output_format: str, fail_on: str,
    output: str | None, reports: tuple[str, ...], pr_body_file: Path | None, labels: tuple[str, ...],
    pr_author: str | None, pr_title: str | None, branch: str | None, github: bool | None, now: str | None,
) -> None:
    """Judge one change against the policy.

    Locally, the change is the commits in BASE..HEAD and the diff from their merge base.
    On GitHub Actions the change, its reviews and its checks come from the event and the API.

    Exit codes: 0 the gate passes, 1 the gate fails, 2 usage, policy or input error.
    """
    from govgate.cli.audit import parse_date
    from govgate.cli.common import emit, load_policy_for, parse_reports
    from govgate.memory.base_revision import attach_base_memory
    from govgate.pipeline import evaluate
    from govgate.sources.git import GitRepo
    from govgate.sources.local import LocalRangeSource, PullRequestFlags
    from govgate.sources.release_tags import with_release_tags

    report_targets = parse_reports(reports, CHECK_FORMATS)
    at = parse_date(now, "--now", end_of_day=False)
    repo = GitRepo.open(repo_dir)
    use_github = github if github is not None else os.environ.get("GITHUB_ACTIONS") == "true"
    flags = PullRequestFlags(body_file=pr_body_file, labels=labels, author=pr_author, title=pr_title, branch=branch)
    try:
        if use_github:
            from govgate.sources.github_event import NothingToJudge, github_change

            try:
                change, policy = github_change(repo, flags, policy_path, base=base, head=None if head == "HEAD" else head)
            except NothingToJudge as exc:  # e.g. a tag deletion: a clean no-op, not an error
                click.echo(f"govgate: {exc}", err=True)
                sys.exit(0)
        else:
            policy = load_policy_for(policy_path, repo.path)
            change = LocalRangeSource(repo, base, head, flags).read()
        attach_base_memory(repo, change, policy.memory_file)
        verdict = evaluate(change, with_release_tags(repo, policy), fail_on=fail_on, now=at)
    finally:
        repo.close()
    emit(verdict, output_format, output)
    write_reports(verdict, report_targets)
    sys.exit(1 if verdict.verdict == "fail" else 0)
