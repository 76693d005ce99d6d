"""Kubernetes Deployment update strategy.

RollingUpdate, which is also what a Deployment without ``strategy`` gets, replaces pods a few
at a time: gradual. ``revisionHistoryLimit`` keeps old ReplicaSets so ``kubectl rollout undo``
has something to go back to (default 10). ``Recreate`` kills every pod before starting new
ones; it is a warning, not an error, because single-writer stateful apps use it on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.yaml_docs import TEMPLATED, YamlDoc, YamlResourceDetector
from govgate.model import Confidence, Evidence, FileChange, Question, Severity

SOURCE = "k8s_deployment"
_DEFAULT_SURGE = "25%"  # both maxSurge and maxUnavailable default to 25%
_DEFAULT_HISTORY = 10


class K8sDeploymentDetector(YamlResourceDetector):
    name = SOURCE
    needles = ("Deployment",)

    def is_resource(self, doc: YamlDoc) -> bool:
        return _is_deployment(doc)

    def judge(self, file: FileChange, doc: YamlDoc) -> Iterable[Evidence]:
        return _judge(file, doc)


def _is_deployment(doc: YamlDoc) -> bool:
    if doc.get("kind") != "Deployment":
        return False
    api = doc.get("apiVersion")
    # Helm charts often template apiVersion; any apps group counts, other groups' "Deployment" kinds don't.
    return api is None or not isinstance(api, str) or api.startswith(("apps/", "extensions/")) or TEMPLATED in api


def _judge(file: FileChange, doc: YamlDoc) -> Iterable[Evidence]:
    name = doc.get("metadata", "name")
    label = f"Deployment {name}" if isinstance(name, str) and name != TEMPLATED else "Deployment"
    spec = doc.mapping("spec")
    strategy = doc.mapping("spec", "strategy")
    strategy_type = strategy.get("type", "RollingUpdate")
    shared = {"resource": label, **({"templated": True} if doc.templated else {})}

    if strategy_type == "Recreate":
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "recreate-strategy",
            f"{label} uses strategy Recreate: all existing pods are killed before new ones are created",
            file.path, doc.line("spec", "strategy", "type"), severity=Severity.WARNING, attrs={**shared, "strategy": "Recreate"},
        )
    elif strategy_type == "RollingUpdate" or strategy_type == TEMPLATED:
        yield from _rolling_update(file, doc, label, spec, strategy, shared)

    yield from _history(file, doc, label, spec, shared)


def _rolling_update(
    file: FileChange, doc: YamlDoc, label: str, spec: dict[str, Any], strategy: dict[str, Any], shared: dict[str, Any],
) -> Iterable[Evidence]:
    rolling = strategy.get("rollingUpdate") if isinstance(strategy.get("rollingUpdate"), dict) else {}
    explicit = "type" in strategy
    max_surge = rolling.get("maxSurge", _DEFAULT_SURGE)
    max_unavailable = rolling.get("maxUnavailable", _DEFAULT_SURGE)
    containers = [c for c in doc.sequence("spec", "template", "spec", "containers") if isinstance(c, dict)]
    probed = sum(1 for c in containers if isinstance(c.get("readinessProbe"), dict))
    attrs: dict[str, Any] = {
        **shared, "strategy": "RollingUpdate", "explicit": explicit,
        "maxSurge": max_surge, "maxUnavailable": max_unavailable,
        "readiness_probes": probed, "containers": len(containers),
    }
    for key in ("minReadySeconds", "progressDeadlineSeconds", "replicas"):
        if key in spec:
            attrs[key] = spec[key]
    line = doc.line("spec", "strategy", "type") if explicit else doc.line("spec", "strategy") if strategy else doc.line("kind")

    if _is_everything(max_unavailable):
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "rolling-update-all-unavailable",
            f"{label} allows maxUnavailable {max_unavailable}: every pod may go down at once, like Recreate",
            file.path, doc.line("spec", "strategy", "rollingUpdate", "maxUnavailable"), severity=Severity.WARNING, attrs=attrs,
        )
        return
    how = "rolling update" if explicit else "rolling update (the default strategy)"
    detail = f"{label} deploys by {how}, maxSurge {max_surge}, maxUnavailable {max_unavailable}"
    if probed:
        detail += f"; {probed} of {len(containers)} containers have a readiness probe"
    else:
        detail += "; no readiness probe, so new pods count as ready as soon as they start"
    yield ev.rollout(SOURCE, "rolling-update", detail, file.path, line, attrs=attrs,
                     confidence=Confidence.HIGH if probed else Confidence.MEDIUM)


def _history(file: FileChange, doc: YamlDoc, label: str, spec: dict[str, Any], shared: dict[str, Any]) -> Iterable[Evidence]:
    limit = spec.get("revisionHistoryLimit", _DEFAULT_HISTORY)
    explicit = "revisionHistoryLimit" in spec
    if not isinstance(limit, int) or isinstance(limit, bool):
        return  # templated or malformed: unknown
    line = doc.line("spec", "revisionHistoryLimit") if explicit else doc.line("kind")
    attrs = {**shared, "revisionHistoryLimit": limit, "explicit": explicit}
    if limit <= 0:
        yield ev.red_flag(
            SOURCE, Question.ROLLBACK, "no-revision-history",
            f"{label} keeps no old ReplicaSets (revisionHistoryLimit {limit}): kubectl rollout undo has nothing to return to",
            file.path, line, severity=Severity.WARNING, attrs=attrs,
        )
        return
    source = f"revisionHistoryLimit {limit}" if explicit else f"the default revisionHistoryLimit ({limit})"
    yield ev.rollback(
        SOURCE, "rollout-undo", f"{label} keeps old ReplicaSets ({source}): kubectl rollout undo can restore the previous one",
        file.path, line, path_kind=ev.ROLLOUT_UNDO, attrs=attrs,
        confidence=Confidence.HIGH if explicit else Confidence.MEDIUM,
    )


def _is_everything(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == "100%"


DETECTOR = K8sDeploymentDetector()
