"""The verified evidence of a pull request or pushed commit: reviews and who may give them, checks and who ran them.

Each read goes through ``call(what, read)``, which fails closed or, when the policy allows, records
what could not be verified; the trust rules themselves live in ``github_reviewers`` and
``github_check_origins``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from govgate.model import PullRequest
from govgate.sources.base_files import BaseFileError, BaseFiles
from govgate.sources.github_api import GitHubClient
from govgate.sources.github_check_origins import RunnerIdentity, bind_checks, own_check_run_id
from govgate.sources.github_pr import fetch_checks, fetch_reviews
from govgate.sources.github_reviewers import read_contributors, with_permissions

T = TypeVar("T")
ApiCall = Callable[[str, Callable[[GitHubClient, str], T]], "T | None"]


def add_verified_evidence(
    pull: PullRequest, head: str, base: BaseFiles | None, call: ApiCall[Any], problems: list[str],
    event: Mapping[str, Any], runner: RunnerIdentity,
) -> None:
    """``base``: the files of the trust root (the base commit), where a check's workflow must exist."""
    if pull.number is not None and pull.reviews is None:
        pull.reviews = call("reviews", lambda c, r: fetch_reviews(c, r, pull.number or 0))
    if pull.reviews and any(review.state == "APPROVED" for review in pull.reviews):
        reviews = pull.reviews
        pull.reviews = call("the approvers' write access", lambda c, r: with_permissions(c, r, reviews)) or reviews
        pull.contributors = call("who wrote and pushed the commits",
                                 lambda c, r: read_contributors(c, r, pull, event, problems))
    pull.head_sha = pull.head_sha or head
    checked_sha = pull.head_sha
    checks = call("check runs and statuses", lambda c, r: fetch_checks(c, r, checked_sha))
    if checks:
        def on_base(path: str) -> bool:
            try:
                found = base.entry(path) if base is not None else None
            except BaseFileError:
                return False  # reached through a symbolic link: not a workflow file of the base branch
            return found is not None and found.regular

        checks = call("who ran the checks", lambda c, r: bind_checks(
            c, r, checks, own_check_run_id(c, r, runner, problems), on_base, problems)) or checks
    pull.checks = checks
