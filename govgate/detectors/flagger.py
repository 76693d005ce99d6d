"""Flagger Canary resources, both ``v1beta1`` (``analysis``) and ``v1alpha3`` (``canaryAnalysis``).

``stepWeight``/``maxWeight`` (or ``iterations`` for A/B and blue/green) shift traffic in stages
while ``metrics`` are checked every ``interval``; after ``threshold`` failed checks Flagger
rolls back, which (maintainers, fluxcd/flagger#1186) "route[s] all traffic to the previous
version". A Canary without an analysis, or without metrics, only waits for pods to be ready.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.yaml_docs import TEMPLATED, YamlDoc, YamlResourceDetector
from govgate.model import Confidence, Evidence, FileChange, Question, Severity

SOURCE = "flagger"


class FlaggerDetector(YamlResourceDetector):
    name = SOURCE
    needles = ("flagger.app",)

    def is_resource(self, doc: YamlDoc) -> bool:
        return _is_canary(doc)

    def judge(self, file: FileChange, doc: YamlDoc) -> Iterable[Evidence]:
        return _judge(file, doc)


def _is_canary(doc: YamlDoc) -> bool:
    api = doc.get("apiVersion")
    return doc.get("kind") == "Canary" and isinstance(api, str) and api.startswith("flagger.app/")


def _judge(file: FileChange, doc: YamlDoc) -> Iterable[Evidence]:
    name = doc.get("metadata", "name")
    label = f"Canary {name}" if isinstance(name, str) and TEMPLATED not in name else "Canary"
    key = "analysis" if isinstance(doc.get("spec", "analysis"), dict) else "canaryAnalysis"
    analysis = doc.mapping("spec", key)
    shared: dict[str, Any] = {"resource": label, "apiVersion": doc.get("apiVersion")}
    if doc.templated:
        shared["templated"] = True
    if doc.get("spec", "skipAnalysis") is True:
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "flagger-skip-analysis",
            f"{label} sets skipAnalysis: true: Flagger promotes the new version without running the analysis",
            file.path, doc.line("spec", "skipAnalysis"), severity=Severity.WARNING, attrs=shared,
        )
    if not analysis:
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "flagger-no-analysis",
            f"{label} has no analysis (analysis/canaryAnalysis) block: nothing gates or measures the rollout",
            file.path, doc.line("spec"), severity=Severity.WARNING, attrs=shared,
        )
        return

    metrics = _dicts(analysis.get("metrics"))
    webhooks = _dicts(analysis.get("webhooks"))
    attrs: dict[str, Any] = {
        **shared, "schema": key,
        **{k: analysis[k] for k in ("interval", "threshold", "stepWeight", "stepWeights", "maxWeight", "iterations") if k in analysis},
        "metrics": [m.get("name") for m in metrics],
        "webhooks": sorted({str(w.get("type", "rollout")) for w in webhooks}),
    }
    if "progressDeadlineSeconds" in doc.mapping("spec"):
        attrs["progressDeadlineSeconds"] = doc.get("spec", "progressDeadlineSeconds")
    mode = _mode(analysis)
    attrs["mode"] = mode
    line = doc.line("spec", key)
    confidence = Confidence.HIGH if metrics else Confidence.MEDIUM
    if mode == "canary":
        step, top = analysis.get("stepWeights") or analysis.get("stepWeight", "?"), analysis.get("maxWeight", "?")
        if TEMPLATED in f"{step}{top}":
            detail = f"{label} shifts traffic to the canary in steps (stepWeight and maxWeight come from chart values)"
        else:
            steps = f"steps of {step}%" if not isinstance(step, list) else f"steps {step}"
            detail = f"{label} shifts traffic to the canary in {steps} up to {top}%"
    elif mode == "ab-testing":
        detail = f"{label} runs an A/B test for {analysis.get('iterations')} iterations on matching requests before promotion"
    else:
        detail = f"{label} runs {analysis.get('iterations', '?')} blue/green analysis iterations before switching traffic"
    if metrics:
        detail += f", checking {', '.join(str(m.get('name')) for m in metrics)}"
    yield ev.rollout(SOURCE, f"flagger-{mode}", detail, file.path, line, attrs=attrs, confidence=confidence)

    if not metrics:
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "flagger-no-metrics",
            f"{label} analysis has no metrics: only pod readiness is checked before traffic shifts",
            file.path, line, severity=Severity.WARNING, attrs=attrs,
        )
    threshold = analysis.get("threshold", "?")
    yield ev.rollback(
        SOURCE, "flagger-rollback",
        f"{label}: after {threshold} failed checks Flagger routes all traffic back to the primary (previous) version",
        file.path, doc.line("spec", key, "threshold") if "threshold" in analysis else line,
        path_kind=ev.TRAFFIC_REROUTE, attrs=attrs, confidence=confidence,
    )


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _mode(analysis: dict[str, Any]) -> str:
    if any(k in analysis for k in ("stepWeight", "stepWeights", "maxWeight")):
        return "canary"
    if "iterations" in analysis and "match" in analysis:
        return "ab-testing"
    return "blue-green"


DETECTOR = FlaggerDetector()
