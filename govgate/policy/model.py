"""A validated policy, as plain typed objects the engine reads."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from govgate.memory.model import DEFAULT_MEMORY_FILE
from govgate.model import Severity

if TYPE_CHECKING:
    from govgate.policy.freeze import Freezes


@dataclass(frozen=True)
class Alternative:
    """One way to meet an ``any_of``: a facet, counted only if its companion requirements are met too.

    ``{facet: plan, together_with: {reviewed: {approvals: 1, trust: verified, on_head: true}}}``
    lets a written plan (the author's word) count only once a verified human approved the head.
    """

    facet: str
    together_with: tuple[Requirement, ...] = ()

    @classmethod
    def from_value(cls, value: str | dict[str, Any]) -> Alternative:
        if isinstance(value, str):
            return cls(value)
        companions = tuple(Requirement.from_dict(q, spec) for q, spec in value["together_with"].items())
        return cls(value["facet"], companions)

    def describe(self) -> str:
        words = FACET_WORDS.get(self.facet, self.facet)
        if not self.together_with:
            return words
        return f"{words}, counted only together with " + " and ".join(
            f"{req.question}: {req.describe()}" for req in self.together_with)


@dataclass(frozen=True)
class Requirement:
    question: str
    trust: str = "inferred"
    facets: tuple[str, ...] = ()  # every one must be met
    any_of: tuple[Alternative, ...] = ()  # at least one must be met
    approvals: int | None = None
    on_head: bool = False
    codeowners: bool = False
    checks: tuple[str, ...] = ()
    allow_warnings: bool = True
    no_red_flags: bool = False
    by_knowers: int | None = None  # approvals by people the memory names for the touched paths

    @classmethod
    def from_dict(cls, question: str, data: dict[str, Any]) -> Requirement:
        facets = tuple(k for k, v in data.items() if v is True and k not in _FLAGS)
        return cls(
            question=question,
            trust=data.get("trust", "inferred"),
            facets=facets,
            any_of=tuple(Alternative.from_value(item) for item in data.get("any_of", ())),
            approvals=data.get("approvals"),
            on_head=bool(data.get("on_head", False)),
            codeowners=bool(data.get("codeowners", False)),
            checks=tuple(data.get("checks", ())),
            allow_warnings=bool(data.get("allow_warnings", True)),
            no_red_flags=bool(data.get("no_red_flags", False)),
            by_knowers=data.get("by_knowers"),
        )

    @cached_property  # asked for every requirement of every judged change
    def demands_evidence(self) -> bool:
        """False for a requirement that only forbids red flags."""
        return bool(self.facets or self.any_of or self.approvals or self.on_head or self.codeowners
                    or self.checks or self.by_knowers or not self.no_red_flags)

    def describe(self) -> str:
        """What would satisfy this requirement, in words."""
        return _remembered(self, self._describe)

    def _describe(self) -> str:
        parts: list[str] = []
        if self.approvals:
            who = ("humans with write access who neither wrote nor pushed the commits" if self.trust == "verified"
                   else "humans other than the author")
            parts.append(f"{self.approvals} approval{'s' if self.approvals != 1 else ''} by {who}")
        if self.on_head:
            parts.append("approved on the current head commit")
        if self.codeowners:
            parts.append("approved by a code owner of the touched paths")
        if self.by_knowers:
            parts.append(f"{self.by_knowers} approval{'s' if self.by_knowers != 1 else ''} by people the organisational "
                         "memory names for the touched paths (verified with a forge, declared offline)")
        parts.extend(FACET_WORDS.get(f, f) for f in self.facets if f not in ("approval",))
        if self.checks:
            parts.append("successful checks " + ", ".join(self.checks) + " on the head commit")
        if self.any_of:
            parts.append("one of: " + " / ".join(alternative.describe() for alternative in self.any_of))
        if self.no_red_flags and not parts:
            parts.append("no red flags" + ("" if self.allow_warnings else " (warnings included)"))
        elif not parts:
            parts.append(f"any {self.question} evidence")
        text = "; ".join(parts)
        if self.trust != "inferred":
            text += f" (trust {self.trust} or stronger)"
        return text


_FLAGS = {"on_head", "codeowners", "allow_warnings", "no_red_flags", "by_knowers"}

FACET_WORDS = {
    "approval": "a human approval",
    "approval_on_head": "an approval on the head commit",
    "codeowner_approval": "a code owner's approval",
    "tests_changed": "tests changed with the code",
    "ci_passed": "CI passed on the head commit",
    "test_plan": "a test plan in the PR body",
    "tested_by": "a Tested-by trailer",
    "gradual": "a gradual rollout (canary, rolling, linear)",
    "flagged": "new code behind a feature flag that defaults off",
    "plan": "a written plan in the PR body",
    "reversible_migrations": "reversible migrations",
    "revert_path": "an automatic revert path (atomic deploy, analysis abort, create-before-destroy)",
    "emergency": "the freeze's emergency path: its label and verified approvals by the people it names",
}


@dataclass(frozen=True)
class Condition:
    ai_assisted: bool | None = None
    paths: tuple[str, ...] = ()
    paths_ignore: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    branch: tuple[str, ...] = ()
    risk: tuple[str, ...] = ()
    policy_changed: bool | None = None
    forge: bool | None = None  # True: verified forge data was read; False: judged offline
    fragile: bool | str | None = None  # true/false, or the lowest fragility level that counts
    frozen: bool | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Condition:
        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key, ())
            return (value,) if isinstance(value, str) else tuple(value)

        return cls(
            ai_assisted=data.get("ai_assisted"),
            paths=strings("paths"),
            paths_ignore=strings("paths_ignore"),
            labels=strings("labels"),
            authors=strings("authors"),
            branch=strings("branch"),
            risk=strings("risk"),
            policy_changed=data.get("policy_changed"),
            forge=data.get("forge"),
            fragile=data.get("fragile"),
            frozen=data.get("frozen"),
        )

    def describe(self) -> str:
        return _remembered(self, self._describe)

    def _describe(self) -> str:
        parts: list[str] = []
        if self.ai_assisted is not None:
            parts.append("AI-assisted" if self.ai_assisted else "not AI-assisted")
        if self.paths:
            parts.append("touches " + ", ".join(self.paths))
        if self.paths_ignore:
            parts.append("ignoring " + ", ".join(self.paths_ignore))
        if self.labels:
            parts.append("labelled " + " or ".join(self.labels))
        if self.authors:
            parts.append("authored by " + " or ".join(self.authors))
        if self.branch:
            parts.append("on branch " + " or ".join(self.branch))
        if self.risk:
            parts.append("risk " + " or ".join(self.risk))
        if self.policy_changed is not None:
            parts.append("edits the policy" if self.policy_changed else "leaves the policy alone")
        if self.forge is not None:
            parts.append("read from a forge that verifies reviews and checks (GitHub)" if self.forge
                         else "judged offline, without a forge to verify anything (a local range, an audit without --github)")
        if self.fragile is True:
            parts.append("touches a path the memory marks fragile")
        elif self.fragile is False:
            parts.append("touches no fragile path")
        elif self.fragile is not None:
            parts.append(f"touches a path the memory marks at least {self.fragile} fragile")
        if self.frozen is not None:
            parts.append("inside a freeze window" if self.frozen else "outside every freeze window")
        return " and ".join(parts) if parts else "every change"


@dataclass(frozen=True)
class Rule:
    id: str
    when: Condition
    require: tuple[Requirement, ...]
    severity: Severity = Severity.ERROR
    description: str = ""
    message: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Waiver:
    rule: str
    change: str
    reason: str
    approved_by: str
    expires: str  # YYYY-MM-DD
    line: int | None = None


class OriginKind(enum.StrEnum):
    """Where the policy in force was read from."""

    REVISION = "revision"  # a file in a commit's git objects (the base of the change, or the audited revision)
    WORKTREE = "worktree"  # a file in the working tree (--policy-from-worktree)
    FILE = "file"  # a file outside the repository, named with --policy
    PRESET = "preset"  # a preset shipped with govgate (named, or the embedded default)


@dataclass(frozen=True)
class PolicyOrigin:
    """Where a policy came from and why that place, shown in every output."""

    kind: OriginKind
    path: str | None = None  # repository-relative for REVISION/WORKTREE, as given for FILE
    revision: str | None = None  # full commit id, for REVISION
    role: str | None = None  # what that revision is: "the pull request's base commit", "the audited revision"
    preset: str | None = None
    embedded_default: bool = False  # the preset judged because no policy file was found
    reason: str | None = None  # why the embedded default judged: "no .govgate.yml at 1a2b3c4d5e6f (...)"

    def describe(self) -> str:
        """One line: where the policy was read, e.g. `.govgate.yml at 1a2b3c4d5e6f (the pull request's base commit)`."""
        if self.kind is OriginKind.REVISION:
            return f"{self.path} at {(self.revision or '')[:12]}" + (f" ({self.role})" if self.role else "")
        if self.kind is OriginKind.WORKTREE:
            return f"{self.path} in the working tree (--policy-from-worktree)"
        if self.kind is OriginKind.FILE:
            return f"file {self.path}"
        if self.embedded_default:
            return f"embedded default policy (preset {self.preset}): {self.reason}"
        return f"preset {self.preset}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        for key in ("path", "revision", "role", "preset", "reason"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.kind is OriginKind.PRESET:
            data["embedded_default"] = self.embedded_default
        data["description"] = self.describe()
        return data


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    waivers: tuple[Waiver, ...] = ()
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    risk_thresholds: tuple[float, float] = (3.0, 6.0)  # medium, high
    ai_min_confidence: str = "medium"
    github: dict[str, Any] = field(default_factory=dict)
    gitlab: dict[str, Any] = field(default_factory=dict)
    source: str = "<embedded default>"  # where it was read from, for messages
    policy_paths: tuple[str, ...] = (".govgate.yml", ".govgate.yaml")
    description: str = ""
    memory_file: str = DEFAULT_MEMORY_FILE  # read from the base revision; editing it counts as editing the policy
    freezes: Freezes | None = None
    # Paths whose contents may go uninspected past the inspection limits (generated bundles the
    # policy's authors vouch for): a note instead of an incomplete verdict.
    accept_too_large: tuple[str, ...] = ()
    origin: PolicyOrigin | None = None  # set by the lookup (govgate.sources.trusted); None when parsed directly
    warnings: tuple[str, ...] = ()  # "file:line: key: ..." that do not stop the policy (an expired waiver)


def _remembered(owner: object, describe: Callable[[], str]) -> str:
    """A frozen rule part's description, worded once (every judged change's JSON repeats it)."""
    text = owner.__dict__.get("_description")
    if text is None:
        text = owner.__dict__["_description"] = describe()
    return text  # type: ignore[no-any-return]
