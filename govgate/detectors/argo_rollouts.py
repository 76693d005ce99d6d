"""Argo Rollouts: canary steps and blue/green promotion gates.

Canary ``steps`` (``setWeight``, ``pause``, ``analysis``) shift traffic in stages. A failed
analysis "will cause the rollout's update to abort, and set the canary weight to zero": that
is the rollback path. Blue/green with ``autoPromotionEnabled: false`` waits for a human before
the active service switches; with it missing or true, it promotes as soon as the new
ReplicaSet is ready. On first creation a Rollout scales straight to 100%, so a newly added
Rollout is reported with that caveat.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.yaml_docs import TEMPLATED, YamlDoc, YamlResourceDetector
from govgate.model import Confidence, Evidence, FileChange, Question, Severity

SOURCE = "argo_rollouts"


class ArgoRolloutsDetector(YamlResourceDetector):
    name = SOURCE
    needles = ("Rollout", "argoproj.io")

    def is_resource(self, doc: YamlDoc) -> bool:
        return _is_rollout(doc)

    def judge(self, file: FileChange, doc: YamlDoc) -> Iterable[Evidence]:
        return _judge(file, doc)


def _is_rollout(doc: YamlDoc) -> bool:
    api = doc.get("apiVersion")
    return doc.get("kind") == "Rollout" and isinstance(api, str) and (api.startswith("argoproj.io/") or TEMPLATED in api)


def _judge(file: FileChange, doc: YamlDoc) -> Iterable[Evidence]:
    name = doc.get("metadata", "name")
    label = f"Rollout {name}" if isinstance(name, str) and name != TEMPLATED else "Rollout"
    shared: dict[str, Any] = {"resource": label}
    if ev.is_added(file):
        shared["first_creation_note"] = "a newly created Rollout scales straight to 100%; the strategy applies to later updates"
    canary = doc.get("spec", "strategy", "canary")
    blue_green = doc.get("spec", "strategy", "blueGreen")
    if isinstance(canary, dict) or ("canary" in doc.mapping("spec", "strategy") and canary is None):
        yield from _canary(file, doc, label, canary or {}, shared)
    if isinstance(blue_green, dict):
        yield from _blue_green(file, doc, label, blue_green, shared)


def _canary(file: FileChange, doc: YamlDoc, label: str, canary: dict[str, Any], shared: dict[str, Any]) -> Iterable[Evidence]:
    raw_steps = canary.get("steps")
    steps = [s for s in raw_steps if isinstance(s, dict)] if isinstance(raw_steps, list) else []
    weights = [s["setWeight"] for s in steps if "setWeight" in s]
    pauses = [s["pause"] for s in steps if "pause" in s]
    manual_pauses = sum(1 for p in pauses if not (isinstance(p, dict) and p.get("duration") is not None))
    step_analyses = [i for i, s in enumerate(steps) if isinstance(s.get("analysis"), dict)]
    background = canary.get("analysis") if isinstance(canary.get("analysis"), dict) else None
    templates = _template_names([steps[i]["analysis"] for i in step_analyses] + ([background] if background else []))
    attrs = {
        **shared, "strategy": "canary", "steps": len(steps), "weights": weights, "pauses": len(pauses),
        "manual_pauses": manual_pauses, "analysis_templates": templates,
        "traffic_routing": sorted(canary["trafficRouting"]) if isinstance(canary.get("trafficRouting"), dict) else [],
    }
    if not steps and background is None:
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "canary-without-steps",
            f"{label} is a canary with no steps and no analysis: the update proceeds like a plain rolling update",
            file.path, doc.line("spec", "strategy", "canary"), severity=Severity.WARNING, attrs=attrs,
        )
        return
    if steps:
        gated = bool(pauses or step_analyses or background)
        parts = [f"weights {', '.join(str(w) for w in weights)}%" if weights else "no setWeight steps"]
        if pauses:
            parts.append(f"{len(pauses)} pause{'s' if len(pauses) != 1 else ''} ({manual_pauses} waiting for a human)")
        if step_analyses:
            parts.append(f"{len(step_analyses)} analysis step{'s' if len(step_analyses) != 1 else ''}")
        yield ev.rollout(
            SOURCE, "argo-canary", f"{label} shifts traffic in {len(steps)} canary steps: " + ", ".join(parts),
            file.path, doc.line("spec", "strategy", "canary", "steps"), attrs=attrs,
            confidence=Confidence.HIGH if gated else Confidence.MEDIUM,
        )
    analysis_line = (
        doc.line("spec", "strategy", "canary", "steps", step_analyses[0], "analysis") if step_analyses
        else doc.line("spec", "strategy", "canary", "analysis")
    )
    if step_analyses or background is not None:
        yield ev.rollback(
            SOURCE, "argo-analysis-abort",
            f"{label}: a failed analysis ({', '.join(templates) or 'template'}) aborts the update and sets the canary weight to zero",
            file.path, analysis_line, path_kind=ev.ANALYSIS_ABORT, attrs=attrs,
        )


def _blue_green(file: FileChange, doc: YamlDoc, label: str, bg: dict[str, Any], shared: dict[str, Any]) -> Iterable[Evidence]:
    auto = bg.get("autoPromotionEnabled", True)
    pre = bg.get("prePromotionAnalysis") if isinstance(bg.get("prePromotionAnalysis"), dict) else None
    post = bg.get("postPromotionAnalysis") if isinstance(bg.get("postPromotionAnalysis"), dict) else None
    attrs = {
        **shared, "strategy": "blueGreen", "activeService": bg.get("activeService"),
        "previewService": bg.get("previewService"), "autoPromotionEnabled": auto,
        "analysis_templates": _template_names([a for a in (pre, post) if a]),
    }
    base = ("spec", "strategy", "blueGreen")
    if auto is False:
        yield ev.rollout(
            SOURCE, "argo-bluegreen-manual",
            f"{label} is blue/green with autoPromotionEnabled: false: the new stack waits for a manual promotion",
            file.path, doc.line(*base, "autoPromotionEnabled"), attrs=attrs,
        )
        yield ev.rollback(
            SOURCE, "argo-bluegreen-abort",
            f"{label}: until promotion the active service still points at the old stack; aborting keeps it there",
            file.path, doc.line(*base, "activeService"), path_kind=ev.TRAFFIC_REROUTE, attrs=attrs,
        )
    elif pre is not None:
        yield ev.rollout(
            SOURCE, "argo-bluegreen-analysis",
            f"{label} is blue/green and promotes only after pre-promotion analysis passes",
            file.path, doc.line(*base, "prePromotionAnalysis"), attrs=attrs,
        )
    else:
        how = "autoPromotionEnabled: true" if "autoPromotionEnabled" in bg else "no autoPromotionEnabled"
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "argo-bluegreen-auto-promotion",
            f"{label} is blue/green with {how}: it promotes as soon as the new ReplicaSet is ready, with no gate",
            file.path, doc.line(*base, "autoPromotionEnabled") if "autoPromotionEnabled" in bg else doc.line(*base),
            severity=Severity.WARNING, attrs=attrs,
        )
    for key, analysis in (("prePromotionAnalysis", pre), ("postPromotionAnalysis", post)):
        if analysis is not None:
            yield ev.rollback(
                SOURCE, "argo-analysis-abort", f"{label}: a failed {key} aborts the rollout and keeps traffic on the old stack",
                file.path, doc.line(*base, key), path_kind=ev.ANALYSIS_ABORT, attrs=attrs,
            )


def _template_names(analyses: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for analysis in analyses:
        for template in analysis.get("templates") or []:
            if isinstance(template, dict) and isinstance(template.get("templateName"), str):
                names.append(template["templateName"])
    return names


DETECTOR = ArgoRolloutsDetector()
