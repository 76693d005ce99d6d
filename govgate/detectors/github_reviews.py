"""Verified review evidence: each reviewer's standing opinion on the pull request, from GitHub.

A reviewer's latest APPROVED, CHANGES_REQUESTED or DISMISSED review is their standing
opinion; a later COMMENTED review does not replace it. An approval counts only from a person
who may approve: a human with write access to the repository (review ``author_association``
OWNER, or a permission of write or admin read from the API for MEMBER and COLLABORATOR; an
audit, which asks no permission, takes MEMBER and COLLABORATOR as GitHub recorded them), who is
neither the PR's author nor anyone who authored, committed or pushed its commits (GitHub's
"approval of the most recent push"), nor a bot, an AI agent or a deleted account (``ghost``).
The others are shown with the reason they do not count. CODEOWNERS owners are resolved only when they
are users (``@login``): team owners (``@org/team``) would need an organisation-scoped token
to expand, and email owners cannot be mapped to logins, so neither can prove an approval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from govgate.detectors.ai import is_ai_login
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import GHOST_LOGIN, Change, Evidence, Location, PullRequest, Question, Review, Severity, Trust
from govgate.sources.codeowners import is_user_owner, owned_by, owners_of

_STANDING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
_WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
_MAYBE_WRITERS = frozenset({"MEMBER", "COLLABORATOR"})  # write access possible; the API is asked when it matters



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
        standing = standing_reviews(pr.reviews)
        why_not = {login: cannot_approve(login, review, pr, is_ai_login) for login, review in standing.items()}
        approvers = {login for login, review in standing.items() if review.state == "APPROVED" and why_not[login] is None}
        owner_approvers, owner_notes = _codeowner_coverage(change, pr, approvers)
        evidence: list[Evidence] = []
        for login, review in standing.items():
            evidence.append(self._judge(login, review, pr, is_ai_login, why_not[login], login in owner_approvers))
        evidence.extend(owner_notes)
        return evidence

    def _judge(
        self, login: str, review: Review, pr: PullRequest, is_ai_login: Callable[[str], bool], discounted: str | None,
        owns_touched_path: bool,
    ) -> Evidence:
        on_head = bool(review.commit_id and pr.head_sha and review.commit_id == pr.head_sha)
        commit = (review.commit_id or "unknown commit")[:12]
        where = Location(where=f"GitHub review by @{review.reviewer}" + (f" ({pr.url})" if pr.url else ""))
        attrs = {"state": review.state, "commit_id": review.commit_id, "submitted_at": review.submitted_at,
                 "on_head": on_head, "author_association": review.author_association, "permission": review.permission}
        bot = is_bot(login, review.reviewer_type)
        ai = is_ai_login(login)
        if review.state == "CHANGES_REQUESTED":
            # Like GitHub: only someone who could approve blocks; anyone else's request is shown.
            could_approve = not (bot or ai or login == GHOST_LOGIN or _no_write_access(review))
            severity = Severity.ERROR if could_approve else Severity.WARNING
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


def cannot_approve(login: str, review: Review, pr: PullRequest, is_ai_login: Callable[[str], bool]) -> str | None:
    """Why this reviewer's approval does not count, or None when it does."""
    if login == GHOST_LOGIN:
        return "the reviewer's account was deleted (GitHub shows it as ghost): nobody stands behind it"
    if login == (pr.author_login or "").lower():
        return "the pull request's author cannot approve it"
    if is_ai_login(login):
        return "an AI agent's approval is not a human review"
    if is_bot(login, review.reviewer_type):
        return "a bot's approval is not a human review"
    if pr.contributors and login in pr.contributors:
        return (f"@{review.reviewer} {pr.contributors[login]}: whoever wrote or pushed the commits cannot approve them "
                "(GitHub's approval of the most recent push)")
    return _no_write_access(review)


def _no_write_access(review: Review) -> str | None:
    association = (review.author_association or "").upper()
    if association == "OWNER":
        return None
    if review.permission is not None:
        if review.permission.lower() in _WRITE_PERMISSIONS:
            return None
        return f"@{review.reviewer} has {review.permission} access to the repository, not write: they cannot approve"
    if association in _MAYBE_WRITERS:
        return None  # recorded by GitHub with the review; only an audit gets here (checks ask the API)
    if association:
        return f"@{review.reviewer} has no write access to the repository (author_association {association})"
    return f"@{review.reviewer}'s write access could not be established (GitHub gave no author_association)"


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
