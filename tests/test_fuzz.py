"""Property-based fuzzing: hostile policy texts, event payloads, file names and PR text.

The properties are the contract every input must keep: a policy loads or is a PolicyError (the
CLI's exit 2), never another exception; ``govgate check`` exits 0, 1 or 2 without a traceback;
every format renders untrusted text inert. Each example has a generous time bound (a hang, not
speed, is what it catches). The whole file runs in about half a minute: most examples run in
this process, a few through the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import random
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govgate.errors import PolicyError
from govgate.formats import FORMATS, format_module
from govgate.model import Change, Commit, FileChange, FileStatus, Person, PullRequest
from govgate.pipeline import evaluate
from govgate.policy.loader import parse_policy, preset_path
from tests.conftest import run_cli
from tests.github_case import actions_env, payload, pr_repo, serve_evidence, write_event
from tests.github_server import GitHubServer, serving

# GOVGATE_FUZZ_SCALE=20 runs twenty times as many examples (a longer campaign, outside the suite).
SCALE = max(1, int(os.environ.get("GOVGATE_FUZZ_SCALE", "1")))
IN_PROCESS = settings(max_examples=150 * SCALE, deadline=timedelta(seconds=5), database=None,
                      suppress_health_check=[HealthCheck.too_slow])
THROUGH_CLI = settings(max_examples=12 * SCALE, deadline=timedelta(seconds=30), database=None,
                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Values that broke or could break a loader: wrong types, impossible dates, YAML tricks, bad patterns.
NASTY_VALUES = [
    "7", "[]", "{}", "null", "~", "-1", "0", "1e999", ".nan", ".inf", "2027-02-30", "2027-13-45", "'  '", '""',
    "'(a+)+$'", "'[z-a]'", "'(?<=x)'", "*nope", "&a [*a]", "!!python/object/apply:os.system ['true']", "!custom x",
    "[[[[[[[[[[]]]]]]]]]]", "'\\x00'", "\"\\u202e\"", "yes", "0x10", "'**/*'", "[1, [2, [3]]]", "{a: {b: {c: d}}}",
]
PRESET_LINES = preset_path("strict").read_text("utf-8").splitlines()


@st.composite
def mutated_policy(draw: st.DrawFn) -> str:
    """A shipped preset with a few lines changed: values swapped for nasty ones, lines dropped or doubled."""
    lines = list(PRESET_LINES)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "drop", "double", "insert", "indent"]))
        line = lines[at]
        if action == "value" and ":" in line:
            key, _, _ = line.partition(":")
            lines[at] = f"{key}: {draw(st.sampled_from(NASTY_VALUES))}"
        elif action == "drop":
            del lines[at]
        elif action == "double":
            lines.insert(at, line)
        elif action == "insert":
            lines.insert(at, draw(st.text(alphabet=string.printable, max_size=30)))
        else:
            lines[at] = " " * draw(st.integers(1, 6)) + line
        if not lines:
            lines = ["version: 1"]
    return "\n".join(lines) + "\n"


def loads_or_policy_error(text: str) -> None:
    try:
        parse_policy(text, "fuzz.yml")
    except PolicyError as exc:
        assert exc.message.startswith("fuzz.yml") or "preset" in exc.message, exc.message
        assert "Traceback" not in exc.message


@IN_PROCESS
@given(text=mutated_policy())
def test_a_mutated_policy_loads_or_is_a_policy_error(text: str) -> None:
    loads_or_policy_error(text)


@IN_PROCESS
@given(text=st.text(max_size=400))
def test_any_text_loads_or_is_a_policy_error(text: str) -> None:
    loads_or_policy_error(text)


@pytest.fixture(scope="module")
def validate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("validate")


@THROUGH_CLI
@given(text=mutated_policy())
def test_policy_validate_exits_0_or_2_without_a_traceback(validate_dir: Path, text: str) -> None:
    path = validate_dir / "policy.yml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("policy", "validate", str(path), timeout=30)
    assert result.code in (0, 2), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


# -- event payloads through `govgate check --github` -------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _replace(event: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = event
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return event


@pytest.fixture(scope="module")
def github_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any], GitHubServer]]:
    tmp = tmp_path_factory.mktemp("events")
    builder, base, head = pr_repo(tmp)
    event = payload("pull_request.opened.payload.json")
    event["pull_request"]["head"]["sha"], event["pull_request"]["base"]["sha"] = head, base
    event["pull_request"]["base"]["ref"] = "main"
    with serving() as server:
        serve_evidence(server, head)
        yield builder.path, event, server


@THROUGH_CLI
@given(seed=st.integers(0, 2**32), values=st.lists(JSON_VALUES, min_size=1, max_size=4))
def test_a_mutated_event_payload_exits_0_1_or_2(github_world: tuple[Path, dict[str, Any], GitHubServer], seed: int,
                                                values: list[Any]) -> None:
    repo_path, original, server = github_world
    event = json.loads(json.dumps(original))
    places = list(_paths(event))
    chooser = random.Random(seed)
    for value in values:
        event = _replace(event, chooser.choice(places), value)
        places = list(_paths(event))
    event_path = write_event(repo_path.parent, event) if isinstance(event, dict) else repo_path.parent / "event.json"
    if not isinstance(event, dict):
        event_path.write_text(json.dumps(event), encoding="utf-8")
    result = run_cli("check", "--format", "json", cwd=repo_path, env=actions_env(server, "pull_request", event_path), timeout=60)
    assert result.code in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    if result.code in (0, 1):
        assert json.loads(result.stdout)["schema"] == "govgate/check/v1"


# -- file names, titles and PR bodies through every format ---------------------------------------------

HOSTILE_FRAGMENTS = ["\n", "\r", "\x1b[2K", "\u202e", "\u2028", "@octocat", "![x](https://e.example/p.png)", "=cmd", "|",
                     "`", "<img>", "&", "govgate: PASS"]
HOSTILE_TEXT = st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
                        | st.sampled_from(HOSTILE_FRAGMENTS), max_size=6).map("".join)
POLICY = parse_policy(preset_path("strict").read_text("utf-8"), "strict.yml")


def change_with(names: list[str], title: str, body: str) -> Change:
    author = Person("Alice", "alice@example.com")
    commit = Commit(sha="a" * 40, parents=("b" * 40,), author=author, committer=author, authored_at="2026-01-01T00:00:00Z",
                    committed_at="2026-01-01T00:00:00Z", message=title or "x")
    files = [FileChange(path=name or "empty", status=FileStatus.ADDED, added=1, removed=0) for name in names]
    return Change(id="fuzz", title=title, base="b" * 40, head="a" * 40, commits=[commit], files=files,
                  pull_request=PullRequest(number=1, title=title, body=body, labels=(title[:10],), author_login="alice"),
                  branch=title[:20] or None, problems=[f"could not read {names[0] if names else 'x'}"])


@IN_PROCESS
@given(names=st.lists(HOSTILE_TEXT, min_size=1, max_size=4), title=HOSTILE_TEXT, body=HOSTILE_TEXT)
def test_every_format_renders_hostile_text_inert(names: list[str], title: str, body: str) -> None:
    verdict = evaluate(change_with(names, title, body), POLICY)
    for name in FORMATS:
        output = format_module(name).render_check(verdict)
        if name == "text":
            heads = [line for line in output.splitlines() if line.startswith("govgate:")]
            assert len(heads) == 1 and "\x1b" not in output and "\r" not in output
        elif name == "json":
            assert json.loads(output)["risk"]["score"] == verdict.risk.score
        elif name in ("junit", "sarif"):
            ET.fromstring(output) if name == "junit" else json.loads(output)
        elif name == "markdown":
            assert "@octocat" not in output and "![x]" not in output and "<img>" not in output
        elif name == "github":
            # Workflow commands, then one plain log line; the runner splits lines at "\n" (and "\r") only.
            *commands, headline = output.rstrip("\n").split("\n")
            assert "\r" not in output
            assert all(line.startswith("::") for line in commands) and headline.startswith("govgate: ")


def test_a_synchronize_sender_of_the_wrong_type_is_read_as_absent(
    github_world: tuple[Path, dict[str, Any], GitHubServer],
) -> None:
    # Found by the property above (seed 3349334): `sender` replaced by a number crashed the contributor read.
    repo_path, original, server = github_world
    event = {**json.loads(json.dumps(original)), "action": "synchronize", "sender": 1}
    event["after"] = event["pull_request"]["head"]["sha"]
    result = run_cli("check", "--format", "json", cwd=repo_path,
                     env=actions_env(server, "pull_request", write_event(repo_path.parent, event)), timeout=60)
    assert result.code in (0, 1) and "internal error" not in result.stderr, result.stderr
