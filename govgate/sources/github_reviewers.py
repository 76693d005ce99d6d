"""Who may approve a pull request: the people behind its commits, and reviewers' write access.

GitHub's "require approval of the most recent reviewable push" means whoever pushed the head
cannot approve it. GitHub knows the pusher; its API tells it only in part, so govgate takes the
union of everything reliable it can read (each source says how the person took part):

- the PR's commits (``GET /pulls/{n}/commits``): the GitHub accounts linked to each commit's author
  and committer. Anyone can write any name into a commit, so this can only add people, never
  clear them: a forged author makes the real owner of that address unable to approve, never
  lets anyone approve.
- the repository activity API (``GET /repos/{o}/{r}/activity?ref=refs/heads/BRANCH``) of the
  repository holding the head branch: every push (and force-push) to it with its ``actor``,
  kept when it left one of the PR's commits at the tip. This is GitHub's record of who pushed.
  A fork's activity may be unreadable with the workflow token; that is reported, not hidden.
- the webhook ``sender`` of a ``synchronize`` event whose ``after`` is the head: the account
  whose push started this very run.

The GraphQL timeline names the actor only for force-pushes, which the activity API lists too.

Write access: a review's ``author_association`` OWNER has it; MEMBER and COLLABORATOR may hold
only read or triage, so those reviewers' permission is read from
``GET /repos/{o}/{r}/collaborators/{login}/permission`` (``admin``/``write`` count; ``maintain``
reads as ``write`` there, ``triage`` as ``read``). Anything else has no write access.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from govgate.model import GHOST_LOGIN, PullRequest, Review
from govgate.sources.github_api import GitHubApiError, GitHubClient
from govgate.sources.github_pr import repo_path
from govgate.sources.json_shapes import obj, text

ASKED_ASSOCIATIONS = frozenset({"MEMBER", "COLLABORATOR"})  # write access possible, not certain
_PUSH_ACTIVITIES = frozenset({"push", "force_push"})


def read_contributors(
    client: GitHubClient, repository: str, pull: PullRequest, event: Mapping[str, Any], problems: list[str],
) -> dict[str, str]:
    """Lower-case login -> how that account authored, committed or pushed the PR's commits."""
    found: dict[str, str] = {}
    shas: set[str] = {pull.head_sha} if pull.head_sha else set()
    if pull.number is not None:
        for item in client.paginate(f"{repo_path(repository)}/pulls/{pull.number}/commits"):
            sha = str(item.get("sha") or "")
            shas.add(sha)
            for role, verb in (("author", "authored"), ("committer", "committed")):
                login = (item.get(role) or {}).get("login")
                if login:
                    found.setdefault(login.lower(), f"{verb} commit {sha[:12]}")
    _add_pushers(client, pull, shas, found, problems)
    sender = text(obj(event.get("sender")).get("login"))  # a payload field of the wrong type is absent
    if event.get("action") == "synchronize" and sender and event.get("after") == pull.head_sha:
        found.setdefault(sender.lower(), f"pushed the head {str(pull.head_sha)[:12]} (the push that started this run)")
    return found


def _add_pushers(
    client: GitHubClient, pull: PullRequest, shas: set[str], found: dict[str, str], problems: list[str],
) -> None:
    holder = pull.head_repository
    if not holder or not pull.head_ref:
        problems.append("who pushed the pull request's commits is unknown (the payload names no head repository); "
                        "only their authors and committers were excluded from approving")
        return
    try:
        activities = client.paginate(f"{repo_path(holder)}/activity",
                                     {"ref": f"refs/heads/{pull.head_ref}", "direction": "desc"})
    except GitHubApiError as exc:
        problems.append(f"who pushed the pull request's commits could not be read from {holder}'s activity "
                        f"({exc.message}); only their authors and committers were excluded from approving")
        return
    for activity in activities:
        if not isinstance(activity, dict) or activity.get("activity_type") not in _PUSH_ACTIVITIES:
            continue
        after = str(activity.get("after") or "")
        login = (activity.get("actor") or {}).get("login")
        if login and after in shas:
            found.setdefault(login.lower(), f"pushed {after[:12]} to {pull.head_ref}")


def with_permissions(client: GitHubClient, repository: str, reviews: Sequence[Review]) -> tuple[Review, ...]:
    """Reviews whose approvers' write access is uncertain, completed with their repository permission."""
    asked: dict[str, str] = {}
    completed: list[Review] = []
    for review in reviews:
        login = review.reviewer
        uncertain = review.author_association is None or review.author_association.upper() in ASKED_ASSOCIATIONS
        if review.state != "APPROVED" or not uncertain or login == GHOST_LOGIN or login.endswith("[bot]") \
                or review.reviewer_type.lower() == "bot":
            completed.append(review)
            continue
        if login.lower() not in asked:
            asked[login.lower()] = _permission(client, repository, login)
        completed.append(dataclasses.replace(review, permission=asked[login.lower()]))
    return tuple(completed)


def _permission(client: GitHubClient, repository: str, login: str) -> str:
    path = f"{repo_path(repository)}/collaborators/{urllib.parse.quote(login, safe='')}/permission"
    try:
        data = client.get_json(path)
    except GitHubApiError as exc:
        if exc.status == 404:
            return "none"  # not a collaborator at all
        raise
    return str((data or {}).get("permission") or "none").lower() if isinstance(data, dict) else "none"
