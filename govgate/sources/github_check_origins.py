"""Who ran each check: govgate's own job, and the workflow behind every GitHub Actions check run.

A check run's name is whatever a job or an API call chose, so a name proves nothing. Binding:

- govgate's own job is identified by its check run id: the ``job.check_run_id`` context that
  action.yml passes as ``GOVGATE_CHECK_RUN_ID`` (github.com and GHEC), else the job of this
  workflow run (``GITHUB_RUN_ID``, ``GITHUB_RUN_ATTEMPT``) that is in progress on this runner
  (``RUNNER_NAME``), from ``GET /actions/runs/{id}/attempts/{n}/jobs``. Never from a setting
  the change could influence.
- an Actions check run belongs to a check suite, and the suite to one workflow run
  (``GET /actions/runs?check_suite_id=``), whose ``path`` is the workflow file. The run's jobs
  (``GET /actions/runs/{id}/jobs?filter=all``) must include the check run: a check run created
  through the Checks API by a step is in no job list. The workflow file must exist in the base
  commit's objects (``git cat-file -e BASE:PATH``): a workflow the pull request adds cannot vouch
  for it. Whether the change edits that file is judged by the detector, which sees the change.

Reading the workflow runs needs ``actions: read``. Without it the origin is unknown and such
checks prove nothing; the reason is carried with them, and said once among the problems.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govgate.model import CheckOrigin, CheckResult, newest_per_name
from govgate.sources.github_api import GitHubApiError, GitHubClient
from govgate.sources.github_pr import repo_path

ACTIONS_APP = "github-actions"
# GitHub-managed workflows (CodeQL default setup, Dependabot updates) run from no file in the repository.
_GITHUB_MANAGED_PREFIX = "dynamic/"


@dataclass(frozen=True)
class RunnerIdentity:
    """What the Actions runner tells a step about the job it is running."""

    check_run_id: int | None = None
    run_id: str | None = None
    run_attempt: str = "1"
    runner_name: str | None = None

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> RunnerIdentity:
        raw = (env.get("GOVGATE_CHECK_RUN_ID") or "").strip()
        return cls(
            check_run_id=int(raw) if raw.isdigit() else None,
            run_id=env.get("GITHUB_RUN_ID") or None,
            run_attempt=env.get("GITHUB_RUN_ATTEMPT") or "1",
            runner_name=env.get("RUNNER_NAME") or None,
        )


def own_check_run_id(client: GitHubClient, repository: str, runner: RunnerIdentity, problems: list[str]) -> int | None:
    if runner.check_run_id is not None:
        return runner.check_run_id
    if not runner.run_id or not runner.runner_name:
        return None  # not inside an Actions job: there is no own check run
    path = f"{repo_path(repository)}/actions/runs/{runner.run_id}/attempts/{runner.run_attempt}/jobs"
    try:
        jobs = client.paginate(path, item_key="jobs")
    except GitHubApiError as exc:
        problems.append(f"govgate could not tell which check run is its own job ({exc.message}): pass "
                        "GOVGATE_CHECK_RUN_ID (job.check_run_id) or grant `actions: read`; it is shown as pending")
        return None
    mine = [job for job in jobs if isinstance(job, dict) and job.get("runner_name") == runner.runner_name
            and job.get("status") == "in_progress"]
    return _check_run_id_of(mine[0]) if len(mine) == 1 else None


def _check_run_id_of(job: Mapping[str, Any]) -> int | None:
    url = str(job.get("check_run_url") or "")
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def bind_checks(
    client: GitHubClient, repository: str, checks: Sequence[CheckResult], own_id: int | None,
    on_base: Callable[[str], bool], problems: list[str],
) -> tuple[CheckResult, ...]:
    """The checks, each Actions run that is the newest of its name bound to its workflow, govgate's own marked."""
    newest = newest_per_name(checks)
    suites: dict[int, CheckOrigin | _Run] = {}
    bound: list[CheckResult] = []
    for check in checks:
        if own_id is not None and check.id == own_id:
            check = dataclasses.replace(check, own=True)
        elif check.kind == "check_run" and check.app == ACTIONS_APP and check in newest:
            check = dataclasses.replace(check, origin=_origin(client, repository, check, suites, on_base, problems))
        bound.append(check)
    return tuple(bound)


@dataclass(frozen=True)
class _Run:
    path: str
    job_check_runs: frozenset[int]
    called: tuple[str, ...]


def _origin(
    client: GitHubClient, repository: str, check: CheckResult, suites: dict[int, CheckOrigin | _Run],
    on_base: Callable[[str], bool], problems: list[str],
) -> CheckOrigin:
    if check.suite_id is None:
        return CheckOrigin(unknown="GitHub named no check suite for it")
    if check.suite_id not in suites:
        suites[check.suite_id] = _read_run(client, repository, check.suite_id, problems)
    run = suites[check.suite_id]
    if isinstance(run, CheckOrigin):
        return run
    if not run.path:
        return CheckOrigin(unknown="its workflow run names no workflow file")
    if check.id not in run.job_check_runs:
        return CheckOrigin()  # in the suite but not a job: written through the Checks API
    managed = run.path.startswith(_GITHUB_MANAGED_PREFIX)
    return CheckOrigin(workflow_path=run.path, on_base=managed or on_base(run.path), called=run.called)


def _read_run(client: GitHubClient, repository: str, suite_id: int, problems: list[str]) -> CheckOrigin | _Run:
    base = repo_path(repository)
    try:
        runs = client.paginate(f"{base}/actions/runs", {"check_suite_id": suite_id}, item_key="workflow_runs")
        run = next((r for r in runs if isinstance(r, dict)), None)
        if run is None:
            return CheckOrigin()  # an Actions check suite with no workflow run behind it
        jobs = client.paginate(f"{base}/actions/runs/{run.get('id')}/jobs", {"filter": "all"}, item_key="jobs")
    except GitHubApiError as exc:
        reason = f"the workflow that ran it could not be read ({exc.message}; grant `actions: read`)"
        note = f"check runs of GitHub Actions could not be bound to their workflows: {exc.message}; grant `actions: read`"
        if note not in problems:
            problems.append(note)
        return CheckOrigin(unknown=reason)
    job_ids = {_check_run_id_of(job) for job in jobs if isinstance(job, dict)}
    return _Run(path=str(run.get("path") or ""), job_check_runs=frozenset(i for i in job_ids if i is not None),
                called=_called_here(run, repository))


def _called_here(run: Mapping[str, Any], repository: str) -> tuple[str, ...]:
    """Reusable workflows of this repository the run called (``owner/repo/.github/workflows/x.yml@ref``)."""
    prefix = repository.lower() + "/"
    called = []
    for item in run.get("referenced_workflows") or []:
        text = str((item or {}).get("path") or "")
        if text.lower().startswith(prefix):
            called.append(text[len(prefix):].split("@", 1)[0])
    return tuple(called)
