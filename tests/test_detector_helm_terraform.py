"""Helm and Terraform detectors, on real files committed to real repos."""

from __future__ import annotations

import json

import pytest

from govgate.detectors.helm import DETECTOR as HELM
from govgate.detectors.terraform import DETECTOR as TERRAFORM
from govgate.errors import PolicyError
from govgate.model import Confidence, Question
from tests.conftest import RepoBuilder
from tests.deploy_support import assert_common_shape, commit_change, fixture, kinds, make_unreadable, only, run
from tests.deploy_support import line_of as _line

# gitlabhq/gitlabhq lib/gitlab/ci/templates/Jobs/Deploy.gitlab-ci.yml (older version, excerpt)
GITLAB_DEPLOY = fixture("helm/Deploy.gitlab-ci.yml")
# fluxcd/flagger charts/podinfo/values.yaml
PODINFO_VALUES = fixture("helm/podinfo-values.yaml")
# terraform-aws-modules/terraform-aws-autoscaling main.tf and examples/complete/main.tf (excerpts)
ASG_MODULE = fixture("terraform/autoscaling-main.tf")
ASG_EXAMPLE = fixture("terraform/autoscaling-complete-main.tf")


def _lines(text: str, needle: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]


# --- Helm ------------------------------------------------------------------------------------


def test_production_helm_upgrade_without_atomic_is_a_warning(repo: RepoBuilder) -> None:
    evidence = run(HELM, commit_change(repo, {".gitlab-ci.yml": GITLAB_DEPLOY}))
    assert_common_shape(evidence)
    assert kinds(evidence) == ["helm-upgrade-not-atomic"] * 3
    assert [e.location.line for e in evidence] == _lines(GITLAB_DEPLOY, "helm upgrade")
    first = evidence[0]
    assert first.question is Question.ROLLBACK and first.severity == "warning"
    assert first.attrs["production_hint"] == "file" and "--wait" in first.attrs["flags"]
    assert first.attrs["namespace"] == "$KUBE_NAMESPACE" and "--wait only waits" in first.detail


def test_adding_atomic_to_an_existing_command_turns_it_into_a_revert_path(repo: RepoBuilder) -> None:
    repo.commit("CI", {".gitlab-ci.yml": GITLAB_DEPLOY})
    # Only the continuation line of the last command changes; the command as a whole is judged.
    head, tail = GITLAB_DEPLOY.rsplit("        $HELM_EXTRA_ARGS \\\n", 1)
    atomic = head + "        --atomic \\\n        $HELM_EXTRA_ARGS \\\n" + tail
    assert atomic.count("--atomic") == 1
    evidence = run(HELM, commit_change(repo, {".gitlab-ci.yml": atomic}))
    revert = only(evidence, "helm-atomic")
    assert revert.attrs["path_kind"] == "atomic-release" and revert.location.line == _lines(atomic, "helm upgrade")[-1]
    assert "helm-upgrade-not-atomic" not in kinds(evidence)  # the untouched commands are not re-judged


def test_helm_commands_in_scripts_and_workflows(repo: RepoBuilder) -> None:
    script = """\
#!/usr/bin/env bash
set -euo pipefail
helm upgrade --install web ./chart --namespace staging
helm upgrade --install web ./chart \\
  --namespace production \\
  --rollback-on-failure --timeout 10m
helm upgrade --install api ./chart -n prod -f values-production.yaml || helm rollback api
"""
    workflow = "jobs:\n  deploy:\n    environment: production\n    steps:\n      - run: helm upgrade --install web ./chart --wait\n"
    evidence = run(HELM, commit_change(repo, {"scripts/deploy.sh": script, ".github/workflows/deploy.yml": workflow}))
    assert_common_shape(evidence)
    assert {(e.location.path, e.location.line, e.kind) for e in evidence} == {
        ("scripts/deploy.sh", 4, "helm-atomic"),  # Helm 4's --rollback-on-failure on a continuation line
        ("scripts/deploy.sh", 7, "helm-upgrade-not-atomic"),
        ("scripts/deploy.sh", 7, "helm-rollback"),
        (".github/workflows/deploy.yml", 5, "helm-upgrade-not-atomic"),
    }
    prod_script = next(e for e in evidence if e.kind == "helm-upgrade-not-atomic" and e.location.path == "scripts/deploy.sh")
    assert prod_script.attrs["production_hint"] == "command" and prod_script.attrs["namespace"] == "prod"
    workflow_flag = next(e for e in evidence if e.location.path == ".github/workflows/deploy.yml")
    assert workflow_flag.attrs["production_hint"] == "file" and workflow_flag.confidence is Confidence.MEDIUM
    # Line 3 deploys to staging: no production hint, no warning.
    assert not [e for e in evidence if e.location.line == 3]


