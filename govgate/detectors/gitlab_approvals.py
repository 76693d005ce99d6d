"""Verified review evidence from a GitLab merge request: its approvals, CODEOWNERS sections and rules.

An approval counts only from a person who may approve (the facts come from
``govgate.sources.gitlab_approvers``): an active human account (not blocked, banned, deactivated or
deleted), not a bot (GitLab bot users, project and group access-token bots, service accounts,
GitLab's internal bots) or an AI agent, not the merge request's author, not anyone who authored,
committed or pushed its commits, and holding the Developer role or above in the project. The
others are shown with the reason they do not count, whatever GitLab's own settings allow.

``approval_on_head`` is given to approvals that stand for the head commit. ``codeowner_approval``
follows GitLab's CODEOWNERS sections: every required section that owns a touched path needs its
number of approvals (``[Section][2]``) from the owners of its matching entry; optional sections
(``^[Section]``) need none. Until every required section is covered, no approval is a code owner's.
GitLab's own approval rules are shown, never counted: GitLab may count approvals govgate does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from govgate.detectors.ai import is_ai_login
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import AccountState, Approval, ApprovalRule, Change, Evidence, Location, OwnerRule, PullRequest, Question, Trust

_NOTES_SHOWN = 10



def cannot_approve(approval: Approval, pr: PullRequest, is_ai_login: Callable[[str], bool]) -> str | None:
    """Why this approval does not count, or None when it does."""
    login = approval.login
    if approval.state is AccountState.DELETED:
        return "the approver's account was deleted (GitLab shows it as the ghost user): nobody stands behind it"
    if approval.state is AccountState.BLOCKED:
        return f"@{login}'s account is {approval.state_detail}: it cannot stand behind an approval"
    if login.lower() == (pr.author_login or "").lower():
        return "the merge request's author cannot approve it"
    if is_ai_login(login):
        return "an AI agent's approval is not a human review"
    if approval.bot:
        return "a bot's approval is not a human review (a GitLab bot user or an access-token bot)"
    if approval.contributed:
        return f"@{login} {approval.contributed}: whoever wrote or pushed the commits cannot approve them"
    if approval.may_approve is None:
        return f"@{login}'s role in the project could not be read ({approval.role or 'unknown'})"
    if not approval.may_approve:
        return f"@{login} has {approval.role}: approving takes the Developer role or above"
    return None


class GitLabApprovalDetector:
    name = "gitlab_approvals"
    speaks_to = EVERY_CHANGE  # merge-request data, not files
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = None

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        pr = change.pull_request
        if pr is None:
            return []
        evidence: list[Evidence] = []
        if pr.approvals is not None:
            why_not = {a.login: cannot_approve(a, pr, is_ai_login) for a in pr.approvals}
            counted = [a for a in pr.approvals if why_not[a.login] is None]
            owners, notes = _owner_coverage(pr.owner_rules, counted)
            evidence.extend(self._judge(a, pr, why_not[a.login], a.login in owners) for a in pr.approvals)
            evidence.extend(notes)
        evidence.extend(_rule_note(rule) for rule in pr.approval_rules or ())
        return evidence

    def _judge(self, approval: Approval, pr: PullRequest, discounted: str | None, owner: bool) -> Evidence:
        facets = {"approval"}
        if approval.on_head:
            facets.add("approval_on_head")
        if owner:
            facets.add("codeowner_approval")
        state = "on the head commit" if approval.on_head else f"not known to stand for the head commit ({approval.on_head_reason})"
        return Evidence(
            question=Question.REVIEWED, kind="gitlab-approval", supports=True, trust=Trust.VERIFIED, source=self.name,
            detail=f"approved by @{approval.login} {state}", subject=approval.login.lower(),
            location=Location(where=f"GitLab approval by @{approval.login}" + (f" ({pr.url})" if pr.url else "")),
            facets=frozenset(facets) if discounted is None else frozenset(), discounted=discounted,
            attrs={"on_head": approval.on_head, "on_head_reason": approval.on_head_reason, "role": approval.role,
                   "approved_at": approval.approved_at, "account_state": approval.state_detail},
        )


def _owner_coverage(rules: Sequence[OwnerRule] | None, counted: Sequence[Approval]) -> tuple[set[str], list[Evidence]]:
    """The approvers whose approvals are code owners' (only once every required section is covered), and notes."""
    if rules is None:
        return set(), []
    if not rules:
        return set(), [_note("codeowners-none", "no CODEOWNERS section owns the touched paths",
                             "no CODEOWNERS file at the trust root, or no entry matches the touched paths")]
    notes: list[Evidence] = []
    required = [rule for rule in rules if not rule.optional and rule.owners]
    for rule in rules:
        if rule.optional:
            notes.append(_note("codeowners-optional", f"{_where(rule)}: optional section, approval not required",
                               "an optional CODEOWNERS section (^[Section]) requires no approval"))
        elif not rule.owners:
            notes.append(_note("codeowners-unowned", f"{_where(rule)}: the entry names no owner",
                               "an entry without owners requires no approval"))
    unmet: list[Evidence] = []
    owners: set[str] = set()
    for rule in required:
        approving = sorted(a.login for a in counted if a.owner_references & set(rule.owners))
        owners.update(approving)
        if len(approving) < rule.approvals:
            have = f"{len(approving)} of {rule.approvals} approval{'s' if rule.approvals != 1 else ''}"
            unmet.append(_note("codeowner-missing", f"{_where(rule)}: {have} by {' or '.join(rule.owners)}",
                               "a code owner's approval is still missing"))
    notes.extend(unmet[:_NOTES_SHOWN])
    return (set() if unmet else owners), notes


def _where(rule: OwnerRule) -> str:
    paths = ", ".join(rule.paths[:3]) + (f" and {len(rule.paths) - 3} more" if len(rule.paths) > 3 else "")
    return f"[{rule.section}] {rule.pattern} ({paths})"


def _note(kind: str, detail: str, reason: str) -> Evidence:
    return Evidence(question=Question.REVIEWED, kind=kind, supports=True, trust=Trust.VERIFIED, source="gitlab_approvals",
                    detail=detail, location=Location(where="CODEOWNERS at the trust root"), discounted=reason)


def _rule_note(rule: ApprovalRule) -> Evidence:
    state = "met" if rule.approved else "not met"
    by = f" (by {', '.join('@' + login for login in rule.approved_by)})" if rule.approved_by else ""
    return Evidence(
        question=Question.REVIEWED, kind="gitlab-approval-rule", supports=True, trust=Trust.VERIFIED, source="gitlab_approvals",
        detail=f"GitLab's {rule.kind} rule {rule.name!r}: {len(rule.approved_by)} of {rule.required} approvals, {state}{by}",
        location=Location(where="GitLab approval rules"), subject=rule.name,
        discounted="GitLab's own rule is shown, not counted: GitLab may count approvals govgate does not",
        attrs={"approved": rule.approved, "required": rule.required, "section": rule.section},
    )


DETECTOR = GitLabApprovalDetector()
