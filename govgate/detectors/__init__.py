"""Evidence detectors: one module each, listed in DETECTORS.

A detector reads a Change and returns Evidence. It never reads YAML: the policy's
``settings.<detector name>`` block (validated against the detector's ``config_schema``)
reaches it as a plain dict. Adding a detector is one module, one line below, and its tests.

Each detector declares what it can speak to (``speaks_to``, ``reads``: see ``scope``). A
file-scoped detector is only called for a change holding one of its files, and then sees only
those files; only the contents some detector reads are fetched.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import Any, Protocol

from govgate.detectors.scope import FileScope, ScopeMatcher
from govgate.model import Change, Evidence, FileChange


class Detector(Protocol):
    name: str
    # JSON Schema of the detector's settings block (an object schema), or None.
    config_schema: Mapping[str, Any] | None
    # The files it judges (EVERY_CHANGE: it looks at every change), and those whose new contents it reads.
    speaks_to: Sequence[FileScope] | None
    reads: Sequence[FileScope]

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]: ...


# The settings block of a detector the policy does not configure: one object, so detectors that
# compile their settings once (keyed by the block's identity) do it once per run, not per change.
NO_SETTINGS: Mapping[str, Any] = MappingProxyType({})

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


@cache
def scope_matcher() -> ScopeMatcher:
    detectors = all_detectors()
    return ScopeMatcher([d.speaks_to for d in detectors], [d.reads for d in detectors])


def reads_content(file: FileChange) -> bool:
    """Whether some detector may read this file's new contents (what a source may fetch ahead)."""
    return scope_matcher().is_read(file)


def run_detectors(change: Change, settings: Mapping[str, Mapping[str, Any]]) -> list[Evidence]:
    matcher = scope_matcher()
    masks, present = _masks(matcher, change)
    evidence: list[Evidence] = []
    for detector, bit in zip(all_detectors(), matcher.bits, strict=True):
        evidence.extend(_in_scope(detector, bit, change, masks, present, settings.get(detector.name, NO_SETTINGS)))
    return evidence


def detect_in_scope(detector: Detector, change: Change, settings: Mapping[str, Any]) -> list[Evidence]:
    """One detector, called the way ``run_detectors`` calls it (not at all, or with its own files only)."""
    matcher = scope_matcher()
    masks, present = _masks(matcher, change)
    return list(_in_scope(detector, matcher.bits[all_detectors().index(detector)], change, masks, present, settings))


def _masks(matcher: ScopeMatcher, change: Change) -> tuple[list[int], int]:
    """Each file's detector bits, and every bit some file of the change has."""
    masks = [matcher.file_mask(f) for f in change.files]
    present = 0
    for mask in masks:
        present |= mask
    return masks, present


def _in_scope(detector: Detector, bit: int | None, change: Change, masks: list[int], present: int,
              settings: Mapping[str, Any]) -> Iterable[Evidence]:
    """A detector's evidence: none when no file of the change is one it can speak to (``bit`` absent
    from ``present``), else from the change narrowed to those files (all of it when unscoped)."""
    if bit is None:
        return detector.detect(change, settings)
    if not present & bit:
        return ()
    return detector.detect(_only(change, masks, bit), settings)


def _only(change: Change, masks: list[int], bit: int) -> Change:
    """The change as a file-scoped detector sees it: only the files it speaks to."""
    own = [f for f, mask in zip(change.files, masks, strict=True) if mask & bit]
    if len(own) == len(change.files):
        return change
    view = copy.copy(change)
    view.files = own
    return view
