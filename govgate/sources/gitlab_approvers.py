"""Who approved a merge request, and the facts that decide whether each approval counts.

GitLab approves a merge request as a whole, not a commit. For each approver the source reads:

- the account: GitLab's ``bot`` flag (``GET /users/:id``), the names of access-token bots
  (``project_<id>_bot_<hex>``, ``group_<id>_bot_<hex>``), service accounts and GitLab's own internal
  bots; its ``state`` (blocked, banned, deactivated... cannot stand behind an approval) and the ghost
  user that stands in for deleted accounts;
- the role in the project, inherited ones included (``GET /projects/:id/members/all/:user_id``):
  Developer or above may approve, as write access on GitHub;
- whether the person wrote or pushed the commits: commit authors and committers (by email, by name,
  and the user of a ``<id>-<username>@users.noreply.<host>`` address) and the pushes to the source
  branch that left one of the merge request's commits at its tip (``GET /projects/:id/events``). Anyone
  can write any name into a commit, so this can only take approvals away, never grant one;
- whether the approval stands for the head commit: given after GitLab recorded that head (the
  approval's ``approved_at`` against the diff version of the head), or the project removes approvals
  when commits are added (``reset_approvals_on_push``);
- which CODEOWNERS references name the person: ``@username``, a ``@group`` they belong to, the
  ``@@role`` they hold (roles do not include higher ones) or their public email.

The detector (``govgate.detectors.gitlab_approvals``) decides from these facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from govgate.model import AccountState, Approval, Commit, OwnerRule
from govgate.sources.gitlab_api import GitLabApiError, GitLabClient
from govgate.sources.gitlab_mr_api import (
    MergeRequest,
    fetch_access_level,
    fetch_push_events,
    fetch_resets_approvals_on_push,
    fetch_user,
    fetch_versions,
    in_group,
)
from govgate.sources.json_shapes import integer, obj, text

APPROVER_LEVEL = 30  # Developer
ROLE_NAMES = {0: "No access", 5: "Minimal Access", 10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer",
              40: "Maintainer", 50: "Owner"}
_ROLE_REFERENCES = {"@@developer": 30, "@@developers": 30, "@@maintainer": 40, "@@maintainers": 40, "@@owner": 50,
                    "@@owners": 50}
_ACTIVE_STATES = frozenset({"active"})
_GHOST = re.compile(r"^ghost\d*$", re.IGNORECASE)  # GitLab's ghost user stands in for deleted accounts
_TOKEN_BOT = re.compile(r"^(?:project|group)_\d+_bot(?:_[0-9a-f]+|\d*)$", re.IGNORECASE)
_SERVICE_ACCOUNT = re.compile(r"^service_account_", re.IGNORECASE)
# GitLab's internal users (alerts, support desk, security policies, Duo and the importer's placeholders).
INTERNAL_BOTS = frozenset({
    "alert-bot", "support-bot", "visual-review-bot", "automation-bot", "security-bot", "gitlab-security-bot",
    "security-policy-bot", "admin-bot", "suggested-reviewers-bot", "gitlab-llm-bot", "duo-code-review-bot",
    "gitlabduo", "gitlab-duo", "llm-bot", "import-user", "placeholder-user",
})
_NOREPLY = re.compile(r"^(?:\d+-)?(?P<username>[^@]+)@users\.noreply\.", re.IGNORECASE)
PUSH_EVENT_PAGES = 10  # 1,000 push events: far more than one merge request's lifetime needs
_MAX_GROUP_LOOKUPS = 100


def is_gitlab_bot(username: str) -> bool:
    name = username.lower()
    return name in INTERNAL_BOTS or bool(_TOKEN_BOT.match(name) or _SERVICE_ACCOUNT.match(name))


@dataclass
class Contributors:
    """Lower-case identities (usernames, emails, names) of whoever wrote or pushed the commits -> how."""

    found: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, identity: str, how: str) -> None:
        if identity.strip():
            self.found.setdefault(identity.strip().lower(), how)

    def how(self, identities: Iterable[str]) -> str | None:
        for identity in identities:
            how = self.found.get(identity.strip().lower())
            if identity.strip() and how:
                return how
        return None


def contributors_of(commits: Sequence[Commit]) -> Contributors:
    people = Contributors()
    for commit in commits:
        for person, verb in ((commit.author, "authored"), (commit.committer, "committed")):
            how = f"{verb} commit {commit.sha[:12]}"
            people.add(person.email, how)
            people.add(person.name, how)
            noreply = _NOREPLY.match(person.email)
            if noreply:
                people.add(noreply["username"], how)
    return people


def add_pushers(client: GitLabClient, mr: MergeRequest, commits: Sequence[Commit], head: str, people: Contributors) -> None:
    """Add who pushed the source branch to one of the merge request's commits (GitLab's push events).

    Events are read back to the day before the earliest of the merge request's creation and its
    commits' dates (a branch is often pushed before its merge request is opened).
    """
    shas = {c.sha for c in commits} | {head}
    holder = mr.source_project_id or mr.project_id
    branch = mr.pull.head_ref
    if holder is None or not branch:
        people.notes.append("who pushed the merge request's commits is unknown (no source project or branch); "
                            "only their authors and committers were excluded from approving")
        return
    try:
        since = _day_before([mr.created_at, *(c.committed_at for c in commits), *(c.authored_at for c in commits)])
        events, complete = fetch_push_events(client, holder, since, PUSH_EVENT_PAGES)
    except GitLabApiError as exc:
        people.notes.append(f"who pushed the merge request's commits could not be read from project {holder}'s events "
                            f"({exc.message}); only their authors and committers were excluded from approving")
        return
    if not complete:
        people.notes.append(f"only the latest {len(events)} push events of project {holder} were read: earlier pushers "
                            "of the merge request's commits may be missed")
    for event in events:
        push = obj(event.get("push_data"))
        user = text(obj(event.get("author")).get("username")) or text(event.get("author_username"))
        if not user or push.get("ref_type") not in (None, "branch") or push.get("ref") != branch:
            continue
        if str(push.get("commit_to") or "") in shas:
            people.add(str(user), f"pushed {str(push['commit_to'])[:12]} to {branch}")


@dataclass
class ApproverReader:
    """Reads the facts behind each approval; one instance per merge request (it caches per user)."""

    client: GitLabClient
    project: str | int
    mr: MergeRequest
    head: str
    current_head: str | None  # the merge request's head as GitLab says it is now
    people: Contributors
    owner_rules: tuple[OwnerRule, ...] | None
    problems: list[str]
    _versions: list[tuple[str, str]] | None = None
    _resets: bool | None = None
    _resets_read: bool = False
    _group_lookups: int = 0

    def read(self, approvals: Sequence[tuple[dict[str, Any], str | None]]) -> tuple[Approval, ...]:
        return tuple(self._approval(user, approved_at) for user, approved_at in approvals)

    def _approval(self, user: dict[str, Any], approved_at: str | None) -> Approval:
        login = str(user.get("username") or "ghost")
        user_id = integer(user.get("id"))
        detail = fetch_user(self.client, user_id) if user_id is not None else {}
        state_word = str(detail.get("state") or user.get("state") or "active").lower()
        state = AccountState.DELETED if _GHOST.match(login) else \
            AccountState.ACTIVE if state_word in _ACTIVE_STATES else AccountState.BLOCKED
        bot = bool(detail.get("bot")) or is_gitlab_bot(login)
        level = fetch_access_level(self.client, self.project, user_id) if user_id is not None and not bot else None
        role = _role(level) if user_id is not None else "an unknown role (GitLab gave no user id)"
        identities = [login, str(user.get("name") or ""), *(str(detail.get(k) or "") for k in ("public_email", "email",
                                                                                                "commit_email"))]
        on_head, why = self._on_head(approved_at)
        return Approval(
            login=login, name=str(user.get("name") or ""), state=state, state_detail=state_word, bot=bot,
            may_approve=None if user_id is None or bot else (level or 0) >= APPROVER_LEVEL, role=role,
            on_head=on_head, on_head_reason=why, approved_at=approved_at, contributed=self.people.how(identities),
            owner_references=self._references(login, user_id, level, identities),
        )

    def _on_head(self, approved_at: str | None) -> tuple[bool, str]:
        if self.current_head and self.current_head != self.head:
            return False, f"the merge request's head moved on to {self.current_head[:12]} since this pipeline started"
        pushed_at = self._pushed_at()
        given = _time(approved_at)
        if given is not None and pushed_at is not None:
            if given >= pushed_at:
                return True, "approved after the head commit was pushed"
            return False, "approved before the head commit was pushed"
        if self._resets_on_push():
            return True, "the project removes every approval when commits are added"
        if given is None:
            return False, ("GitLab does not say when this approval was given and the project keeps approvals when "
                           "commits are added: it may predate the head commit")
        return False, "GitLab has no record of when the head commit was pushed"

    def _pushed_at(self) -> datetime | None:
        if self._versions is None:
            iid = self.mr.pull.number or 0
            try:
                self._versions = fetch_versions(self.client, self.project, iid)
            except GitLabApiError as exc:
                self.problems.append(f"when the head commit was pushed could not be read ({exc.message})")
                self._versions = []
        times = [_time(at) for sha, at in self._versions if sha == self.head]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    def _resets_on_push(self) -> bool:
        if not self._resets_read:
            self._resets_read = True
            self._resets = fetch_resets_approvals_on_push(self.client, self.project)
        return bool(self._resets)

    def _references(self, login: str, user_id: int | None, level: int | None, identities: list[str]) -> frozenset[str]:
        """The CODEOWNERS owners of the touched paths that name this approver."""
        if not self.owner_rules:
            return frozenset()
        named: set[str] = set()
        emails = {i.lower() for i in identities if "@" in i}
        for owner in {o for rule in self.owner_rules for o in rule.owners}:
            lowered = owner.lower()
            if lowered == "@" + login.lower() or lowered in emails:
                named.add(owner)
            elif lowered in _ROLE_REFERENCES:
                if level is not None and _ROLE_REFERENCES[lowered] == level:
                    named.add(owner)
            elif owner.startswith("@") and user_id is not None and self._member(owner[1:], user_id):
                named.add(owner)
        return frozenset(named)

    def _member(self, group: str, user_id: int) -> bool:
        if self._group_lookups >= _MAX_GROUP_LOOKUPS:
            return False
        self._group_lookups += 1
        return in_group(self.client, group, user_id)


def _role(level: int | None) -> str:
    if level is None:
        return "no role (not a member of the project)"
    return f"the {ROLE_NAMES[level]} role" if level in ROLE_NAMES else f"access level {level}"


def _day_before(times: Iterable[str | None]) -> str | None:
    """The day before the earliest of ``times`` (YYYY-MM-DD, what the events API's ``after`` takes)."""
    known = [moment for moment in map(_time, times) if moment is not None]
    if not known:
        return None
    return (min(known).date() - timedelta(days=1)).isoformat()


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

