"""SAM/CodeDeploy and CloudFormation UpdatePolicy detector, real templates in real repos."""

from __future__ import annotations

import json
from pathlib import Path

from govgate.detectors.aws_deploy import DETECTOR
from govgate.model import Confidence, Question
from tests.conftest import RepoBuilder, run_cli
from tests.deploy_support import assert_common_shape, commit_change, fixture, kinds, only, run
from tests.deploy_support import line_of as _line

# aws/serverless-application-model examples/2016-10-31/lambda_safe_deployments/template.yaml
SAM = fixture("aws/lambda_safe_deployments-template.yaml")
# rhythmictech/terraform-aws-ecs-cluster asg.cfn.yml.tpl
ECS_ASG = fixture("aws/ecs-cluster-asg.cfn.yml.tpl")
# ouroboros8/tfasg cloudformation_auto_scaling_group.json.tpl (invalid JSON: a trailing comma)
TFASG = fixture("aws/tfasg-asg.json.tpl")

ALARMS = "          Alarms:\n            - !Ref AliasErrorMetricGreaterThanZeroAlarm\n"


def test_sam_linear_with_hook_but_no_alarms(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"template.yaml": SAM}))
    assert_common_shape(evidence)
    linear = only(evidence, "codedeploy-linear")
    assert linear.facets == {"gradual"} and linear.location.line == _line(SAM, "Type: Linear10PercentEvery1Minute")
    assert linear.attrs["hooks"] == ["PreTraffic"] and linear.attrs["alias"] == "live"
    no_alarms = only(evidence, "codedeploy-no-alarms")
    assert no_alarms.question is Question.ROLLBACK and no_alarms.severity == "warning"
    # preTrafficHook has Enabled: false, which is right for a hook function: no red flag for it.
    assert "codedeploy-disabled" not in kinds(evidence)


def test_sam_canary_with_alarms_rolls_back_on_alarm(repo: RepoBuilder) -> None:
    # Derived from the SAM example: canary type plus the Alarms list from the SAM docs.
    canary = SAM.replace("Type: Linear10PercentEvery1Minute\n", "Type: Canary10Percent5Minutes\n" + ALARMS)
    evidence = run(DETECTOR, commit_change(repo, {"template.yaml": canary}))
    assert sorted(kinds(evidence)) == ["codedeploy-alarm-rollback", "codedeploy-canary"]
    rollback = only(evidence, "codedeploy-alarm-rollback")
    assert rollback.attrs["path_kind"] == "alarm-rollback" and rollback.location.line == _line(canary, "Alarms:")


def test_all_at_once_is_an_error_and_disabled_app_function_a_warning(repo: RepoBuilder) -> None:
    all_at_once = SAM.replace("Type: Linear10PercentEvery1Minute", "Type: AllAtOnce")
    flag = only(run(DETECTOR, commit_change(repo, {"template.yaml": all_at_once})), "codedeploy-all-at-once")
    assert not flag.supports and flag.severity == "error" and flag.question is Question.ROLLOUT
    assert flag.location.line == _line(all_at_once, "Type: AllAtOnce")

    disabled = SAM.replace("          Type: Linear10PercentEvery1Minute\n", "          Enabled: false\n")
    disabled = disabled.replace("          Hooks:\n            PreTraffic: !Ref preTrafficHook\n", "")
    evidence = run(DETECTOR, commit_change(repo, {"template.yaml": disabled}))
    flag = only(evidence, "codedeploy-disabled")
    assert flag.attrs["resource"] == "safeTest" and flag.severity == "warning"
    # preTrafficHook keeps its CodeDeployHook_ name, so it is still recognised as a hook.
    assert kinds(evidence) == ["codedeploy-disabled"]


def test_deployment_type_from_a_parameter_default(repo: RepoBuilder) -> None:
    template = SAM.replace("Resources:\n", "Parameters:\n  DeployType:\n    Type: String\n    Default: AllAtOnce\n\nResources:\n", 1)
    template = template.replace("Type: Linear10PercentEvery1Minute", "Type: !Ref DeployType")
    flag = only(run(DETECTOR, commit_change(repo, {"template.yaml": template})), "codedeploy-all-at-once")
    assert flag.attrs["parameter"] == "DeployType"


def test_only_resources_the_change_touches_count(repo: RepoBuilder) -> None:
    repo.commit("Add template", {"template.yaml": SAM})
    # Editing only the hook function's runtime does not redeploy safeTest's traffic shifting.
    hook_only = SAM.replace("      Runtime: nodejs8.10\n      FunctionName", "      Runtime: nodejs20.x\n      FunctionName")
    assert run(DETECTOR, commit_change(repo, {"template.yaml": hook_only})) == []