def test_production_pattern_setting(repo: RepoBuilder) -> None:
    change = commit_change(repo, {"Makefile": "deploy:\n\thelm upgrade --install web ./chart --kube-context live-eu\n"})
    assert run(HELM, change) == []
    flags = run(HELM, change, {"production_pattern": r"\blive-"})
    assert kinds(flags) == ["helm-upgrade-not-atomic"] and flags[0].location.line == 2
    with pytest.raises(PolicyError):
        run(HELM, change, {"production_pattern": "("})


def test_values_enabling_the_canary_are_gradual(repo: RepoBuilder) -> None:
    evidence = run(HELM, commit_change(repo, {"charts/podinfo/values.yaml": PODINFO_VALUES}))
    canary = only(evidence, "helm-values-canary")
    assert canary.facets == {"gradual"} and canary.attrs["stepWeight"] == 5 and canary.attrs["maxWeight"] == 50
    assert canary.location.line == PODINFO_VALUES.splitlines().index("canary:") + 2
    off = PODINFO_VALUES.replace("canary:\n  enabled: true", "canary:\n  enabled: false")
    flag = only(run(HELM, commit_change(repo, {"charts/podinfo/values.yaml": off})), "helm-values-canary-disabled")
    assert flag.severity == "warning" and flag.question is Question.ROLLOUT


def test_helmfile_atomic_defaults(repo: RepoBuilder) -> None:
    helmfile = "helmDefaults:\n  atomic: true\nreleases:\n  - name: web\n    chart: ./chart\n    atomic: true\n"
    evidence = run(HELM, commit_change(repo, {"helmfile.yaml": helmfile}))
    assert [(e.kind, e.location.line) for e in evidence] == [("helmfile-atomic", 2), ("helmfile-atomic", 6)]


# --- Terraform -------------------------------------------------------------------------------


def test_module_create_before_destroy(repo: RepoBuilder) -> None:
    evidence = run(TERRAFORM, commit_change(repo, {"modules/asg/main.tf": ASG_MODULE}))
    assert_common_shape(evidence)
    cbd = only(evidence, "terraform-create-before-destroy")
    assert cbd.attrs == {"path_kind": "create-before-destroy", "address": "aws_autoscaling_group.this"}
    assert cbd.location.line == _line(ASG_MODULE, "create_before_destroy = true")
    # The module's instance_refresh is a dynamic block fed by variables: no literal settings to judge.
    assert "asg-instance-refresh" not in kinds(evidence)


def test_instance_refresh_with_checkpoints_and_auto_rollback(repo: RepoBuilder) -> None:
    evidence = run(TERRAFORM, commit_change(repo, {"examples/complete/main.tf": ASG_EXAMPLE}))
    assert_common_shape(evidence)
    refreshes = [e for e in evidence if e.kind == "asg-instance-refresh"]
    assert [e.attrs["address"] for e in refreshes] == ["module.complete", "module.mixed_instance"]
    assert refreshes[0].attrs["checkpoint_percentages"] == [35, 70, 100] and refreshes[0].attrs["strategy"] == "Rolling"
    assert [e.location.line for e in refreshes] == _lines(ASG_EXAMPLE, "instance_refresh = {")
    rollback = only(evidence, "asg-auto-rollback")
    assert rollback.attrs["path_kind"] == "alarm-rollback" and rollback.location.line == _line(ASG_EXAMPLE, "auto_rollback")


def test_only_touched_blocks_count(repo: RepoBuilder) -> None:
    repo.commit("ASG examples", {"main.tf": ASG_EXAMPLE})
    edited = ASG_EXAMPLE.replace('  name = "mixed-instance"', '  name = "mixed-instances"')
    assert edited != ASG_EXAMPLE
    evidence = run(TERRAFORM, commit_change(repo, {"main.tf": edited}))
    assert [e.attrs["address"] for e in evidence] == ["module.mixed_instance"]


