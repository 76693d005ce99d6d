"""Evidence builders shared by the rollout/rollback detectors (deploy config, flags, Terraform).

All of their findings come from reading files, so all are ``inferred``. A rollback finding
names the kind of way back in ``attrs["path_kind"]`` because "rollback" means different
things per tool: Argo aborts to weight 0, Flagger reroutes traffic, a flag is turned off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from govgate.model import Confidence, Evidence, FileChange, FileStatus, Location, Question, Severity, Trust

# Kinds of rollback path reported in attrs["path_kind"].
ROLLOUT_UNDO = "rollout-undo"  # kubectl rollout undo to a kept ReplicaSet
TRAFFIC_REROUTE = "traffic-reroute"  # traffic goes back to the still-running old version
ANALYSIS_ABORT = "analysis-abort"  # failed analysis aborts the rollout (Argo: canary weight to 0)
FLAG_OFF = "flag-off"  # turning the feature flag off disables the new path
ATOMIC_RELEASE = "atomic-release"  # helm --atomic / --rollback-on-failure
HELM_ROLLBACK = "helm-rollback"  # an explicit `helm rollback` in the deploy script
CREATE_BEFORE_DESTROY = "create-before-destroy"
PREVENT_DESTROY = "prevent-destroy"  # not a way back, a guard against the step with no way back
ALARM_ROLLBACK = "alarm-rollback"  # CodeDeploy / ASG instance refresh roll back on an alarm
FAILURE_ROLLBACK = "failure-rollback"  # rolled back when the deployment itself fails (signals, health)


def rollout(
    source: str, kind: str, detail: str, path: str, line: int | None, *, facets: Iterable[str] = ("gradual",),
    attrs: Mapping[str, Any] | None = None, confidence: Confidence = Confidence.HIGH,
) -> Evidence:
    return Evidence(
        question=Question.ROLLOUT, kind=kind, supports=True, trust=Trust.INFERRED, source=source, detail=detail,
        location=Location(path=path, line=line), facets=frozenset(facets), confidence=confidence,
        attrs=dict(attrs or {}),
    )


def rollback(
    source: str, kind: str, detail: str, path: str, line: int | None, *, path_kind: str,
    facets: Iterable[str] = ("revert_path",), attrs: Mapping[str, Any] | None = None,
    confidence: Confidence = Confidence.HIGH,
) -> Evidence:
    return Evidence(
        question=Question.ROLLBACK, kind=kind, supports=True, trust=Trust.INFERRED, source=source, detail=detail,
        location=Location(path=path, line=line), facets=frozenset(facets), confidence=confidence,
        attrs={"path_kind": path_kind, **(attrs or {})},
    )


def red_flag(
    source: str, question: Question, kind: str, detail: str, path: str, line: int | None, *, severity: Severity,
    attrs: Mapping[str, Any] | None = None, confidence: Confidence = Confidence.HIGH,
) -> Evidence:
    return Evidence(
        question=question, kind=kind, supports=False, trust=Trust.INFERRED, source=source, detail=detail,
        location=Location(path=path, line=line), severity=severity, confidence=confidence, attrs=dict(attrs or {}),
    )


def unavailable(source: str, question: Question, file: FileChange) -> Evidence:
    """The file's contents could not be read, so its rollout/rollback settings are unknown."""
    return Evidence(
        question=question, kind="content-unavailable", supports=True, trust=Trust.INFERRED, source=source,
        detail=f"could not read {file.path}; its deploy settings were not checked",
        location=Location(path=file.path), unavailable=True, confidence=Confidence.LOW,
    )


def is_added(file: FileChange) -> bool:
    return file.status in (FileStatus.ADDED, FileStatus.COPIED)


def is_deleted(file: FileChange) -> bool:
    return file.status is FileStatus.DELETED