def test_codedeploy_deployment_group_with_auto_rollback(repo: RepoBuilder) -> None:
    template = """\
Resources:
  DeploymentGroup:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties:
      ApplicationName: !Ref Application
      DeploymentConfigName: CodeDeployDefault.ECSCanary10Percent5Minutes
      AutoRollbackConfiguration:
        Enabled: true
        Events:
          - DEPLOYMENT_FAILURE
          - DEPLOYMENT_STOP_ON_ALARM
      AlarmConfiguration:
        Enabled: true
        Alarms:
          - Name: !Ref Http5xxAlarm
"""
    evidence = run(DETECTOR, commit_change(repo, {"infra/codedeploy.yaml": template}))
    assert_common_shape(evidence)
    assert only(evidence, "codedeploy-canary").location.line == 6
    rollback = only(evidence, "codedeploy-auto-rollback")
    assert rollback.attrs["path_kind"] == "alarm-rollback" and rollback.location.line == 7


def test_cfn_rolling_update_with_signals(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"asg.cfn.yml.tpl": ECS_ASG}))
    assert_common_shape(evidence)
    rolling = only(evidence, "cfn-rolling-update")
    assert rolling.attrs["PauseTime"] == "PT5M" and rolling.attrs["WaitOnResourceSignals"] is True
    assert rolling.confidence is Confidence.HIGH and rolling.location.line == _line(ECS_ASG, "AutoScalingRollingUpdate:")
    assert only(evidence, "cfn-signal-rollback").attrs["path_kind"] == "failure-rollback"
    # DeletionPolicy: Delete on an Auto Scaling group holds no data: no red flag.
    assert "cfn-deletion-policy-delete" not in kinds(evidence)


def test_cfn_zero_pause_without_signals_in_json_with_trailing_comma(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"cloudformation_auto_scaling_group.json.tpl": TFASG}))
    flag = only(evidence, "cfn-rolling-update-no-pause")
    assert not flag.supports and flag.severity == "warning" and flag.location.line == _line(TFASG, '"PauseTime": "PT0S"')
    assert kinds(evidence) == ["cfn-rolling-update-no-pause"]


def test_stateful_resource_with_delete_policy(repo: RepoBuilder) -> None:
    template = ("Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n"
                "    Properties:\n      BillingMode: PAY_PER_REQUEST\n")
    flag = only(run(DETECTOR, commit_change(repo, {"stack.template": template})), "cfn-deletion-policy-delete")
    assert flag.question is Question.ROLLBACK and flag.location.line == 4


def test_non_cloudformation_files_are_skipped(repo: RepoBuilder) -> None:
    change = commit_change(repo, {"src/template.py": SAM, "docs/notes.yaml": "Resources: none\n"})
    assert run(DETECTOR, change) == []


def _policy(tmp_path: Path) -> str:
    path = tmp_path / "policy.yml"
    path.write_text(
        "version: 1\nrules:\n  - id: deploys-are-gradual-and-reversible\n    require:\n"
        "      rollout: {any_of: [gradual, flagged]}\n      rollback: {any_of: [revert_path]}\n    severity: error\n",
        encoding="utf-8",
    )
    return str(path)


def test_cli_all_at_once_contradicted_and_canary_satisfied(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    base = repo.head()
    repo.commit("Deploy all at once", {"template.yaml": SAM.replace("Type: Linear10PercentEvery1Minute", "Type: AllAtOnce")})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json", "--policy", policy)
    assert result.code == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "fail"
    assert verdict["questions"]["rollout"]["status"] == "contradicted"
    flag = next(e for e in verdict["questions"]["rollout"]["evidence"] if e["kind"] == "codedeploy-all-at-once")
    assert flag["severity"] == "error" and flag["location"]["path"] == "template.yaml"

    base = repo.head()
    canary = SAM.replace("Type: Linear10PercentEvery1Minute\n", "Type: Canary10Percent5Minutes\n" + ALARMS)
    repo.commit("Deploy by canary with alarms", {"template.yaml": canary})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json", "--policy", policy)
    assert result.code == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["questions"]["rollout"]["status"] == "satisfied"
    assert verdict["questions"]["rollback"]["status"] == "satisfied"
    rollback = verdict["questions"]["rollback"]["evidence"]
    assert [e["attrs"]["path_kind"] for e in rollback] == ["alarm-rollback"]
