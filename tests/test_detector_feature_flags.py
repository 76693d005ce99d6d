"""Feature-flag detector: flag checks in added code, flagd and GitLab flag files."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.detectors.feature_flags import _CALLS, DETECTOR
from govgate.model import Confidence, Question
from tests.conftest import RepoBuilder
from tests.deploy_support import assert_common_shape, commit_change, fixture, kinds, only, run
from tests.deploy_support import line_of as _line

# open-feature/playground packages/app/src/app/fibonacci/fibonacci.service.ts
FIBONACCI = fixture("flags/fibonacci.service.ts")
# launchdarkly/hello-python main.py, hello-go main.go, hello-java src/main/java/Hello.java
LD_PYTHON = fixture("flags/hello-python-main.py.txt")
LD_GO = fixture("flags/hello-go-main.go")
LD_JAVA = fixture("flags/Hello.java")
# communitiesuk/epb-register-api lib/helper/toggles.rb; kromiii/unleash-checker-ai example/hello_world_stale.py
UNLEASH_RUBY = fixture("flags/toggles.rb")
UNLEASH_STALE = fixture("flags/hello_world_stale.py.txt")
# open-feature/flagd samples/example_flags.flagd.json
FLAGD = fixture("flags/example_flags.flagd.json")
# gitlabhq/gitlabhq config/feature_flags/gitlab_com_derisk/blame_ignore_revs.yml
GITLAB_FLAG = fixture("flags/blame_ignore_revs.yml")


def test_openfeature_flag_guarding_a_new_remote_path(repo: RepoBuilder) -> None:
    # The "before" is derived from the same file: the local computation only, without the flag.
    before = FIBONACCI.split("    const useRemoteFibService")[0] + "    return {\n      result: await fibonacci(num),\n    };\n  }\n}\n"
    repo.commit("Fibonacci service", {"src/app/fibonacci/fibonacci.service.ts": before})
    evidence = run(DETECTOR, commit_change(repo, {"src/app/fibonacci/fibonacci.service.ts": FIBONACCI}))
    assert_common_shape(evidence)
    flagged = only(evidence, "feature-flag")
    assert flagged.facets == {"flagged"} and flagged.confidence is Confidence.HIGH
    assert flagged.attrs["sdk"] == "OpenFeature" and flagged.attrs["flag"] == "use-remote-fib-service"
    assert flagged.attrs["default"] is False
    assert flagged.location.line == _line(FIBONACCI, "getBooleanValue")
    assert flagged.attrs["guard_line"] == _line(FIBONACCI, "if (useRemoteFibService)")
    off = only(evidence, "feature-flag-off")
    assert off.question is Question.ROLLBACK and off.attrs["path_kind"] == "flag-off"


def test_unchanged_flag_calls_do_not_count(repo: RepoBuilder) -> None:
    repo.commit("Fibonacci service", {"src/fibonacci.service.ts": FIBONACCI})
    edited = FIBONACCI.replace("'http://localhost:30001'", "'http://localhost:30002'")
    assert run(DETECTOR, commit_change(repo, {"src/fibonacci.service.ts": edited})) == []


def test_launchdarkly_in_python_go_and_java(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"main.py": LD_PYTHON, "cmd/hello/main.go": LD_GO,
                                                  "src/main/java/Hello.java": LD_JAVA}))
    assert_common_shape(evidence)
    flags = {e.location.path: e for e in evidence if e.kind == "feature-flag"}
    assert set(flags) == {"main.py", "cmd/hello/main.go", "src/main/java/Hello.java"}
    assert all(e.attrs["sdk"] == "LaunchDarkly" and e.attrs["default"] is False for e in flags.values())
    go = flags["cmd/hello/main.go"]
    assert go.attrs["flag"] == "YOUR_FEATURE_FLAG_KEY" and go.attrs["guard_line"] == _line(LD_GO, "if show_feature {")
    assert go.confidence is Confidence.HIGH
    java = flags["src/main/java/Hello.java"]
    assert java.attrs["flag"] == "FEATURE_FLAG_KEY" and java.attrs["calls"] == 2
    assert java.location.line == _line(LD_JAVA, "boolean flagValue = client.boolVariation")
    python = flags["main.py"]
    assert python.location.line == _line(LD_PYTHON, "ldclient.get().variation(")
    assert python.attrs["flag"] == "feature_flag_key"


def test_new_flag_defaulting_to_true_is_a_warning(repo: RepoBuilder) -> None:
    repo.commit("Service", {"src/fibonacci.service.ts": FIBONACCI})
    flipped = FIBONACCI.replace("'use-remote-fib-service', false", "'use-remote-fib-service', true")
    evidence = run(DETECTOR, commit_change(repo, {"src/fibonacci.service.ts": flipped}))
    flag = only(evidence, "flag-default-on")
    assert not flag.supports and flag.severity == "warning" and flag.attrs["default"] is True
    assert "feature-flag" not in kinds(evidence)


def test_unleash_and_growthbook_checks(repo: RepoBuilder) -> None:
    code = """\
