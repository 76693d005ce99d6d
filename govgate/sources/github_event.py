"""The change a GitHub Actions run is about, with verified reviews and checks from the API.

Trust rules this module enforces (``govgate.sources.trusted`` reads what the trust root holds):
- The policy, its waivers and CODEOWNERS come from the base commit of a pull request or merge
  group, from the branch's previous tip for a push to the default branch, and from the default
  branch for a push to any other branch: never from the commits being judged, so a push cannot
  weaken the policy and profit from it in the next push.
- When the API cannot be read the gate fails closed (exit 2, nothing judged) unless the
  trusted policy says ``github: {on_api_error: fail_open}``; then the change is judged without
  verified evidence and ``Change.problems`` says so loudly.
- What could not be read in full (GitHub's 250-commit and 3,000-file caps, a pushed range that
  could not be fetched) is a gap in ``Change.incomplete``: the change is not fully judged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from govgate.errors import GitError, SourceError
from govgate.model import Change, Gap, GapKind, PullRequest
from govgate.sources import NothingToJudge, SourceRequest, TrustRoot
from govgate.sources.clone import branch_tip, commit_parents, ensure_commits, ensure_history, fetch_credentials, has_commit
from govgate.sources.codeowners import CODEOWNERS_LOCATIONS, parse_codeowners
from govgate.sources.forge_api import fails_open, policy_deadline
from govgate.sources.forge_reads import ForgeReads
from govgate.sources.git import ZERO_SHA
from govgate.sources.github_api import GitHubClient
from govgate.sources.github_check_origins import RunnerIdentity
from govgate.sources.github_history import FETCH_DEPTH_HINT, ListedCounts, change_from_api
from govgate.sources.github_pr import (
    fetch_pull,
    find_merged_pull,
    merge_queue_pr_number,
    pull_request_from,
)
from govgate.sources.github_verified import add_verified_evidence
from govgate.sources.json_shapes import integer, obj, text
from govgate.sources.local import LocalRangeSource, single_commit_change
from govgate.sources.trusted import TrustedConfig

__all__ = ["GitHubEventSource", "NothingToJudge", "open_source"]

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target", "pull_request_review")
SUPPORTED_EVENTS = (*PULL_REQUEST_EVENTS, "merge_group", "push")
T = TypeVar("T")


@dataclass(frozen=True)
class ActionsEnvironment:
    event_name: str
    event_path: str
    repository: str
    api_url: str
    graphql_url: str | None
    token: str | None
    runner: RunnerIdentity = field(default_factory=RunnerIdentity)
    server_url: str | None = None

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
            runner=RunnerIdentity.from_environ(env),
            server_url=env.get("GITHUB_SERVER_URL") or None,
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
    commit_count: int | None = None
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


def resolve_target(event_name: str, event: Mapping[str, Any]) -> Target:
    if event_name in PULL_REQUEST_EVENTS:
        pr = event.get("pull_request")
        if not isinstance(pr, dict):
            raise SourceError(f"the {event_name} payload has no pull_request object")
        pull = pull_request_from(pr)
        if pull.number is None:
            pull.number = integer(event.get("number"))
        if not pull.head_sha or not pull.base_sha:
            raise SourceError(f"the {event_name} payload lacks pull_request.head.sha or base.sha")
        return Target("pull_request", pull.head_sha, pull.base_sha, pull.number, pull,
                      integer(pr.get("changed_files")), integer(pr.get("commits")), pull.head_ref)
    if event_name == "merge_group":
        group = obj(event.get("merge_group"))
        head, base = text(group.get("head_sha")), text(group.get("base_sha"))
        if not head or not base:
            raise SourceError("the merge_group payload lacks merge_group.head_sha or base_sha")
        branch = str(group.get("base_ref") or "").removeprefix("refs/heads/") or None
        return Target("merge_group", head, base, merge_queue_pr_number(group.get("head_ref")), branch=branch)
    if event_name == "push":
        return _push_target(event)
    raise SourceError(
        f"GitHub event {event_name!r} is not supported",
        f"govgate judges {', '.join(SUPPORTED_EVENTS)}; for others run `govgate check --no-github --base REV --head REV`",
    )


def _push_target(event: Mapping[str, Any]) -> Target:
    ref = str(event.get("ref") or "")
    after = str(event.get("after") or ZERO_SHA)
    before = str(event.get("before") or ZERO_SHA)
    if event.get("deleted") or after == ZERO_SHA:
        raise NothingToJudge(f"the push deleted {ref or 'a ref'}: nothing to judge")
    if ref.startswith("refs/tags/"):
        raise NothingToJudge(f"the push created or moved tag {ref.removeprefix('refs/tags/')}: a tag adds no change to judge")
    branch = ref.removeprefix("refs/heads/") or None
    default_branch = text(obj(event.get("repository")).get("default_branch"))
    base: str | None = None if before == ZERO_SHA else before
    return Target("push", after, base, branch=branch, default_branch=default_branch)


class GitHubEventSource:
    """A ChangeSource over the GitHub Actions event in GITHUB_EVENT_PATH and the REST API."""

    name: ClassVar[str] = "github"

    def __init__(self, request: SourceRequest) -> None:
        self.repo = request.repo
        self.flags = request.pr
        self.env = ActionsEnvironment.from_environ(request.environ)
        # Fetches that deepen the clone authenticate themselves: the checkout may keep no credentials.
        self.repo.credentials = fetch_credentials(self.repo, self.env.token, self.env.server_url)
        self.event = read_event(self.env.event_path)
        self.target = resolve_target(self.env.event_name, self.event)
        self.event_base = self.target.base  # --base changes the range judged, never where the policy is read
        if request.head:
            self.target.head = self.repo.resolve(request.head)
        if request.base:
            self.target.base = self.repo.resolve(request.base)
        self.problems: list[str] = []
        self.gaps: list[Gap] = []
        self.merge_base: str | None = None
        self.actions: list[str] = []
        self.head_only = False

    def trust_root(self) -> TrustRoot:
        root = self._root()
        if self.target.kind == "push" and self.target.base is None and self.target.branch != self.target.default_branch:
            self.target.base = root.revision  # a new branch: its commits are those the default branch does not have
        self._read_history(root)
        if root.revision is not None and not has_commit(self.repo, root.revision):
            raise GitError(f"cannot read the policy: {root.role}, {root.revision[:12]}, is not in the clone", FETCH_DEPTH_HINT)
        return root

    def changes(self, trusted: TrustedConfig) -> Iterator[Change]:
        settings = trusted.policy.github
        client = GitHubClient(self.env.api_url, self.env.token, self.env.graphql_url,
                              deadline_seconds=policy_deadline(settings))
        api = _Api(client, "GitHub", "github", fails_open(settings), self.problems,
                   repository=self.env.repository)
        target = self.target
        pull = self._pull_request_for(api)
        change = self._read_change(pull, api)
        if pull is None and target.kind == "push":
            pull = PullRequest(head_sha=target.head)  # no PR: still carries the pushed commit's checks
        if pull is not None:
            add_verified_evidence(pull, target.head, trusted.files, api.call, api.problems, self.event, self.env.runner)
            if trusted.asks_for_code_owners:
                found = trusted.codeowners(CODEOWNERS_LOCATIONS)
                pull.codeowners = parse_codeowners(found[1]) if found else ()
        change.pull_request = pull
        _describe(change, target, pull, self.event)
        change.forge = "github"  # even when fail_open lost the API: verified-only rules must then fail, not relax
        change.problems.extend(self.problems)
        change.incomplete.extend(self.gaps)
        yield change

    def close(self) -> None:
        self.repo.close()

    # -- where the policy comes from, and the history to judge ---------------------------------

    def _root(self) -> TrustRoot:
        target = self.target
        if target.kind == "pull_request":
            return TrustRoot(self.event_base, "the pull request's base commit", forge=True)
        if target.kind == "merge_group":
            return TrustRoot(self.event_base, "the merge queue's base commit", forge=True)
        branch, default = target.branch, target.default_branch
        if not default:
            raise SourceError("the push payload names no repository.default_branch: cannot tell which policy judges it")
        if branch != default:
            tip = branch_tip(self.repo, default, self.actions)
            if tip is None:
                raise GitError(f"cannot read the default branch {default}, whose policy judges pushes to {branch} "
                               f"(tried: {'; '.join(self.actions) or 'no origin remote'})", FETCH_DEPTH_HINT)
            return TrustRoot(tip, f"the default branch {default}", forge=True)
        if self.event_base is None:
            return TrustRoot(None, f"the push created {branch}: there is no earlier commit to read a policy from", forge=True)
        ensure_commits(self.repo, [self.event_base], self.actions)
        return TrustRoot(self.event_base, f"the previous tip of {branch}", forge=True)

    def _read_history(self, root: TrustRoot) -> None:
        target, repo = self.target, self.repo
        self.head_only = target.base is None
        if not self.head_only:
            refs = (f"refs/pull/{target.pr_number}/head",) if target.pr_number is not None else ()
            self.merge_base, self.actions = ensure_history(repo, target.base or "", target.head, head_refs=refs)
            if self.merge_base is None and target.kind == "push":
                self._pushed_range_unreadable(root)
        if self.head_only:
            parents = commit_parents(repo, target.head) if has_commit(repo, target.head) else ()
            target.base = parents[0] if parents else None
            if target.base is not None:
                self.merge_base, self.actions = ensure_history(repo, target.base, target.head)

    def _pushed_range_unreadable(self, root: TrustRoot) -> None:
        """`before` is gone (a force-push) or out of reach: judge the branch against the default branch, or the head alone."""
        target = self.target
        pushed = f"{(target.base or '')[:12]}..{target.head[:12]}"
        if target.branch != target.default_branch and root.revision is not None:
            merge_base, actions = ensure_history(self.repo, root.revision, target.head)
            if merge_base is not None:
                self.problems.append(f"the pushed range {pushed} could not be read (force-push?): judged every commit "
                                     f"of {target.branch} that {root.role} does not have")
                target.base, self.merge_base, self.actions = root.revision, merge_base, actions
                return
        self.gaps.append(Gap(GapKind.HISTORY_MISSING, f"the pushed range {pushed} could not be read (force-push or "
                                                      "shallow clone): only the head commit was judged"))
        self.head_only = True

    # -- the change and its verified evidence ------------------------------------------------

    def _pull_request_for(self, api: _Api) -> PullRequest | None:
        target = self.target
        if target.pull_request is not None:
            return target.pull_request
        if target.kind == "merge_group":
            if target.pr_number is None:
                api.problems.append("merge_group: no pull request number in the queue branch name; judged without PR data")
                return None
            data = api.call(f"pull request #{target.pr_number}", lambda c, r: fetch_pull(c, r, target.pr_number or 0))
            if data is None:
                return PullRequest(number=target.pr_number)
            target.changed_files, target.commit_count = integer(data.get("changed_files")), integer(data.get("commits"))
            return pull_request_from(data)
        if target.kind == "push":
            data = api.call("the pull request of the pushed commit", lambda c, r: find_merged_pull(c, r, target.head))
            if data:
                return pull_request_from(data)
            return self.flags.to_pull_request()
        return None

    def _read_change(self, pull: PullRequest | None, api: _Api) -> Change:
        target, repo = self.target, self.repo
        if target.base is None:
            if not has_commit(repo, target.head):
                raise GitError(f"commit {target.head[:12]} is not in the clone", FETCH_DEPTH_HINT)
            return single_commit_change(repo, target.head)
        if self.merge_base is not None:
            try:
                return LocalRangeSource(repo, target.base, target.head).read()
            except GitError:
                if pull is None or pull.number is None:
                    raise
                # The head is already in the base (a merged PR re-run): the API still lists the PR's files.
        if pull is not None and pull.number is not None and pull.head_sha:
            counts = ListedCounts(commits=target.commit_count, files=target.changed_files)
            change = api.call("the pull request's files",
                              lambda c, r: change_from_api(c, r, pull, repo, api.problems, counts))
            if change is not None:
                return change
        done = "; ".join(self.actions) or "nothing could be fetched"
        what = "the head commit's parent" if self.head_only else f"the merge base of {target.base[:12]} and {target.head[:12]}"
        raise GitError(f"cannot find {what} in this clone (tried: {done})", FETCH_DEPTH_HINT)


def open_source(request: SourceRequest) -> GitHubEventSource:
    return GitHubEventSource(request)


def _describe(change: Change, target: Target, pull: PullRequest | None, event: Mapping[str, Any]) -> None:
    repository = obj(event.get("repository"))
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


@dataclass
class _Api(ForgeReads[GitHubClient]):
    """GitHub reads fail closed, or open when the policy allows (``ForgeReads``); each read gets the repository."""

    repository: str = ""

    def call(self, what: str, read: Callable[[GitHubClient, str], T]) -> T | None:  # type: ignore[override]
        return super().call(what, lambda client: read(client, self.repository))

