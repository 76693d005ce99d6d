"""The change a GitHub Actions run is about, with verified reviews and checks from the API.

Trust rules this module enforces:
- The policy, its waivers and CODEOWNERS are read from the BASE commit (``git show
  <base>:.govgate.yml``), never from the PR head: otherwise a pull request could rewrite the
  rules that judge it. A PR that edits the policy is judged by the old one, whose
  ``policy_changed`` rules fire.
- When the API cannot be read the gate fails closed (exit 2, nothing judged) unless the
  base policy says ``github: {on_api_error: fail_open}``; then the change is judged without
  verified evidence and ``Change.problems`` says so loudly.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from govgate.errors import GitError, SourceError
from govgate.model import Change, PullRequest
from govgate.policy.loader import DEFAULT_POLICY_FILES, EMBEDDED_DEFAULT, load_policy, parse_policy, preset_path
from govgate.policy.model import Policy
from govgate.sources.codeowners import find_codeowners, parse_codeowners
from govgate.sources.git import ZERO_SHA, GitRepo
from govgate.sources.github_api import GitHubApiError, GitHubClient
from govgate.sources.github_history import (
    FETCH_DEPTH_HINT,
    change_from_api,
    commit_parents,
    ensure_history,
    has_commit,
    single_commit_change,
)
from govgate.sources.github_pr import (
    fetch_checks,
    fetch_pull,
    fetch_reviews,
    find_merged_pull,
    merge_queue_pr_number,
    pull_request_from,
)
from govgate.sources.local import LocalRangeSource, PullRequestFlags

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target", "pull_request_review")
SUPPORTED_EVENTS = (*PULL_REQUEST_EVENTS, "merge_group", "push")
DEFAULT_TIMEOUT_SECONDS = 60.0
T = TypeVar("T")


class NothingToJudge(Exception):
    """The event carries no change (a deleted branch or tag, a tag push): say so and exit 0."""


@dataclass(frozen=True)
class ActionsEnvironment:
    event_name: str
    event_path: str
    repository: str
    api_url: str
    graphql_url: str | None
    token: str | None

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> ActionsEnvironment:
        missing = [name for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY") if not env.get(name)]
        if missing:
            raise SourceError(
                f"reading the change from GitHub Actions needs {', '.join(missing)} in the environment",
                "outside Actions, run `govgate check --no-github --base REV --head REV`",
            )
        return cls(
            event_name=env["GITHUB_EVENT_NAME"],
            event_path=env["GITHUB_EVENT_PATH"],
            repository=env["GITHUB_REPOSITORY"],
            api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
            graphql_url=env.get("GITHUB_GRAPHQL_URL") or None,
            token=env.get("GITHUB_TOKEN") or None,
        )


@dataclass
class Target:
    """What the event asks to judge, before any history or API is read."""

    kind: str  # pull_request | merge_group | push
    head: str
    base: str | None  # None: judge the head commit on its own
    pr_number: int | None = None
    pull_request: PullRequest | None = None
    changed_files: int | None = None
    branch: str | None = None
    default_branch: str | None = None


def read_event(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise SourceError(f"GITHUB_EVENT_PATH {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"GITHUB_EVENT_PATH {path}: cannot read the event payload ({exc})") from None
    if not isinstance(data, dict):
        raise SourceError(f"GITHUB_EVENT_PATH {path}: the event payload is not a JSON object")
    return data


def resolve_target(event_name: str, event: Mapping[str, Any], repo: GitRepo) -> Target:
    if event_name in PULL_REQUEST_EVENTS:
        pr = event.get("pull_request")
        if not isinstance(pr, dict):
            raise SourceError(f"the {event_name} payload has no pull_request object")
        pull = pull_request_from(pr)
        if pull.number is None:
            pull.number = _int(event.get("number"))
        if not pull.head_sha or not pull.base_sha:
            raise SourceError(f"the {event_name} payload lacks pull_request.head.sha or base.sha")
        return Target("pull_request", pull.head_sha, pull.base_sha, pull.number, pull,
                      _int(pr.get("changed_files")), pull.head_ref)
    if event_name == "merge_group":
        group = event.get("merge_group") or {}
        head, base = group.get("head_sha"), group.get("base_sha")
        if not head or not base:
            raise SourceError("the merge_group payload lacks merge_group.head_sha or base_sha")
        branch = str(group.get("base_ref") or "").removeprefix("refs/heads/") or None
        return Target("merge_group", head, base, merge_queue_pr_number(group.get("head_ref")), branch=branch)
    if event_name == "push":
        return _push_target(event, repo)
    raise SourceError(
        f"GitHub event {event_name!r} is not supported",
        f"govgate judges {', '.join(SUPPORTED_EVENTS)}; for others run `govgate check --no-github --base REV --head REV`",
    )


def _push_target(event: Mapping[str, Any], repo: GitRepo) -> Target:
    ref = str(event.get("ref") or "")
    after = str(event.get("after") or ZERO_SHA)
    before = str(event.get("before") or ZERO_SHA)
    if event.get("deleted") or after == ZERO_SHA:
        raise NothingToJudge(f"the push deleted {ref or 'a ref'}: nothing to judge")
    if ref.startswith("refs/tags/"):
        raise NothingToJudge(f"the push created or moved tag {ref.removeprefix('refs/tags/')}: a tag adds no change to judge")
    branch = ref.removeprefix("refs/heads/") or None
    default_branch = str((event.get("repository") or {}).get("default_branch") or "") or None
    base: str | None = None if before == ZERO_SHA else before
    if base is None and default_branch and branch != default_branch:
        # A new branch: its commits are those not yet on the default branch.
        for candidate in (f"refs/remotes/origin/{default_branch}", f"refs/heads/{default_branch}"):
            sha = repo.try_run("rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
            if sha:
                base = sha.strip()
                break
    return Target("push", after, base, branch=branch, default_branch=default_branch)


def github_change(
    repo: GitRepo, flags: PullRequestFlags, policy_path: str | None, *, base: str | None = None, head: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Change, Policy]:
    env = ActionsEnvironment.from_environ(environ if environ is not None else os.environ)
    event = read_event(env.event_path)
    target = resolve_target(env.event_name, event, repo)
    if head:
        target.head = repo.resolve(head)
    if base:
        target.base = repo.resolve(base)
    problems: list[str] = []

    head_only = target.base is None
    merge_base, actions = (None, [])
    if not head_only:
        merge_base, actions = ensure_history(repo, target.base or "", target.head, pr_number=target.pr_number)
        if merge_base is None and target.kind == "push":
            # A force-push can leave `before` unreachable: judge what the push put on top instead.
            problems.append(f"the pushed range {target.base[:12] if target.base else ''}..{target.head[:12]} could not "
                            "be read (force-push or shallow clone): judged the head commit alone")
            head_only = True
    if head_only:
        parents = commit_parents(repo, target.head) if has_commit(repo, target.head) else ()
        target.base = parents[0] if parents else None
        if target.base is not None:
            merge_base, actions = ensure_history(repo, target.base, target.head)

    policy = load_base_policy(repo, target.base, policy_path, problems)
    settings = policy.github
    client = GitHubClient(
        env.api_url, env.token, env.graphql_url,
        deadline_seconds=float(settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
        per_request_timeout=min(20.0, float(settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))),
    )
    api = _Api(client, env.repository, fail_open=settings.get("on_api_error") == "fail_open", problems=problems)

    pull = _pull_request_for(target, api, flags)
    change = _read_change(repo, target, merge_base, actions, pull, api, head_only)
    if pull is None and target.kind == "push":
        pull = PullRequest(head_sha=target.head)  # no PR: still carries the pushed commit's checks
    if pull is not None:
        _add_verified_evidence(pull, target, api)
        pull.codeowners = read_codeowners(repo, target.base)
    change.pull_request = pull
    change.forge = "github"
    _describe(change, target, pull, event)
    change.problems.extend(problems)
    return change, policy


def _pull_request_for(target: Target, api: _Api, flags: PullRequestFlags) -> PullRequest | None:
    if target.pull_request is not None:
        return target.pull_request
    if target.kind == "merge_group":
        if target.pr_number is None:
            api.problems.append("merge_group: no pull request number in the queue branch name; judged without PR data")
            return None
        data = api.call(f"pull request #{target.pr_number}", lambda c, r: fetch_pull(c, r, target.pr_number or 0))
        if data is None:
            return PullRequest(number=target.pr_number)
        pull = pull_request_from(data)
        target.changed_files = _int(data.get("changed_files"))
        return pull
    if target.kind == "push":
        data = api.call("the pull request of the pushed commit", lambda c, r: find_merged_pull(c, r, target.head))
        if data:
            return pull_request_from(data)
        return flags.to_pull_request()
    return None


def _read_change(
    repo: GitRepo, target: Target, merge_base: str | None, actions: list[str], pull: PullRequest | None, api: _Api,
    head_only: bool,
) -> Change:
    if target.base is None:
        if not has_commit(repo, target.head):
            raise GitError(f"commit {target.head[:12]} is not in the clone", FETCH_DEPTH_HINT)
        return single_commit_change(repo, target.head)
    if merge_base is not None:
        try:
            return LocalRangeSource(repo, target.base, target.head).read()
        except GitError:
            if pull is None or pull.number is None:
                raise
            # The head is already in the base (a merged PR re-run): the API still lists the PR's files.
    if pull is not None and pull.number is not None and pull.head_sha:
        change = api.call("the pull request's files", lambda c, r: change_from_api(c, r, pull, repo, api.problems,
                                                                                     target.changed_files))
        if change is not None:
            return change
    done = "; ".join(actions) or "nothing could be fetched"
    what = "the head commit's parent" if head_only else f"the merge base of {target.base[:12]} and {target.head[:12]}"
    raise GitError(f"cannot find {what} in this clone (tried: {done})", FETCH_DEPTH_HINT)


def _add_verified_evidence(pull: PullRequest, target: Target, api: _Api) -> None:
    if pull.number is not None and pull.reviews is None:
        pull.reviews = api.call("reviews", lambda c, r: fetch_reviews(c, r, pull.number or 0))
    checked_sha = pull.head_sha or target.head
    pull.head_sha = checked_sha
    pull.checks = api.call("check runs and statuses", lambda c, r: fetch_checks(c, r, checked_sha))


def _describe(change: Change, target: Target, pull: PullRequest | None, event: Mapping[str, Any]) -> None:
    repository = event.get("repository") or {}
    change.repo_url = repository.get("html_url") or change.repo_url
    change.kind = target.kind
    if target.kind == "pull_request" and pull is not None:
        change.id = f"#{pull.number}"
        change.title = pull.title or change.title
        change.branch = pull.head_ref
    elif target.kind == "merge_group":
        change.id = f"merge-group:{target.head[:12]}"
        change.branch = target.branch
        if pull is not None and pull.title:
            change.title = f"merge queue: {pull.title} (#{pull.number})"
    else:
        change.branch = target.branch or change.branch
        if pull is not None and pull.number is not None:
            change.title = f"{change.title} (#{pull.number})" if f"#{pull.number}" not in change.title else change.title


def load_base_policy(repo: GitRepo, base: str | None, explicit: str | None, problems: list[str]) -> Policy:
    """The policy in force at the base commit (never the head's), with the path edits are flagged on."""
    in_repo, outside = _policy_location(repo, explicit)
    if outside is not None:
        return load_policy(outside)
    candidates = (in_repo,) if in_repo else DEFAULT_POLICY_FILES
    if base is not None:
        if not has_commit(repo, base):
            raise GitError(f"cannot read the policy: base commit {base[:12]} is not in the clone", FETCH_DEPTH_HINT)
        for candidate in candidates:
            text = _show(repo, base, candidate)
            if text is not None:
                policy = parse_policy(text, f"{candidate}@{base[:12]}")
                return dataclasses.replace(policy, policy_paths=tuple(dict.fromkeys((*DEFAULT_POLICY_FILES, candidate))))
    if in_repo:
        where = f"the base commit {base[:12]}" if base else "any earlier commit"
        problems.append(f"policy {in_repo} does not exist in {where}: judged by the embedded default policy")
    policy = load_policy(preset_path(EMBEDDED_DEFAULT))
    return dataclasses.replace(policy, policy_paths=tuple(dict.fromkeys((*DEFAULT_POLICY_FILES, *([in_repo] if in_repo else [])))))


def _policy_location(repo: GitRepo, explicit: str | None) -> tuple[str | None, Path | None]:
    """(repo-relative path read from the base commit, or a file outside the repo / a preset read from disk)."""
    if not explicit:
        return None, None
    candidate = Path(explicit)
    looks_like_file = candidate.exists() or "/" in explicit or explicit.endswith((".yml", ".yaml"))
    if not looks_like_file:
        return None, preset_path(explicit)
    if candidate.is_absolute():
        absolute = candidate
    elif _inside(Path.cwd(), repo.path):
        absolute = Path.cwd() / candidate
    else:
        absolute = repo.path / candidate  # run from elsewhere with --repo: paths are the repository's
    try:
        relative = absolute.resolve().relative_to(repo.path.resolve())
    except ValueError:
        return None, absolute  # a central policy outside the repository: not under the PR's control
    return relative.as_posix(), None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def read_codeowners(repo: GitRepo, base: str | None) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    if base is None or not has_commit(repo, base):
        return None
    found = find_codeowners(lambda location: _show(repo, base, location))
    return parse_codeowners(found[1]) if found else ()


def _show(repo: GitRepo, rev: str, path: str) -> str | None:
    return repo.try_run("show", f"{rev}:{path}")


@dataclass
class _Api:
    """Runs API reads; on failure fails closed (SourceError) or, if the policy allows, records a loud problem."""

    client: GitHubClient
    repository: str
    fail_open: bool
    problems: list[str] = field(default_factory=list)
    down: str | None = None

    def call(self, what: str, read: Callable[[GitHubClient, str], T]) -> T | None:
        if self.down is not None:
            self.problems.append(f"NOT VERIFIED: {what} (GitHub API unavailable, github.on_api_error: fail_open)")
            return None
        try:
            return read(self.client, self.repository)
        except GitHubApiError as exc:
            if not self.fail_open:
                raise SourceError(
                    f"{exc.message} (while reading {what}); failing closed: nothing was judged",
                    (exc.hint + "; " if exc.hint else "")
                    + "to judge without verified GitHub evidence instead, set `github: {on_api_error: fail_open}` in the policy",
                ) from None
            self.down = exc.message
            self.problems.append(
                f"NOT VERIFIED: {what}: {exc.message}; judged WITHOUT verified GitHub evidence "
                "because the policy sets github.on_api_error: fail_open"
            )
            return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
