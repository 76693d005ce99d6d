"""Argo Rollouts and Flagger detectors, on real manifests committed to real repos."""

from __future__ import annotations

from govgate.detectors.argo_rollouts import DETECTOR as ARGO
from govgate.detectors.flagger import DETECTOR as FLAGGER
from govgate.model import Confidence, Question
from tests.conftest import RepoBuilder
from tests.deploy_support import assert_common_shape, commit_change, fixture, kinds, only, run
from tests.deploy_support import line_of as _line

# argoproj/argo-rollouts examples/rollout-analysis-step.yaml, rollout-canary.yaml, rollout-bluegreen.yaml
ANALYSIS_STEP = fixture("argo/rollout-analysis-step.yaml")
CANARY = fixture("argo/rollout-canary.yaml")
BLUE_GREEN = fixture("argo/rollout-bluegreen.yaml")
# fluxcd/flagger artifacts/examples/istio-canary.yaml (v1beta1) and charts/podinfo/templates/canary.yaml
ISTIO_CANARY = fixture("flagger/istio-canary.yaml")
CHART_CANARY = fixture("flagger/podinfo-chart-canary.yaml")
CHART_CANARY_V1ALPHA3 = fixture("flagger/podinfo-chart-canary-v1alpha3.yaml")


# --- Argo Rollouts ---------------------------------------------------------------------------


def test_canary_with_analysis_step_is_gradual_and_aborts_on_failure(repo: RepoBuilder) -> None:
    evidence = run(ARGO, commit_change(repo, {"rollouts/analysis-step.yaml": ANALYSIS_STEP}))
    assert_common_shape(evidence)
    canary = only(evidence, "argo-canary")
    assert canary.facets == {"gradual"} and canary.confidence is Confidence.HIGH
    assert canary.attrs["weights"] == [25] and canary.attrs["steps"] == 2
    assert canary.location.line == _line(ANALYSIS_STEP, "steps:")
    abort = only(evidence, "argo-analysis-abort")
    assert abort.question is Question.ROLLBACK and abort.attrs["path_kind"] == "analysis-abort"
    assert "random-fail" in abort.attrs["analysis_templates"]
    assert abort.location.line == _line(ANALYSIS_STEP, "- analysis:")
    assert "first_creation_note" in canary.attrs  # a new Rollout starts at 100%


def test_canary_steps_with_pauses_and_no_analysis(repo: RepoBuilder) -> None:
    repo.commit("Add rollout", {"rollouts/canary.yaml": CANARY})
    bumped = CANARY.replace("rollouts-demo:blue", "rollouts-demo:yellow")
    evidence = run(ARGO, commit_change(repo, {"rollouts/canary.yaml": bumped}))
    assert kinds(evidence) == ["argo-canary"]  # no analysis: no automatic abort
    canary = evidence[0]
    assert canary.attrs["weights"] == [20, 40, 60, 80] and canary.attrs["manual_pauses"] == 1
    assert "first_creation_note" not in canary.attrs


def test_canary_without_steps_is_a_warning(repo: RepoBuilder) -> None:
    # Derived from rollout-analysis-step.yaml: the same Rollout with its steps removed.
    stepless = ANALYSIS_STEP.split("      steps:")[0]
    evidence = run(ARGO, commit_change(repo, {"rollout.yaml": stepless}))
    flag = only(evidence, "canary-without-steps")
    assert not flag.supports and flag.severity == "warning" and flag.location.line == _line(stepless, "canary:")


def test_blue_green_with_manual_promotion(repo: RepoBuilder) -> None:
    evidence = run(ARGO, commit_change(repo, {"rollouts/bluegreen.yaml": BLUE_GREEN}))
    assert_common_shape(evidence)
    manual = only(evidence, "argo-bluegreen-manual")
    assert manual.facets == {"gradual"} and manual.location.line == _line(BLUE_GREEN, "autoPromotionEnabled: false")
    reroute = only(evidence, "argo-bluegreen-abort")
    assert reroute.attrs["path_kind"] == "traffic-reroute" and reroute.attrs["activeService"] == "rollout-bluegreen-active"


def test_blue_green_with_automatic_promotion_is_a_warning(repo: RepoBuilder) -> None:
    # Derived from rollout-bluegreen.yaml: autoPromotionEnabled removed (it then defaults to true).
    auto = BLUE_GREEN.replace("      autoPromotionEnabled: false\n", "")
    flag = only(run(ARGO, commit_change(repo, {"bg.yaml": auto})), "argo-bluegreen-auto-promotion")
    assert not flag.supports and flag.severity == "warning" and "no autoPromotionEnabled" in flag.detail
    explicit = BLUE_GREEN.replace("autoPromotionEnabled: false", "autoPromotionEnabled: true")
    flag = only(run(ARGO, commit_change(repo, {"bg.yaml": explicit})), "argo-bluegreen-auto-promotion")
    assert flag.location.line == _line(explicit, "autoPromotionEnabled: true")