import { useFeatureIsOn } from "@growthbook/growthbook-react";

export function Checkout() {
  const newFlow = useFeatureIsOn("new-checkout");
  if (newFlow) {
    return <NewCheckout />;
  }
  return unleash.isEnabled("legacy-banner", context, true) ? <Banner /> : <OldCheckout />;
}
"""
    evidence = run(DETECTOR, commit_change(repo, {"web/src/Checkout.tsx": code}))
    flagged = only(evidence, "feature-flag")
    assert flagged.attrs["sdk"] == "GrowthBook" and flagged.attrs["guard_line"] == 5
    on = only(evidence, "flag-default-on")  # a literal true fallback
    assert on.attrs["sdk"] == "Unleash" and on.attrs["flag"] == "legacy-banner"


def test_unleash_ruby_wrapper_is_low_confidence(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"lib/helper/toggles.rb": UNLEASH_RUBY}))
    flagged = only(evidence, "feature-flag")
    assert flagged.attrs["sdk"] == "Unleash" and flagged.confidence is Confidence.LOW
    assert flagged.location.line == _line(UNLEASH_RUBY, "is_enabled?")


def test_code_without_flag_checks_tests_and_other_files_find_nothing(repo: RepoBuilder) -> None:
    logger = "if (logger.isEnabled(Level.DEBUG)) {\n  log();\n}\n"  # isEnabled on a non-flag receiver
    change = commit_change(repo, {
        "example/hello_world_stale.py": UNLEASH_STALE,  # flag checks removed: nothing to find
        "src/Log.java": logger,
        "tests/test_checkout.py": "assert client.is_enabled('new-checkout')\n",
        "README.md": "client.getBooleanValue('x', false)\n",
        "web/dist/app.min.js": "if(client.getBooleanValue('x', false)){run()}\n",
    })
    assert run(DETECTOR, change) == []


def test_flagd_file(repo: RepoBuilder) -> None:
    evidence = run(DETECTOR, commit_change(repo, {"samples/example_flags.flagd.json": FLAGD}))
    assert_common_shape(evidence)
    on = only(evidence, "flagd-default-on")
    assert on.attrs["flag"] == "myBoolFlag" and on.severity == "warning"
    assert on.location.line == _line(FLAGD, '"defaultVariant": "on"')
    fractional = only(evidence, "flagd-fractional")
    assert fractional.attrs["flag"] == "headerColor" and fractional.facets == {"gradual"}
    assert fractional.attrs["buckets"] == [("red", 25), ("blue", 25), ("green", 25), ("yellow", 25)]
    assert fractional.location.line == _line(FLAGD, '"headerColor"')
    targeted = {e.attrs["flag"] for e in evidence if e.kind == "flagd-targeting"}
    assert targeted == {"isColorYellow", "fibAlgo"}


def test_flagd_only_judges_flags_the_change_adds_or_edits(repo: RepoBuilder) -> None:
    repo.commit("Flags", {"flags.flagd.json": FLAGD})
    data = json.loads(FLAGD)
    data["flags"]["newCheckout"] = {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "off"}
    evidence = run(DETECTOR, commit_change(repo, {"flags.flagd.json": json.dumps(data, indent=2)}))
    assert sorted(kinds(evidence)) == ["flagd-default-off", "flagd-flag-off"]
    assert only(evidence, "flagd-default-off").attrs["flag"] == "newCheckout"


def test_gitlab_flag_definition(repo: RepoBuilder) -> None:
    path = "config/feature_flags/gitlab_com_derisk/blame_ignore_revs.yml"
    evidence = run(DETECTOR, commit_change(repo, {path: GITLAB_FLAG}))
    assert_common_shape(evidence)
    assert sorted(kinds(evidence)) == ["gitlab-flag-default-off", "gitlab-flag-off"]
    flagged = only(evidence, "gitlab-flag-default-off")
    assert flagged.location.line == _line(GITLAB_FLAG, "default_enabled: false")
    assert flagged.attrs["type"] == "gitlab_com_derisk"

    enabled = GITLAB_FLAG.replace("default_enabled: false", "default_enabled: true").replace(
        "rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/514325", "rollout_issue_url:")
    evidence = run(DETECTOR, commit_change(repo, {"ee/config/feature_flags/beta/other_flag.yml": enabled}))
    assert sorted(kinds(evidence)) == ["gitlab-flag-default-enabled", "gitlab-flag-no-rollout-issue"]
    # Enabling an existing flag by default is its own rollout step, not an introduction.
    assert run(DETECTOR, commit_change(repo, {path: GITLAB_FLAG.replace("false", "true")})) == []


def test_quick_tokens_cover_every_flag_call_name() -> None:
    from govgate.detectors.feature_flags import _CALLS, _QUICK_TOKENS

    assert all(any(token in name for token in _QUICK_TOKENS) for name in [*_CALLS, "<IfFeatureEnabled"])


_BEFORE = st.sampled_from(["", " ", "x", "$", "_", ".", "\u00e9", "\u00b2", "\u2192", "\n", "\udcff", "->", "<", "9"])
_SPACES = st.lists(st.sampled_from([" ", "\t", "\x0b", "\x1e", "\x85", "\u00a0", "\u2003", "\u3000"]), max_size=2)
_CLOSER = st.sampled_from(["(", "?(", "x(", "", "\udcff("])


@settings(max_examples=300, deadline=None)
@given(before=_BEFORE, name=st.sampled_from([*sorted(_CALLS), "<IfFeatureEnabled"]), spaces=_SPACES,
       closer=_CLOSER, noise=st.text(max_size=12))
def test_the_byte_pre_check_never_skips_a_file_the_exact_check_accepts(
        before: str, name: str, spaces: list[str], closer: str, noise: str) -> None:
    from govgate.detectors.feature_flags import _CALL_BYTES, _mentions_flag_call

    text = noise + before + name + "".join(spaces) + closer + noise
    raw = text.encode("utf-8", "surrogatepass")  # a lone surrogate: bytes that are not UTF-8
    if _mentions_flag_call(raw.decode("utf-8", "replace")):
        assert _CALL_BYTES.search(raw) is not None, text


def test_the_byte_pre_check_skips_names_inside_other_identifiers() -> None:
    # Control for the property above: the pre-check is not a pass-everything filter.
    from govgate.detectors.feature_flags import _CALL_BYTES

    assert _CALL_BYTES.search(b"if client.isEnabled(ctx) {") is not None
    assert _CALL_BYTES.search(b"if cfg.FeatureIsEnabledFor(ctx) && x.variations(1) {") is None
    assert _CALL_BYTES.search(b"$isEnabled(1); isEnabledX(2)") is None
