"""Source -> detectors -> engine: the one path every command takes to a Verdict."""

from __future__ import annotations

import datetime as dt

from govgate.detectors import run_detectors
from govgate.model import Change, Severity
from govgate.policy.engine import judge
from govgate.policy.model import Policy
from govgate.verdict import Verdict


def evaluate(change: Change, policy: Policy, *, fail_on: Severity = Severity.ERROR, today: dt.date | None = None,
             now: dt.datetime | None = None) -> Verdict:
    evidence = run_detectors(change, policy.settings)
    return judge(change, evidence, policy, fail_on=fail_on, today=today, now=now)
