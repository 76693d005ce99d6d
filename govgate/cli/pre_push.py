"""``govgate pre-push``: judge the commits a ``git push`` is about to send."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from govgate.cli.common import fail_on_option, policy_from_worktree_option, policy_option

if TYPE_CHECKING:
    from govgate.model import Severity
    from govgate.policy.choice import PolicyChoice
    from govgate.sources.git import GitRepo
    from govgate.sources.pre_push import PushedRange

BYPASS_HINT = "push anyway with `git push --no-verify` (the pull request's gate still judges it)"


@click.command("pre-push")
@click.argument("remote", required=False)
@click.argument("url", required=False)
@click.option("--repo", "repo_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The git repository being pushed from.")
@policy_option
@policy_from_worktree_option
@fail_on_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when the push passes.")
@click.option("--require-forge-evidence", is_flag=True,
              help="Also require reviews, CI checks and plans in the PR description now, as the pull request's gate does.")
def pre_push(remote: str | None, url: str | None, repo_dir: str, policy_path: str | None, policy_from_worktree: bool,
             fail_on: Severity, quiet: bool, require_forge_evidence: bool) -> None:
    """Judge the commits about to be pushed, before they leave the machine.

    \b
    As a git pre-push hook, git passes REMOTE and URL and one line per ref on standard input.
    As a pre-commit hook (stage pre-push), pre-commit passes PRE_COMMIT_FROM_REF, PRE_COMMIT_TO_REF,
    PRE_COMMIT_REMOTE_BRANCH, ... in the environment. Run by hand, it judges the checked-out
    branch against its upstream.

    Each pushed branch is judged from the commit the remote has (a new branch: its merge base with
    the remote's default branch). Reviews, CI checks and plans in the PR description cannot exist
    before the push: requirements only they could meet are left to the pull request's gate, and
    their red flags still fail. Deleted branches and tags push no change and are skipped.

    Quiet on a pass (one line; none with --quiet), the full explanation on a failure.
    Exit codes: 0 push, 1 the gate fails (the push is stopped), 2 usage, policy or input error.
    """
    from govgate.cli import EXIT_ERROR, EXIT_FAIL, EXIT_PASS
    from govgate.policy.choice import PolicyChoice
    from govgate.sources.git import GitRepo
    from govgate.sources.pre_push import pushed_ranges, updates_from_hook_input, updates_from_pre_commit, upstream_update

    choice = PolicyChoice.parse(policy_path)
    repo = GitRepo.open(repo_dir)
    try:
        updates = updates_from_pre_commit(os.environ)
        if updates is None:
            hooked = remote is not None and not sys.stdin.isatty()
            updates = updates_from_hook_input(sys.stdin.read()) if hooked else upstream_update(repo)
        remote_name = remote or os.environ.get("PRE_COMMIT_REMOTE_NAME") or "origin"
        judged = [judge_push(repo, pushed, choice, policy_from_worktree, fail_on, require_forge_evidence)
                  for pushed in pushed_ranges(repo, updates, remote_name)]
    finally:
        repo.close()
    for outcome, text in judged:
        if outcome != "pass" or not quiet:
            click.echo(text)
    if not judged and not quiet:
        click.echo("govgate: nothing to push")
    outcomes = {outcome for outcome, _ in judged}
    sys.exit(EXIT_ERROR if "incomplete" in outcomes else EXIT_FAIL if "fail" in outcomes else EXIT_PASS)


def judge_push(repo: GitRepo, pushed: PushedRange, choice: PolicyChoice, policy_from_worktree: bool, fail_on: Severity,
               require_forge_evidence: bool) -> tuple[str, str]:
    """(outcome, what to print) for one pushed branch."""
    from govgate.formats.text import render_check
    from govgate.model import GOVERNANCE_QUESTIONS
    from govgate.pipeline import evaluate
    from govgate.policy.before_push import before_push
    from govgate.sources import PullRequestFlags
    from govgate.sources.local import LocalRangeSource
    from govgate.sources.trusted import read_trusted
    from govgate.verdict import RuleStatus

    if pushed.skip_reason or pushed.base is None:
        return "pass", f"govgate: {pushed.label}: nothing to judge ({pushed.skip_reason})"
    source = LocalRangeSource(repo, pushed.base, pushed.head, PullRequestFlags(branch=pushed.branch))
    trusted = read_trusted(repo, source.trust_root(), choice, from_worktree=policy_from_worktree)
    change = source.read()
    change.problems[:0] = trusted.problems
    policy, deferred = (trusted.policy, []) if require_forge_evidence else before_push(trusted.policy)
    verdict = evaluate(change, policy, fail_on=fail_on)
    applied = {r.rule.id for r in verdict.rules if r.status is not RuleStatus.SKIPPED}
    later = [q.value for q in GOVERNANCE_QUESTIONS if q.value in {d.question for d in deferred if d.rule in applied}]
    left = f"; reviews, CI and the PR description are left for the pull request ({', '.join(later)})" if later else ""
    if verdict.verdict == "pass":
        count = len(change.commits)
        return "pass", f"govgate: pass  {pushed.label}  {count} commit{'s' if count != 1 else ''}{left}"
    stopped = "is stopped" if verdict.verdict == "fail" else "is stopped: it could not be read in full"
    return str(verdict.verdict), (render_check(verdict).rstrip("\n")
                                  + f"\ngovgate: the push of {pushed.label} {stopped}{left}. Fix the above, or {BYPASS_HINT}.")
