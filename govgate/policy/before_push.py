"""A policy as it can be judged before a push.

Before the push there is no pull request yet: no review, no CI run, no description. Requiring
them would block every push of a change that the pull request's gate will judge anyway, so each
requirement keeps what the commits themselves can settle (tests changed, rollout and rollback
evidence in the files, trailers) and its red flags, and leaves the rest to the pull request: a
requirement that only the forge or the description could meet becomes "no red flags" on its
question. The engine then judges the reduced policy as it judges any other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from govgate.model import Trust
from govgate.policy.model import Policy, Requirement, Rule
from govgate.policy.schema import AFTER_PUSH_FACETS


@dataclass(frozen=True)
class Deferred:
    """A requirement, or part of one, left for the pull request's gate."""

    rule: str
    question: str
    what: str  # the original requirement in words

    def render(self) -> str:
        return f"{self.rule}: {self.question} ({self.what})"


def before_push(policy: Policy) -> tuple[Policy, list[Deferred]]:
    rules: list[Rule] = []
    deferred: list[Deferred] = []
    for rule in policy.rules:
        kept: list[Requirement] = []
        for requirement in rule.require:
            reduced = settle_now(requirement)
            if reduced != requirement:
                deferred.append(Deferred(rule.id, requirement.question, requirement.describe()))
            kept.append(reduced)
        rules.append(replace(rule, require=tuple(kept)))
    return replace(policy, rules=tuple(rules), source=f"{policy.source} (before the push)"), deferred


def settle_now(requirement: Requirement) -> Requirement:
    """The part of ``requirement`` that the pushed commits alone can meet or fail."""
    if not requirement.demands_evidence:
        return requirement
    forbid_red_flags = Requirement(requirement.question, trust=requirement.trust,
                                   allow_warnings=requirement.allow_warnings, no_red_flags=True)
    if Trust(requirement.trust) is Trust.VERIFIED:
        return forbid_red_flags  # only the forge gives verified evidence
    facets = tuple(f for f in requirement.facets if f not in AFTER_PUSH_FACETS)
    # One alternative may still arrive with the pull request (a review, a check, a plan, or a companion
    # requirement of those kinds): then nothing can be demanded of the commits alone.
    later = any(a.facet in AFTER_PUSH_FACETS or a.together_with for a in requirement.any_of)
    any_of = () if later else requirement.any_of
    if not (facets or any_of):
        return forbid_red_flags  # reviews, checks, a plan in the description, or any evidence at all
    return replace(requirement, facets=facets, any_of=any_of, approvals=None, on_head=False, codeowners=False, checks=())