def test_blue_green_gated_by_pre_promotion_analysis_is_not_flagged(repo: RepoBuilder) -> None:
    gated = BLUE_GREEN.replace(
        "      autoPromotionEnabled: false\n",
        "      prePromotionAnalysis:\n        templates:\n        - templateName: smoke-tests\n",
    )
    evidence = run(ARGO, commit_change(repo, {"bg.yaml": gated}))
    assert sorted(kinds(evidence)) == ["argo-analysis-abort", "argo-bluegreen-analysis"]
    assert only(evidence, "argo-analysis-abort").attrs["analysis_templates"] == ["smoke-tests"]


def test_argo_ignores_other_kinds_and_deleted_files(repo: RepoBuilder) -> None:
    repo.commit("Add", {"rollouts/canary.yaml": CANARY})
    change = commit_change(repo, {"rollouts/canary.yaml": None, "k8s/deploy.yaml": fixture("k8s/podinfo-deployment.yaml")})
    assert run(ARGO, change) == []


# --- Flagger -----------------------------------------------------------------------------------


def test_flagger_v1beta1_canary(repo: RepoBuilder) -> None:
    evidence = run(FLAGGER, commit_change(repo, {"flagger/podinfo-canary.yaml": ISTIO_CANARY}))
    assert_common_shape(evidence)
    canary = only(evidence, "flagger-canary")
    assert canary.attrs["stepWeight"] == 5 and canary.attrs["maxWeight"] == 50 and canary.attrs["threshold"] == 10
    assert canary.attrs["metrics"] == ["request-success-rate", "request-duration"]
    assert canary.attrs["webhooks"] == ["pre-rollout", "rollout"] and canary.attrs["schema"] == "analysis"
    assert canary.location.line == _line(ISTIO_CANARY, "  analysis:")
    rollback = only(evidence, "flagger-rollback")
    assert rollback.attrs["path_kind"] == "traffic-reroute" and "after 10 failed checks" in rollback.detail
    assert rollback.location.line == _line(ISTIO_CANARY, "threshold: 10")


def test_flagger_helm_templated_v1alpha3_canary_analysis(repo: RepoBuilder) -> None:
    # The chart's first line is {{- if .Values.canary.enabled }}: not YAML until rendered.
    evidence = run(FLAGGER, commit_change(repo, {"charts/podinfo/templates/canary.yaml": CHART_CANARY_V1ALPHA3}))
    canary = only(evidence, "flagger-canary")
    assert canary.attrs["schema"] == "canaryAnalysis" and canary.attrs["templated"] is True
    assert canary.attrs["apiVersion"] == "flagger.app/v1alpha3"
    assert canary.location.line == _line(CHART_CANARY_V1ALPHA3, "canaryAnalysis:")
    assert "come from chart values" in canary.detail
    assert only(evidence, "flagger-rollback").attrs["path_kind"] == "traffic-reroute"


def test_flagger_helm_templated_v1beta1(repo: RepoBuilder) -> None:
    evidence = run(FLAGGER, commit_change(repo, {"charts/podinfo/templates/canary.yaml": CHART_CANARY}))
    assert sorted(kinds(evidence)) == ["flagger-canary", "flagger-rollback"]


def test_flagger_missing_metrics_or_analysis_are_red_flags(repo: RepoBuilder) -> None:
    # Derived from istio-canary.yaml: metrics removed, then the whole analysis.
    no_metrics = ISTIO_CANARY.split("    metrics:")[0]
    evidence = run(FLAGGER, commit_change(repo, {"canary.yaml": no_metrics}))
    assert only(evidence, "flagger-no-metrics").severity == "warning"
    assert only(evidence, "flagger-canary").confidence is Confidence.MEDIUM
    no_analysis = ISTIO_CANARY.split("  skipAnalysis: false")[0] + "  skipAnalysis: true\n"
    evidence = run(FLAGGER, commit_change(repo, {"canary.yaml": no_analysis}))
    assert sorted(kinds(evidence)) == ["flagger-no-analysis", "flagger-skip-analysis"]
    assert all(not e.supports for e in evidence)
    assert only(evidence, "flagger-skip-analysis").location.line == _line(no_analysis, "skipAnalysis: true")


def test_flagger_ab_testing_mode(repo: RepoBuilder) -> None:
    ab = ISTIO_CANARY.replace("    maxWeight: 50\n    stepWeight: 5\n", "    iterations: 10\n    match:\n    - headers:\n"
                              "        x-canary:\n          exact: insider\n")
    canary = only(run(FLAGGER, commit_change(repo, {"canary.yaml": ab})), "flagger-ab-testing")
    assert canary.attrs["iterations"] == 10 and canary.attrs["mode"] == "ab-testing"
