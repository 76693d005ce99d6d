"""Kubernetes Deployment strategy detector, on real manifests committed to real repos."""

from __future__ import annotations

import json
from pathlib import Path

from govgate.detectors.k8s_deployment import DETECTOR
from govgate.model import Confidence, Question
from tests.conftest import RepoBuilder, run_cli
from tests.deploy_support import assert_common_shape, commit_change, fixture, kinds, make_unreadable, only, run

# fluxcd/flagger kustomize/podinfo/deployment.yaml
PODINFO = fixture("k8s/podinfo-deployment.yaml")
# kubernetes/website content/en/examples/application/mysql/mysql-deployment.yaml (Service + Deployment)
MYSQL = fixture("k8s/mysql-deployment.yaml")
# fluxcd/flagger charts/podinfo/templates/deployment.yaml (Helm template: not YAML until rendered)
PODINFO_CHART = fixture("k8s/podinfo-chart-deployment.yaml")


def test_podinfo_rolling_update_and_revision_history(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"deploy/podinfo/deployment.yaml": PODINFO}))
    assert_common_shape(evidence)
    rolling = only(evidence, "rolling-update")
    assert rolling.question is Question.ROLLOUT and rolling.supports
    assert rolling.facets == {"gradual"}
    assert rolling.location.path == "deploy/podinfo/deployment.yaml"
    assert rolling.location.line == PODINFO.splitlines().index("    type: RollingUpdate") + 1
    assert rolling.attrs["maxUnavailable"] == 1 and rolling.attrs["maxSurge"] == "25%"
    assert rolling.attrs["minReadySeconds"] == 5 and rolling.attrs["progressDeadlineSeconds"] == 60
    assert rolling.attrs["readiness_probes"] == 1 and rolling.confidence is Confidence.HIGH

    undo = only(evidence, "rollout-undo")
    assert undo.question is Question.ROLLBACK and undo.facets == {"revert_path"}
    assert undo.attrs["path_kind"] == "rollout-undo" and undo.attrs["revisionHistoryLimit"] == 5
    assert undo.location.line == PODINFO.splitlines().index("  revisionHistoryLimit: 5") + 1


def test_mysql_recreate_is_a_warning_on_the_type_line(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"k8s/mysql.yaml": MYSQL}))
    assert_common_shape(evidence)
    recreate = only(evidence, "recreate-strategy")
    assert not recreate.supports and recreate.severity == "warning"
    assert recreate.location.line == MYSQL.splitlines().index("    type: Recreate") + 1 == 21
    assert "Deployment mysql" in recreate.detail
    # The Service in the first document of the stream is not a Deployment and adds nothing.
    assert kinds(evidence) == ["recreate-strategy", "rollout-undo"]
    assert only(evidence, "rollout-undo").confidence is Confidence.MEDIUM  # the default history limit


def test_only_documents_the_change_touches_count(repo: RepoBuilder) -> None:
    repo.commit("Add mysql", {"k8s/mysql.yaml": MYSQL})
    service_only = MYSQL.replace("  - port: 3306\n", "  - port: 3307\n", 1)
    assert run(DETECTOR, commit_change(repo, {"k8s/mysql.yaml": service_only})) == []
    image_bump = service_only.replace("image: mysql:5.6", "image: mysql:5.7")
    evidence = run(DETECTOR, commit_change(repo, {"k8s/mysql.yaml": image_bump}))
    assert "recreate-strategy" in kinds(evidence)


def test_helm_templated_deployment_is_read_with_line_numbers(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"charts/podinfo/templates/deployment.yaml": PODINFO_CHART}))
    rolling = only(evidence, "rolling-update")
    assert rolling.attrs["templated"] is True and rolling.attrs["maxUnavailable"] == 1
    assert rolling.location.line == PODINFO_CHART.splitlines().index("    type: RollingUpdate") + 1
    assert rolling.detail.startswith("Deployment deploys")  # the name is a template expression


def test_template_that_breaks_yaml_falls_back_to_the_line_scan(repo: RepoBuilder) -> None:
    # Derived from the podinfo chart: a conditional sidecar at a shallower indent leaves invalid YAML
    # even with the template lines blanked, so only the tolerant scan can read it.
    chart = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
