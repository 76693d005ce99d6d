"""The shared YAML reader of the deploy detectors: multi-document, tagged, templated, broken input."""

from __future__ import annotations

from govgate.detectors.yaml_docs import TEMPLATED, is_yaml_path, load_documents, touched_documents
from tests.conftest import RepoBuilder
from tests.deploy_support import commit_change, fixture


def test_documents_keep_their_own_line_numbers() -> None:
    # kubernetes/website mysql-deployment.yaml: a Service, then the Deployment after "---".
    text = fixture("k8s/mysql-deployment.yaml")
    service, deployment = load_documents(text)
    assert (service.get("kind"), deployment.get("kind")) == ("Service", "Deployment")
    assert deployment.start_line == 12 and service.end_line == 10
    assert deployment.line("spec", "strategy", "type") == 21
    assert deployment.line("spec", "template", "spec", "containers", 0, "image") == 28
    assert deployment.line("spec", "strategy", "no-such-key") == 20  # nearest recorded ancestor
    assert deployment.mode == "yaml" and not deployment.templated


def test_unknown_tags_load_as_the_value_they_wrap() -> None:
    # aws/serverless-application-model lambda_safe_deployments/template.yaml uses !Ref, !Sub and !GetAtt.
    (doc,) = load_documents(fixture("aws/lambda_safe_deployments-template.yaml"))
    assert doc.get("Resources", "safeTest", "Properties", "DeploymentPreference", "Hooks", "PreTraffic") == "preTrafficHook"
    statements = doc.sequence("Resources", "preTrafficHook", "Properties", "Policies")
    assert statements[1]["Statement"][0]["Resource"] == "safeTest.Arn"
    assert doc.get("Resources", "preTrafficHook", "Properties", "Environment", "Variables", "CurrentVersion") == "safeTest.Version"
    assert load_documents("a: !GetAtt [Thing, Arn]\nb: !Custom {x: 1}\n")[0].data == {"a": ["Thing", "Arn"], "b": {"x": 1}}


def test_helm_templates_are_read_after_blanking_directives() -> None:
    text = fixture("flagger/podinfo-chart-canary-v1alpha3.yaml")  # starts with {{- if .Values.canary.enabled }}
    (doc,) = load_documents(text)
    assert doc.mode == "templated" and doc.templated
    assert doc.get("kind") == "Canary" and doc.get("metadata", "name") == TEMPLATED
    assert doc.get("spec", "canaryAnalysis", "threshold") == TEMPLATED
    assert doc.line("spec", "canaryAnalysis") == text.splitlines().index("  canaryAnalysis:") + 1


def test_a_broken_document_does_not_spoil_the_others() -> None:
    text = "kind: A\n---\nkind: B\n  bad: [indent\n---\n# only a comment\n---\nkind: C\nspec:\n  x: 1\n"
    docs = load_documents(text)
    assert [d.get("kind") for d in docs] == ["A", "B", "C"]
    assert docs[1].mode == "scanned" and docs[2].line("spec", "x") == 10


def test_line_scan_reads_nested_keys_and_lists() -> None:
    text = """\
spec:
  containers:
  - name: a
    command: |
      echo hi
      fake: key
    env:
    - name: X
      value: "1"
  - name: b
  strategy:
    type: Recreate # why
  {{ range .Values.extra }}
  - {{ . }}
  {{ end }}
  : broken
"""
    (doc,) = load_documents(text)
    assert doc.mode == "scanned"
    assert doc.get("spec", "strategy", "type") == "Recreate" and doc.line("spec", "strategy", "type") == 12
    containers = doc.sequence("spec", "containers")
    assert [c["name"] for c in containers] == ["a", "b"]
    assert containers[0]["env"] == [{"name": "X", "value": "1"}] and "fake" not in containers[0]


def test_json_with_trailing_commas_or_tabs() -> None:
    # ouroboros8/tfasg: a trailing comma, which YAML accepts and json does not.
    (doc,) = load_documents(fixture("aws/tfasg-asg.json.tpl"))
    assert doc.mode == "yaml" and doc.line("Resources", "MyAsg", "UpdatePolicy") == 11
    (tabbed,) = load_documents('{\n\t"flags": {\n\t\t"a": {"state": "ENABLED"}\n\t}\n}\n')
    # pure-Python PyYAML rejects tabs here (then the JSON fallback reads it); libyaml accepts them
    assert tabbed.mode in ("json", "yaml") and tabbed.get("flags", "a", "state") == "ENABLED"
    assert load_documents("{ not json at all") == ()


def test_garbage_never_raises() -> None:
    for text in ("", "---\n---\n", "\x00\x01binary", "a: &x [*x]\n", "[" * 5000, "key: {{", ": : :\n- - -\n  x"):
        load_documents(text)


def test_yaml_paths() -> None:
    assert is_yaml_path("a/b.yaml") and is_yaml_path("B.YML") and is_yaml_path("asg.cfn.yml.tpl")
    assert not is_yaml_path("values.json") and not is_yaml_path("yaml.txt")


def test_touched_documents_follow_added_lines(repo: RepoBuilder) -> None:
    text = fixture("k8s/mysql-deployment.yaml")
    repo.commit("Add", {"m.yaml": text})
    change = commit_change(repo, {"m.yaml": text.replace("mysql:5.6", "mysql:8.0")})
    (file,) = change.files
    touched = touched_documents(file, load_documents(file.new_text() or ""))
    assert [d.get("kind") for d in touched] == ["Deployment"]
