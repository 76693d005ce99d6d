"""Verified review evidence: each reviewer's standing opinion on the pull request, from GitHub.

A reviewer's latest APPROVED, CHANGES_REQUESTED or DISMISSED review is their standing
opinion; a later COMMENTED review does not replace it. Approvals by the PR's author, by bots
and by AI agents are shown but never count. CODEOWNERS owners are resolved only when they
are users (``@login``): team owners (``@org/team``) would need an organisation-scoped token
to expand, and email owners cannot be mapped to logins, so neither can prove an approval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import Change, Evidence, Location, PullRequest, Question, Review, Trust
from govgate.sources.codeowners import is_user_owner, owned_by, owners_of

_STANDING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


def _ai_login_test() -> Callable[[str], bool]:
    # The AI detector owns the list of agent identities; imported late so both modules load alone.
    try:
        from govgate.detectors.ai import is_ai_login
    except ImportError:
        return lambda login: False
    return is_ai_login  # type: ignore[no-any-return]


def standing_reviews(reviews: Sequence[Review]) -> dict[str, Review]:
    """Each reviewer's (lower-case login) latest standing review, in chronological input order."""
    standing: dict[str, Review] = {}
    for review in reviews:
        if review.state in _STANDING:
            standing[review.reviewer.lower()] = review
    return standing


def is_bot(login: str, account_type: str | None) -> bool:
    return (account_type or "").lower() == "bot" or login.lower().endswith("[bot]")


class GitHubReviewDetector:
    name = "github_reviews"
    speaks_to = EVERY_CHANGE
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = None

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        pr = change.pull_request
        if pr is None or pr.reviews is None:
            return []
        is_ai_login = _ai_login_test()
        author = (pr.author_login or "").lower()
        standing = standing_reviews(pr.reviews)
        approvers = {
            login for login, review in standing.items()
            if review.state == "APPROVED" and login != author and not is_bot(login, review.reviewer_type)
            and not is_ai_login(login)
        }
        owner_approvers, owner_notes = _codeowner_coverage(change, pr, approvers)
        evidence: list[Evidence] = []
        for login, review in standing.items():
            evidence.append(self._judge(login, review, pr, author, is_ai_login, login in owner_approvers))
        evidence.extend(owner_notes)
        return evidence

    def _judge(
        self, login: str, review: Review, pr: PullRequest, author: str, is_ai_login: Callable[[str], bool],
        owns_touched_path: bool,
    ) -> Evidence:
        on_head = bool(review.commit_id and pr.head_sha and review.commit_id == pr.head_sha)
        commit = (review.commit_id or "unknown commit")[:12]
        where = Location(where=f"GitHub review by @{review.reviewer}" + (f" ({pr.url})" if pr.url else ""))
        attrs = {"state": review.state, "commit_id": review.commit_id, "submitted_at": review.submitted_at,
                 "on_head": on_head}
        bot = is_bot(login, review.reviewer_type)
        ai = is_ai_login(login)
        if review.state == "CHANGES_REQUESTED":
            severity = "warning" if bot or ai else "error"
            return Evidence(
                question=Question.REVIEWED, kind="changes-requested", supports=False, trust=Trust.VERIFIED,
                source=self.name, detail=f"@{review.reviewer} requested changes (on {commit}) and has not approved since",
                location=where, subject=login, severity=severity, attrs=attrs,
            )
        if review.state == "DISMISSED":
            return Evidence(
                question=Question.REVIEWED, kind="dismissed-review", supports=True, trust=Trust.VERIFIED,
                source=self.name, detail=f"@{review.reviewer}'s review was dismissed", location=where, subject=login,
                discounted="a dismissed review is no longer an opinion", attrs=attrs,
            )
        discounted = None
        if login == author:
            discounted = "the pull request's author cannot approve it"
        elif ai:
            discounted = "an AI agent's approval is not a human review"
        elif bot:
            discounted = "a bot's approval is not a human review"
        facets = {"approval"}
        if on_head:
            facets.add("approval_on_head")
        if owns_touched_path and discounted is None:
            facets.add("codeowner_approval")
        state = "on the head commit" if on_head else f"on {commit}, an older commit than the head"
        return Evidence(
            question=Question.REVIEWED, kind="github-approval", supports=True, trust=Trust.VERIFIED, source=self.name,
            detail=f"approved by @{review.reviewer} {state}", location=where, subject=login,
            facets=frozenset(facets) if discounted is None else frozenset(), discounted=discounted, attrs=attrs,
        )


def _codeowner_coverage(change: Change, pr: PullRequest, approvers: set[str]) -> tuple[set[str], list[Evidence]]:
    """The approvers whose approvals make every owned touched path approved by an owner, and notes on gaps.

    Like GitHub's "require review from Code Owners", each touched path that has owners needs
    one of them to approve: until every such path is covered, no approval is a code owner's.
    """
    if pr.codeowners is None:
        return set(), []
    owned: dict[str, tuple[str, ...]] = {}
    for path in dict.fromkeys(change.paths()):
        owners = owners_of(path, pr.codeowners)
        if owners:
            owned[path] = owners
    notes: list[Evidence] = []

    def note(kind: str, detail: str, reason: str) -> Evidence:
        return Evidence(
            question=Question.REVIEWED, kind=kind, supports=True, trust=Trust.VERIFIED, source="github_reviews",
            detail=detail, location=Location(where="CODEOWNERS at the base commit"), discounted=reason,
        )

    if not owned:
        reason = "no CODEOWNERS file at the base commit" if not pr.codeowners else "CODEOWNERS assigns no owner to them"
        notes.append(note("codeowners-none", "no code owners for the touched paths", reason))
        return set(), notes
    uncovered = {path: owners for path, owners in owned.items() if not any(owned_by(a, owners) for a in approvers)}
    for path, owners in list(uncovered.items())[:10]:
        users = [o for o in owners if is_user_owner(o)]
        unresolved = [o for o in owners if not is_user_owner(o)]
        why = "no approval by " + " or ".join(owners)
        if unresolved and not users:
            why += " (team and email owners cannot be resolved to reviewers with the workflow token)"
        notes.append(note("codeowner-missing", f"{path}: {why}", "a code owner's approval is still missing"))
    if uncovered:
        return set(), notes
    return {a for a in approvers if any(owned_by(a, owners) for owners in owned.values())}, notes


DETECTOR = GitHubReviewDetector()