DATABASE = """\
resource "aws_db_instance" "orders" {
  identifier = "orders"
  engine     = "postgres"
  # a brace in a comment { and in a string "}" must not end the block
  tags = { Name = "orders-}" }

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "orders-logs"
}
"""


def test_removing_resource_blocks_destroys_them(repo: RepoBuilder) -> None:
    evidence = run(TERRAFORM, commit_change(repo, {"infra/db.tf": DATABASE}))
    assert only(evidence, "terraform-prevent-destroy").confidence is Confidence.LOW
    without_bucket = DATABASE.split('resource "aws_s3_bucket"')[0]
    evidence = run(TERRAFORM, commit_change(repo, {"infra/db.tf": without_bucket}))
    destroy = only(evidence, "terraform-destroy")
    assert destroy.severity == "error" and destroy.question is Question.ROLLBACK
    assert destroy.attrs["address"] == "aws_s3_bucket.logs" and destroy.attrs["prevent_destroy"] is False
    assert destroy.attrs["old_line"] == 12 and destroy.location.line is None

    evidence = run(TERRAFORM, commit_change(repo, {"infra/db.tf": None}))
    destroy = only(evidence, "terraform-destroy")
    assert destroy.attrs["address"] == "aws_db_instance.orders" and destroy.attrs["prevent_destroy"] is True
    assert "bypasses" in destroy.detail


def test_moved_and_relocated_resources_are_not_destroyed(repo: RepoBuilder) -> None:
    repo.commit("Database", {"infra/db.tf": DATABASE})
    bucket = DATABASE.split("}\n\n", 1)[1]
    database = DATABASE.split("\n\nresource", 1)[0] + "\n"
    # The bucket moves to another file of the same module, and the database is renamed with a moved block.
    moved = "\nmoved {\n  from = aws_db_instance.orders\n  to   = aws_db_instance.primary\n}\n"
    renamed = database.replace('"orders" {', '"primary" {', 1) + moved
    evidence = run(TERRAFORM, commit_change(repo, {"infra/db.tf": renamed, "infra/storage.tf": bucket}))
    assert "terraform-destroy" not in kinds(evidence)
    # The same bucket in another directory is another module's resource: this one is destroyed.
    evidence = run(TERRAFORM, commit_change(repo, {"infra/storage.tf": None, "other/storage.tf": bucket}))
    assert [e.attrs["address"] for e in evidence if e.kind == "terraform-destroy"] == ["aws_s3_bucket.logs"]


def test_plan_json_deletes(repo: RepoBuilder) -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [{"address": "aws_s3_bucket.logs"}]}},
        "resource_changes": [
            {"address": "aws_instance.web", "change": {"actions": ["no-op"]}},
            {"address": "aws_s3_bucket.logs", "change": {"actions": ["delete"]}},
            {"address": "aws_db_instance.orders", "change": {"actions": ["delete", "create"]}},
            {"address": "aws_launch_template.this", "change": {"actions": ["create", "delete"]}},
        ],
    }
    text = json.dumps(plan, indent=2)
    evidence = run(TERRAFORM, commit_change(repo, {"plans/tfplan.json": text}))
    assert [(e.attrs["address"], e.severity) for e in evidence] == [
        ("aws_s3_bucket.logs", "error"), ("aws_db_instance.orders", "error"), ("aws_launch_template.this", "warning"),
    ]
    lines = text.splitlines()
    # The line is the one inside resource_changes, not the earlier mention in planned_values.
    assert lines[evidence[0].location.line - 1].strip() == '"address": "aws_s3_bucket.logs",'
    assert evidence[0].location.line > text[: text.index('"resource_changes"')].count("\n") + 1


def test_unreadable_terraform_is_unavailable_and_not_called_destroyed(repo: RepoBuilder) -> None:
    repo.commit("Database", {"infra/db.tf": DATABASE})
    change = commit_change(repo, {"infra/db.tf": DATABASE.replace('"orders"', '"orders2"', 1)})
    make_unreadable(repo, "HEAD:infra/db.tf")
    evidence = run(TERRAFORM, change)
    assert kinds(evidence) == ["content-unavailable"] and evidence[0].unavailable
