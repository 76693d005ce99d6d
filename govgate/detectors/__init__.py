"""Evidence detectors: one module each, listed in DETECTORS.

A detector reads a Change and returns Evidence. It never reads YAML: the policy's
``settings.<detector name>`` block (validated against the detector's ``config_schema``)
reaches it as a plain dict. Adding a detector is one module, one line below, and its tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Protocol

from govgate.model import Change, Evidence


class Detector(Protocol):
    name: str
    # JSON Schema of the detector's settings block (an object schema), or None.
    config_schema: Mapping[str, Any] | None

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]: ...


# "module:attribute" of every detector; imported lazily so the CLI starts fast.
DETECTORS: tuple[str, ...] = (
    "govgate.detectors.ai:DETECTOR",
    "govgate.detectors.review_trailers:DETECTOR",
    "govgate.detectors.tests_changed:DETECTOR",
    "govgate.detectors.pr_sections:DETECTOR",
    "govgate.detectors.k8s_deployment:DETECTOR",
    "govgate.detectors.argo_rollouts:DETECTOR",
    "govgate.detectors.flagger:DETECTOR",
    "govgate.detectors.aws_deploy:DETECTOR",
    "govgate.detectors.feature_flags:DETECTOR",
    "govgate.detectors.migrations_python:DETECTOR",
    "govgate.detectors.migrations_sql:DETECTOR",
    "govgate.detectors.migrations_rails_knex:DETECTOR",
    "govgate.detectors.terraform:DETECTOR",
    "govgate.detectors.helm:DETECTOR",
    "govgate.detectors.github_reviews:DETECTOR",
    "govgate.detectors.github_checks:DETECTOR",
    "govgate.detectors.gitlab_approvals:DETECTOR",
    "govgate.detectors.gitlab_pipeline:DETECTOR",
    "govgate.detectors.risk:DETECTOR",
)


@cache
def all_detectors() -> tuple[Detector, ...]:
    found: list[Detector] = []
    for ref in DETECTORS:
        module_name, _, attr = ref.partition(":")
        found.append(getattr(importlib.import_module(module_name), attr))
    return tuple(found)


def run_detectors(change: Change, settings: Mapping[str, Mapping[str, Any]]) -> list[Evidence]:
    evidence: list[Evidence] = []
    for detector in all_detectors():
        evidence.extend(detector.detect(change, settings.get(detector.name, {})))
    return evidence
