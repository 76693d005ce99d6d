"""AWS deploy settings in CloudFormation and SAM templates.

SAM ``DeploymentPreference`` and CodeDeploy deployment configs: ``Canary*`` / ``Linear*`` shift
traffic in stages; ``Alarms`` (or ``AutoRollbackConfiguration``) roll back on an alarm;
``*AllAtOnce`` is a red flag; ``Enabled: false`` on an app function (not on its traffic hooks)
deploys it all at once. CloudFormation ``UpdatePolicy.AutoScalingRollingUpdate`` replaces
instances in batches; with ``PauseTime: PT0S`` and no signals there is no health gate at all.
``!Ref``/``!Sub``/``!GetAtt`` load as the value they wrap (see yaml_docs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.scope import FileScope
from govgate.detectors.yaml_docs import YAML_SUFFIXES, YamlDoc, added_line_numbers, is_yaml_path, load_documents, touches
from govgate.model import Change, Confidence, Evidence, FileChange, Question, Severity

SOURCE = "aws_deploy"
_OTHER_SUFFIXES = (".json", ".template", ".json.tpl", ".json.j2", ".cfn")
_MARKERS = ("DeploymentPreference", "UpdatePolicy", "AWS::CodeDeploy", "DeletionPolicy")
_ZERO_DURATION = re.compile(r"PT(?:0+(?:\.0+)?[HMS])+")
_STATEFUL = {
    "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::EFS::FileSystem",
    "AWS::EC2::Volume", "AWS::DocDB::DBCluster", "AWS::Neptune::DBCluster", "AWS::Redshift::Cluster",
    "AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain", "AWS::ElastiCache::ReplicationGroup",
}


class AwsDeployDetector:
    name = SOURCE
    config_schema: Mapping[str, Any] | None = None
    speaks_to = (FileScope(YAML_SUFFIXES + _OTHER_SUFFIXES),)
    reads = speaks_to

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        for file in change.files:
            if ev.is_deleted(file) or not (is_yaml_path(file.path) or file.path.lower().endswith(_OTHER_SUFFIXES)):
                continue
            text = file.new_text()
            if file.unavailable:
                yield ev.unavailable(SOURCE, Question.ROLLOUT, file)
                continue
            if text is None or "Resources" not in text or not any(marker in text for marker in _MARKERS):
                continue
            docs = [doc for doc in load_documents(text) if doc.mapping("Resources")]
            if docs:
                added = added_line_numbers(file)
                for doc in docs:
                    yield from _Template(file, doc, added).judge()


class _Template:
    def __init__(self, file: FileChange, doc: YamlDoc, added: frozenset[int] | None) -> None:
        self.file, self.doc, self.added = file, doc, added
        self.resources = {k: v for k, v in doc.mapping("Resources").items() if isinstance(v, dict)}
        self.parameters = doc.mapping("Parameters")
        starts = sorted((doc.line("Resources", name), name) for name in self.resources)
        self.extent = {
            name: (start, (starts[i + 1][0] - 1) if i + 1 < len(starts) else doc.end_line)
            for i, (start, name) in enumerate(starts)
        }
        self.hooks: set[str] = set()  # functions named as PreTraffic/PostTraffic hooks
        for resource in self.resources.values():
            pref = _properties(resource).get("DeploymentPreference")
            hooks = pref.get("Hooks") if isinstance(pref, dict) else None
            if isinstance(hooks, dict):
                self.hooks.update(ref for ref in map(self._ref, hooks.values()) if ref)

    def judge(self) -> Iterable[Evidence]:
        globals_pref = self.doc.get("Globals", "Function", "DeploymentPreference")
        for name, resource in self.resources.items():
            start, end = self.extent[name]
            if not touches(self.added, start, end):
                continue
            kind = resource.get("Type")
            props = _properties(resource)
            if kind == "AWS::Serverless::Function":
                pref = props.get("DeploymentPreference")
                path: tuple[Any, ...] = ("Resources", name, "Properties", "DeploymentPreference")
                if not isinstance(pref, dict) and isinstance(globals_pref, dict):
                    pref, path = globals_pref, ("Globals", "Function", "DeploymentPreference")
                if isinstance(pref, dict):
                    yield from self._sam_function(name, props, pref, path)
            elif kind == "AWS::CodeDeploy::DeploymentGroup":
                yield from self._deployment_group(name, props)
            if isinstance(resource.get("UpdatePolicy"), dict):
                yield from self._update_policy(name, resource["UpdatePolicy"])
            if resource.get("DeletionPolicy") == "Delete" and kind in _STATEFUL:
                yield ev.red_flag(
                    SOURCE, Question.ROLLBACK, "cfn-deletion-policy-delete",
                    f"{name} ({kind}) has DeletionPolicy: Delete: removing or replacing it deletes its data",
                    self.file.path, self.doc.line("Resources", name, "DeletionPolicy"), severity=Severity.WARNING,
                    attrs={"resource": name, "type": kind},
                )

    def _sam_function(self, name: str, props: dict[str, Any], pref: dict[str, Any], path: tuple[Any, ...]) -> Iterable[Evidence]:
        attrs: dict[str, Any] = {"resource": name, "alias": props.get("AutoPublishAlias")}
        if pref.get("Enabled") is False or str(pref.get("Enabled")).lower() == "false":
            function_name = str(props.get("FunctionName", ""))
            if name in self.hooks or function_name.startswith("CodeDeployHook_"):
                return  # traffic hooks are deployed directly on purpose
            yield ev.red_flag(
                SOURCE, Question.ROLLOUT, "codedeploy-disabled",
                f"{name} has DeploymentPreference Enabled: false: new versions take all traffic at once",
                self.file.path, self.doc.line(*path, "Enabled"), severity=Severity.WARNING, attrs=attrs,
            )
            return
        deploy_type, parameter = self._resolve(pref.get("Type"))
        hooks = pref.get("Hooks") if isinstance(pref.get("Hooks"), dict) else {}
        alarms = pref.get("Alarms") if isinstance(pref.get("Alarms"), list) else []
        attrs.update(deployment_type=deploy_type, hooks=sorted(hooks), alarms=len(alarms))
        if parameter:
            attrs["parameter"] = parameter
        yield from self._deploy_type(name, deploy_type, (*path, "Type"), attrs)
        if alarms:
            yield ev.rollback(
                SOURCE, "codedeploy-alarm-rollback",
                f"{name}: CodeDeploy rolls traffic back to the previous version when one of {len(alarms)} alarm(s) fires",
                self.file.path, self.doc.line(*path, "Alarms"), path_kind=ev.ALARM_ROLLBACK, attrs=attrs,
            )
        elif _classify(deploy_type) in ("canary", "linear"):
            yield ev.red_flag(
                SOURCE, Question.ROLLBACK, "codedeploy-no-alarms",
                f"{name} shifts traffic by {deploy_type} but has no Alarms: nothing rolls it back automatically",
                self.file.path, self.doc.line(*path), severity=Severity.WARNING, attrs=attrs,
            )

    def _deployment_group(self, name: str, props: dict[str, Any]) -> Iterable[Evidence]:
        base = ("Resources", name, "Properties")
        config, parameter = self._resolve(props.get("DeploymentConfigName"))
        attrs: dict[str, Any] = {"resource": name, "deployment_type": config}
        if parameter:
            attrs["parameter"] = parameter
        custom = self.resources.get(config or "")
        if custom and custom.get("Type") == "AWS::CodeDeploy::DeploymentConfig":
            routing = _properties(custom).get("TrafficRoutingConfig")
            attrs["custom_config"] = config
            config = routing.get("Type") if isinstance(routing, dict) else config
            attrs["deployment_type"] = config
        yield from self._deploy_type(name, config, (*base, "DeploymentConfigName"), attrs)
        auto = props.get("AutoRollbackConfiguration")
        if isinstance(auto, dict) and auto.get("Enabled") is True:
            events = [str(e) for e in auto.get("Events") or []]
            on_alarm = "DEPLOYMENT_STOP_ON_ALARM" in events
            yield ev.rollback(
                SOURCE, "codedeploy-auto-rollback",
                f"{name}: CodeDeploy rolls back automatically on {', '.join(events) or 'failure'}",
                self.file.path, self.doc.line(*base, "AutoRollbackConfiguration"),
                path_kind=ev.ALARM_ROLLBACK if on_alarm else ev.FAILURE_ROLLBACK, attrs={**attrs, "events": events},
            )

    def _deploy_type(self, name: str, deploy_type: str | None, path: tuple[Any, ...], attrs: dict[str, Any]) -> Iterable[Evidence]:
        kind = _classify(deploy_type)
        if kind is None:
            return
        line = self.doc.line(*path)
        if kind == "all-at-once":
            yield ev.red_flag(
                SOURCE, Question.ROLLOUT, "codedeploy-all-at-once",
                f"{name} deploys with {deploy_type}: all traffic moves to the new version at once",
                self.file.path, line, severity=Severity.ERROR, attrs=attrs,
            )
            return
        words = {"canary": "a canary step, then the rest", "linear": "equal steps at fixed intervals",
                 "batches": "batches of instances"}
        yield ev.rollout(
            SOURCE, f"codedeploy-{kind}", f"{name} deploys with {deploy_type}: traffic shifts in {words[kind]}",
            self.file.path, line, attrs=attrs, confidence=Confidence.HIGH if kind != "batches" else Confidence.MEDIUM,
        )

    def _update_policy(self, name: str, policy: dict[str, Any]) -> Iterable[Evidence]:
        base = ("Resources", name, "UpdatePolicy")
        rolling = policy.get("AutoScalingRollingUpdate")
        if isinstance(rolling, dict):
            keys = ("MaxBatchSize", "MinInstancesInService", "MinSuccessfulInstancesPercent", "PauseTime", "WaitOnResourceSignals")
            attrs = {"resource": name, **{k: rolling[k] for k in keys if k in rolling}}
            signals = str(rolling.get("WaitOnResourceSignals", "false")).lower() == "true"
            # PauseTime defaults to PT0S, or PT5M when waiting for signals.
            pause = str(rolling.get("PauseTime", "PT5M" if signals else "PT0S"))
            line = self.doc.line(*base, "AutoScalingRollingUpdate")
            if _ZERO_DURATION.fullmatch(pause) and not signals:
                yield ev.red_flag(
                    SOURCE, Question.ROLLOUT, "cfn-rolling-update-no-pause",
                    f"{name} rolling update has PauseTime {pause} and no resource signals: batches follow each other with no health gate",
                    self.file.path, self.doc.line(*base, "AutoScalingRollingUpdate", "PauseTime"), severity=Severity.WARNING, attrs=attrs,
                )
            else:
                batch = rolling.get("MaxBatchSize", 1)
                gate = "waiting for instance signals" if signals else f"pausing {pause}"
                yield ev.rollout(
                    SOURCE, "cfn-rolling-update", f"{name} replaces instances in batches of {batch}, {gate}",
                    self.file.path, line, attrs=attrs, confidence=Confidence.HIGH if signals else Confidence.MEDIUM,
                )
            if signals:
                yield ev.rollback(
                    SOURCE, "cfn-signal-rollback",
                    f"{name}: instances that do not signal success fail the update and CloudFormation rolls it back",
                    self.file.path, self.doc.line(*base, "AutoScalingRollingUpdate", "WaitOnResourceSignals"),
                    path_kind=ev.FAILURE_ROLLBACK, attrs=attrs, confidence=Confidence.MEDIUM,
                )
        replacing = policy.get("AutoScalingReplacingUpdate")
        if isinstance(replacing, dict) and str(replacing.get("WillReplace")).lower() == "true":
            yield ev.rollback(
                SOURCE, "cfn-replacing-update",
                f"{name}: a replacing update builds a new group and keeps the old one until the new one succeeds",
                self.file.path, self.doc.line(*base, "AutoScalingReplacingUpdate"),
                path_kind=ev.CREATE_BEFORE_DESTROY, attrs={"resource": name},
            )

    def _resolve(self, value: Any) -> tuple[str | None, str | None]:
        """A literal, or the Default of the Parameter it references: (value, parameter name)."""
        ref = self._ref(value)
        if ref and ref in self.parameters and isinstance(self.parameters[ref], dict):
            default = self.parameters[ref].get("Default")
            return (str(default) if default is not None else None), ref
        return (value if isinstance(value, str) else None), None

    @staticmethod
    def _ref(value: Any) -> str | None:
        if isinstance(value, dict) and isinstance(value.get("Ref"), str):
            return value["Ref"]  # JSON / long-form YAML
        return value if isinstance(value, str) else None  # short-form !Ref loads as the bare name


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    props = resource.get("Properties")
    return props if isinstance(props, dict) else {}


def _classify(deploy_type: str | None) -> str | None:
    if not deploy_type:
        return None
    low = deploy_type.lower()
    if "allatonce" in low:
        return "all-at-once"
    if "canary" in low:
        return "canary"
    if "linear" in low:
        return "linear"
    if "oneatatime" in low or "halfatatime" in low:
        return "batches"
    return None


DETECTOR = AwsDeployDetector()