spec:
  strategy:
    type: Recreate
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image }}"
{{- if .Values.sidecar.enabled }}
      - name: sidecar
        image: {{ .Values.sidecar.image }}
{{- end }}
"""
    evidence = run(DETECTOR, commit_change(repo, {"charts/app/templates/deployment.yaml": chart}))
    recreate = only(evidence, "recreate-strategy")
    assert recreate.location.line == 7 and recreate.attrs["templated"] is True


def test_default_strategy_without_probes_is_medium_confidence(repo: RepoBuilder) -> None:
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""
    rolling = only(run(DETECTOR, commit_change(repo, {"web.yml": manifest})), "rolling-update")
    assert rolling.attrs["explicit"] is False and rolling.attrs["maxUnavailable"] == "25%"
    assert rolling.confidence is Confidence.MEDIUM and "default strategy" in rolling.detail
    assert rolling.location.line == 2  # no strategy block: the kind line


def test_zero_history_and_all_unavailable_are_warnings(repo: RepoBuilder) -> None:
    manifest = PODINFO.replace("revisionHistoryLimit: 5", "revisionHistoryLimit: 0").replace(
        "maxUnavailable: 1", "maxUnavailable: 100%")
    evidence = run(DETECTOR, commit_change(repo, {"deployment.yaml": manifest}))
    assert_common_shape(evidence)
    assert sorted(kinds(evidence)) == ["no-revision-history", "rolling-update-all-unavailable"]
    assert all(not e.supports and e.severity == "warning" for e in evidence)
    assert only(evidence, "no-revision-history").question is Question.ROLLBACK


def test_switching_to_recreate_in_a_modified_file(repo: RepoBuilder) -> None:
    repo.commit("Add podinfo", {"deploy/deployment.yaml": PODINFO})
    recreate = PODINFO.replace("    rollingUpdate:\n      maxUnavailable: 1\n    type: RollingUpdate", "    type: Recreate")
    evidence = run(DETECTOR, commit_change(repo, {"deploy/deployment.yaml": recreate}))
    assert only(evidence, "recreate-strategy").location.line == recreate.splitlines().index("    type: Recreate") + 1


def test_files_that_cannot_be_deployments_are_not_read(repo: RepoBuilder) -> None:
    repo.commit("Add podinfo", {"deploy/deployment.yaml": PODINFO})
    change = commit_change(repo, {"deploy/deployment.yaml": None, "notes/deployment.txt": PODINFO,
                                  "deploy/argo.yaml": "kind: Rollout\n"})
    assert run(DETECTOR, change) == []


def test_unreadable_content_is_reported_unavailable(repo: RepoBuilder) -> None:
    change = commit_change(repo, {"k8s/mysql.yaml": MYSQL})
    make_unreadable(repo, "HEAD:k8s/mysql.yaml")
    evidence = run(DETECTOR, change)
    assert len(evidence) == 1 and evidence[0].unavailable and evidence[0].location.path == "k8s/mysql.yaml"


def _policy(tmp_path: Path) -> str:
    path = tmp_path / "policy.yml"
    path.write_text(
        "version: 1\nrules:\n  - id: deploys-roll-out\n    require:\n"
        "      rollout: {any_of: [gradual, flagged]}\n    severity: error\n",
        encoding="utf-8",
    )
    return str(path)


def test_cli_reports_recreate_as_contradicted_and_rolling_update_as_satisfied(repo: RepoBuilder, tmp_path: Path) -> None:
    base = repo.head()
    repo.commit("Deploy mysql", {"k8s/mysql.yaml": MYSQL})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json", "--policy", _policy(tmp_path))
    assert result.code == 1, result.stderr
    verdict = json.loads(result.stdout)
    rollout = verdict["questions"]["rollout"]
    assert rollout["status"] == "contradicted"
    flag = next(e for e in rollout["evidence"] if e["kind"] == "recreate-strategy")
    assert flag["effect"] == "contradicts" and flag["severity"] == "warning"
    assert flag["location"] == {"path": "k8s/mysql.yaml", "line": 21}

    base = repo.head()
    repo.commit("Deploy podinfo", {"deploy/podinfo.yaml": PODINFO})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json", "--policy", _policy(tmp_path))
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["questions"]["rollout"]["status"] == "satisfied"
