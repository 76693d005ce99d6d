"""Release freezes: cron matching, windows in time zones and across daylight-saving changes, the
policy vocabulary, and the emergency path (an ATTACK with a label alone stays frozen)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from govgate.errors import PolicyError
from govgate.policy.cron import CronError, CronSchedule
from govgate.policy.loader import parse_policy
from tests.conftest import RepoBuilder, judge_range, run_cli
from tests.github_case import actions_env, pull_request_event, serve_evidence, write_event
from tests.github_server import GitHubServer, review
from tests.memory_support import AI_TRAILER

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def window(yaml: str, emergency: str = "") -> object:
    policy = parse_policy(f"version: 1\nrules: []\nfreezes:\n{emergency}  windows:\n{yaml}", "p.yml")
    assert policy.freezes is not None
    return policy.freezes.windows[0]


def frozen(w: object, moment: str, ai: bool = False) -> bool:
    return w.span_at(at(moment), ai) is not None  # type: ignore[attr-defined]


# -- cron --------------------------------------------------------------------------------------------

def test_cron_fields_names_steps_and_macros() -> None:
    office = CronSchedule.parse("*/15 9-17 * * mon-FRI")
    assert office.minutes == (0, 15, 30, 45) and office.hours == tuple(range(9, 18))
    assert office.weekdays == frozenset({1, 2, 3, 4, 5})
    assert CronSchedule.parse("0 0 * * 7").weekdays == frozenset({0})  # 7 is Sunday too
    assert CronSchedule.parse("@weekly") == CronSchedule.parse("0 0 * * 0").__class__.parse("@weekly")
    assert CronSchedule.parse("0 0 1 JAN *").months == frozenset({1})
    # Both day fields restricted: either matches (Vixie cron).
    either = CronSchedule.parse("0 0 13 * FRI")
    assert either.matches_day(dt.date(2026, 2, 13)) and either.matches_day(dt.date(2026, 2, 6))
    assert not either.matches_day(dt.date(2026, 2, 7))
    only_fridays = CronSchedule.parse("0 0 * * FRI")
    assert only_fridays.matches_day(dt.date(2026, 2, 6)) and not only_fridays.matches_day(dt.date(2026, 2, 13 - 1))


@pytest.mark.parametrize(("text", "message"), [
    ("0 18 * *", "expected 5 fields"),
    ("61 * * * *", "minute: 61 is outside 0-59"),
    ("0 5-1 * * *", "hour: range '5-1' runs backwards"),
    ("*/0 * * * *", "minute: step '0'"),
    ("0 0 * FOO *", "month: 'FOO' is not a number or a name"),
])
def test_cron_errors_say_which_field(text: str, message: str) -> None:
    with pytest.raises(CronError, match=message.replace("*", r"\*")):
        CronSchedule.parse(text)


# -- windows in time zones and across daylight-saving changes ------------------------------------------

WEEKEND_BERLIN = "    - id: weekend\n      cron: '0 18 * * FRI'\n      duration: 62h\n      timezone: Europe/Berlin\n"


def test_a_weekend_freeze_ends_at_monday_08_00_local_across_the_spring_dst_change() -> None:
    w = window(WEEKEND_BERLIN)
    assert not frozen(w, "2026-03-27T16:59:00+00:00")  # Friday 17:59 CET
    assert frozen(w, "2026-03-27T17:00:00+00:00")  # Friday 18:00 CET
    assert frozen(w, "2026-03-30T07:59:00+02:00")  # Monday 07:59 CEST: clocks jumped on Sunday
    # 62 elapsed hours would end at 09:00 CEST; the window is wall-clock: it ends at 08:00.
    assert not frozen(w, "2026-03-30T08:00:00+02:00")
    assert not frozen(w, "2026-03-30T08:30:00+02:00")


def test_a_weekend_freeze_across_the_autumn_dst_change_in_new_york() -> None:
    w = window("    - id: weekend\n      cron: '0 18 * * FRI'\n      duration: 62h\n      timezone: America/New_York\n")
    assert frozen(w, "2026-10-30T22:00:00+00:00")  # Friday 18:00 EDT
    assert frozen(w, "2026-11-02T07:59:00-05:00")  # Monday 07:59 EST: an hour was repeated on Sunday
    assert not frozen(w, "2026-11-02T08:00:00-05:00")
    assert not frozen(w, "2026-10-30T21:59:00+00:00")


def test_a_start_inside_the_dst_gap_happens_just_after_it() -> None:
    w = window("    - id: nightly\n      cron: '30 2 * * *'\n      duration: 1h\n      timezone: Europe/Berlin\n")
    # 2026-03-29 02:30 does not exist in Berlin; the start is 03:30 CEST (01:30 UTC).
    assert not frozen(w, "2026-03-29T01:29:00+00:00")
    assert frozen(w, "2026-03-29T01:30:00+00:00")
    assert frozen(w, "2026-03-30T00:45:00+00:00")  # the next night: 02:45 CEST


def test_a_one_off_window_is_judged_in_its_own_zone_whatever_zone_the_change_is_in() -> None:
    w = window("    - id: new-year\n      start: 2026-12-28T00:00\n      end: 2027-01-05T00:00\n      timezone: Asia/Tokyo\n")
    assert frozen(w, "2026-12-27T16:30:00-08:00")  # San Francisco afternoon = 09:30 on the 28th in Tokyo
    assert not frozen(w, "2026-12-27T06:00:00-08:00")  # 23:00 on the 27th in Tokyo
    assert frozen(w, "2027-01-04T14:59:00+00:00") and not frozen(w, "2027-01-04T15:00:00+00:00")


def test_an_explicit_offset_wins_over_the_zone() -> None:
    w = window("    - id: x\n      start: '2026-06-01T09:00:00+05:30'\n      end: '2026-06-01T10:00:00+05:30'\n"
               "      timezone: Europe/Berlin\n")
    assert frozen(w, "2026-06-01T03:30:00+00:00") and not frozen(w, "2026-06-01T04:30:00+00:00")


def test_a_gitlab_style_window_ends_at_the_next_end_cron_match() -> None:
    w = window("    - id: weekend\n      cron: '0 23 * * 5'\n      end_cron: '0 7 * * 1'\n      timezone: UTC\n")
    assert frozen(w, "2026-05-02T12:00:00+00:00")  # Saturday
    assert frozen(w, "2026-05-04T06:59:00+00:00") and not frozen(w, "2026-05-04T07:00:00+00:00")
    assert not frozen(w, "2026-05-06T12:00:00+00:00")  # Wednesday


def test_a_release_window_runs_from_before_the_plan_until_after_the_tag() -> None:
    w = window("    - id: v2\n      release: {planned: 2026-07-01T12:00, tag: v2.0.0}\n      before: 48h\n      after: 24h\n"
               "      timezone: Europe/Berlin\n")
    assert not frozen(w, "2026-06-29T09:59:00+00:00") and frozen(w, "2026-06-29T10:00:00+00:00")
    assert frozen(w, "2026-09-01T00:00:00+00:00")  # no tag yet: the release slipped, the freeze holds
    tagged = w.__class__(**{**w.__dict__, "tag_time": at("2026-07-02T09:00:00+00:00")})
    assert frozen(tagged, "2026-07-03T08:59:00+00:00") and not frozen(tagged, "2026-07-03T09:00:00+00:00")


def test_stricter_for_ai_assisted_changes() -> None:
    only = window("    - id: x\n      start: 2026-06-01T00:00\n      end: 2026-06-02T00:00\n      ai_assisted: {only: true}\n")
    assert frozen(only, "2026-06-01T12:00:00+00:00", ai=True) and not frozen(only, "2026-06-01T12:00:00+00:00")
    wider = window("    - id: x\n      start: 2026-06-01T00:00\n      end: 2026-06-02T00:00\n"
                   "      ai_assisted: {before: 24h, after: 12h}\n")
    assert frozen(wider, "2026-05-31T01:00:00+00:00", ai=True) and not frozen(wider, "2026-05-31T01:00:00+00:00")
    assert frozen(wider, "2026-06-02T11:00:00+00:00", ai=True) and not frozen(wider, "2026-06-02T11:00:00+00:00")
    weekly = window(WEEKEND_BERLIN.replace("timezone", "ai_assisted: {before: 2h}\n      timezone"))
    assert frozen(weekly, "2026-03-27T15:30:00+00:00", ai=True) and not frozen(weekly, "2026-03-27T15:30:00+00:00")


@pytest.mark.parametrize(("yaml", "message"), [
    ("    - id: x\n      cron: '0 18 * *'\n      duration: 2h\n", "p.yml:6: freezes.windows[0].cron: '0 18 * *': expected 5 fields"),
    ("    - id: x\n      cron: '@daily'\n      duration: 2h\n      timezone: Mars/Olympus\n",
     "p.yml:8: freezes.windows[0].timezone: 'Mars/Olympus' is not an IANA time zone"),
    ("    - id: x\n      start: 2026-06-02T00:00\n      end: 2026-06-01T00:00\n",
     "p.yml:7: freezes.windows[0].end: 2026-06-01T00:00 is not after start"),
    ("    - id: x\n      start: 2026-06-01T00:00\n      cron: '@daily'\n      duration: 1h\n",
     "p.yml:5: freezes.windows[0]: give exactly one kind of window"),
    ("    - id: x\n      cron: '@daily'\n", "p.yml:6: freezes.windows[0].cron: a recurring window needs either duration"),
    ("    - id: x\n      cron: '@daily'\n      duration: soon\n", "p.yml:7: freezes.windows[0].duration: 'soon' does not fit: e.g. 62h"),
    ("    - id: x\n      release: {planned: 2026-07-01T12:00, tag: v1}\n      duration: 2h\n",
     "p.yml:7: freezes.windows[0].duration: does not belong to this kind of window"),
    ("    - id: x\n      start: 2026-06-01T00:00\n      end: 2026-06-02T00:00\n      timezone: UTC\n      tz: UTC\n",
     "p.yml:9: freezes.windows[0].tz: unknown key 'tz'"),
    ("    - id: x\n      cron: '@daily'\n      duration: 1h\n    - id: x\n      cron: '@weekly'\n      duration: 1h\n",
     "p.yml:8: freezes.windows[1].id: duplicate window id 'x' (first on line 5)"),
])
def test_freeze_errors_name_file_line_and_key(yaml: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        window(yaml)
    assert caught.value.message.startswith(message), caught.value.message


# -- check: the default rule, paths, the emergency path ---------------------------------------------------

FREEZE_POLICY = """\
version: 1
extends: default
freezes:
  emergency: {label: freeze-exception, approvers: ["@rita", "@sam"]}
  windows:
    - id: weekend
      cron: '0 18 * * FRI'
      duration: 62h
      timezone: Europe/Berlin
      paths: ["services/**"]
    - id: ai-quiet-week
      start: 2026-06-01T00:00
      end: 2026-06-08T00:00
      timezone: Europe/Berlin
      ai_assisted: {only: true, emergency: false}
rules: []
"""
SATURDAY = "2026-03-28T12:00:00+01:00"
TUESDAY = "2026-03-31T12:00:00+02:00"


def freeze_repo(builder: RepoBuilder, path: str = "services/api.py", message: str = "Change the API") -> str:
    base = builder.head()
    builder.commit(message, {path: "x = 1\n"})
    return base


def test_a_change_inside_a_window_fails_the_default_rule_and_outside_passes(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "freeze.yml"
    policy.write_text(FREEZE_POLICY, encoding="utf-8")
    base = freeze_repo(repo)
    inside = judge_range(repo, base, "HEAD", str(policy), "--now", SATURDAY)
    freeze_rule = next(r for r in inside["rules"] if r["id"] == "release-freeze")
    assert inside["verdict"] == "fail" and freeze_rule["status"] == "fail"
    assert freeze_rule["unmet"][0]["question"] == "freeze"
    assert freeze_rule["unmet"][0]["reasons"] == [
        "frozen by weekend (from 2026-03-27 18:00 until 2026-03-30 08:00, Europe/Berlin)",
        "label 'freeze-exception' is missing",
        "0 of 1 verified approvals by @rita or @sam",
    ]
    assert inside["freeze"]["frozen"] is True and inside["freeze"]["windows"][0]["id"] == "weekend"
    assert inside["freeze"]["emergency"]["taken"] is False
    outside = judge_range(repo, base, "HEAD", str(policy), "--now", TUESDAY)
    assert outside["verdict"] == "pass" and outside["freeze"]["frozen"] is False
    text = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", str(policy), "--now", SATURDAY)
    assert "frozen at 2026-03-28T12:00+01:00 by weekend (from 2026-03-27 18:00 until 2026-03-30 08:00" in text.stdout
    markdown = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", str(policy), "--now", SATURDAY,
                       "--format", "markdown").stdout
    assert "#### ❄️ Release freeze" in markdown and "frozen at 2026-03-28T12:00+01:00 by weekend" in markdown
    assert "emergency path: label `freeze-exception` and 1 verified approval by @rita or @sam" in text.stdout


def test_a_window_limited_to_paths_leaves_other_changes_alone(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "freeze.yml"
    policy.write_text(FREEZE_POLICY, encoding="utf-8")
    base = freeze_repo(repo, "docs/guide.md", "Docs")
    data = judge_range(repo, base, "HEAD", str(policy), "--now", SATURDAY)
    assert data["verdict"] == "pass" and data["freeze"]["frozen"] is False


def test_an_ai_only_window_freezes_ai_assisted_changes(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "freeze.yml"
    policy.write_text(FREEZE_POLICY, encoding="utf-8")
    base = freeze_repo(repo, "docs/guide.md", "Docs")
    assert judge_range(repo, base, "HEAD", str(policy), "--now", "2026-06-03T12:00:00Z")["freeze"]["frozen"] is False
    repo.commit("Docs by an agent" + AI_TRAILER, {"docs/guide.md": "y\n"})
    data = judge_range(repo, base, "HEAD", str(policy), "--now", "2026-06-03T12:00:00Z")
    assert data["freeze"]["windows"][0]["id"] == "ai-quiet-week" and data["verdict"] == "fail"


def test_attack_offline_a_label_and_a_reviewed_by_trailer_do_not_lift_a_freeze(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "freeze.yml"
    policy.write_text(FREEZE_POLICY, encoding="utf-8")
    base = repo.head()
    repo.commit("Hotfix the API\n\nReviewed-by: Rita Release <rita@example.com>", {"services/api.py": "x = 2\n"})
    control = judge_range(repo, base, "HEAD", str(policy), "--now", SATURDAY)
    assert control["verdict"] == "fail"
    attack = judge_range(repo, base, "HEAD", str(policy), "--now", SATURDAY, "--label", "freeze-exception")
    assert attack["verdict"] == "fail" and attack["freeze"]["emergency"]["label_present"] is True
    reasons = next(r for r in attack["rules"] if r["id"] == "release-freeze")["unmet"][0]["reasons"]
    assert reasons[-1] == "0 of 1 verified approvals by @rita or @sam"


def test_release_window_reads_the_tag_date_from_git(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "release.yml"
    policy.write_text("version: 1\nextends: default\nrules: []\nfreezes:\n  windows:\n    - id: v2\n"
                      "      release: {planned: 2026-07-01T12:00, tag: v2.0.0}\n      before: 48h\n      after: 24h\n"
                      "      timezone: Europe/Berlin\n", encoding="utf-8")
    base = freeze_repo(repo)
    assert judge_range(repo, base, "HEAD", str(policy), "--now", "2026-07-10T00:00:00Z")["verdict"] == "fail"  # no tag: open
    env = {**os.environ, "GIT_COMMITTER_DATE": "2026-07-02T09:00:00+00:00", "GIT_COMMITTER_NAME": "R", "GIT_COMMITTER_EMAIL": "r@x"}
    subprocess.run(["git", "tag", "-a", "v2.0.0", "-m", "2.0.0", base], cwd=repo.path, env=env, check=True)
    assert judge_range(repo, base, "HEAD", str(policy), "--now", "2026-07-03T08:59:00Z")["verdict"] == "fail"
    after = judge_range(repo, base, "HEAD", str(policy), "--now", "2026-07-03T09:00:00Z")
    assert after["verdict"] == "pass" and after["freeze"]["frozen"] is False


def test_policy_explain_lists_freezes_and_what_holds_now(tmp_path: Path) -> None:
    policy = tmp_path / "freeze.yml"
    policy.write_text(FREEZE_POLICY, encoding="utf-8")
    result = run_cli("policy", "explain", "--policy", str(policy), "--now", SATURDAY)
    assert result.code == 0, result.stderr
    assert ("weekend: every `0 18 * * FRI` for 62h (Europe/Berlin) for changes touching services/**  "
            "[in force until 2026-03-30 08:00 (Europe/Berlin)]") in result.stdout
    assert "ai-quiet-week: from 2026-06-01 00:00 to 2026-06-08 00:00 (Europe/Berlin); AI-assisted changes only" in result.stdout
    assert "emergency path: label `freeze-exception` and 1 verified approval by @rita or @sam" in result.stdout
    as_json = run_cli("policy", "explain", "--policy", str(policy), "--now", SATURDAY, "-f", "json").json()
    assert as_json["freezes"]["windows"][0]["in_force"].startswith("in force until")


# -- with a forge: the emergency path needs a verified approval by a named person -------------------------

def forge_freeze(tmp_path: Path, server: GitHubServer, labels: list[str], reviews: list[str], ai: bool = False) -> dict:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Initial commit", {"README.md": "# Hello World\n", ".govgate.yml": FREEZE_POLICY})
    base = builder.head()
    builder.branch("changes")
    builder.commit("Hotfix the API" + (AI_TRAILER if ai else ""), {"services/api.py": "x = 2\n"})
    head = builder.head()
    serve_evidence(server, head, reviews=[review(login, "APPROVED", head) for login in reviews])
    event = pull_request_event(base, head, labels=[{"name": name} for name in labels])
    env = actions_env(server, "pull_request", write_event(tmp_path, event))
    result = run_cli("check", "--format", "json", "--now", SATURDAY, cwd=builder.path, env=env)
    assert result.code in (0, 1), result.stderr
    return result.json()


def test_forge_control_label_and_a_named_verified_approval_take_the_emergency_path(
        tmp_path: Path, github_server: GitHubServer) -> None:
    data = forge_freeze(tmp_path, github_server, ["freeze-exception"], ["Rita"])
    assert data["verdict"] == "pass", data["rules"]
    emergency = data["freeze"]["emergency"]
    assert emergency == {"label": "freeze-exception", "approvers": ["@rita", "@sam"], "approvals_needed": 1,
                         "label_present": True, "approved_by": ["rita"], "open": True, "taken": True}


@pytest.mark.parametrize(("labels", "reviews", "ai", "why"), [
    (["freeze-exception"], [], False, "label without approval"),
    (["freeze-exception"], ["bob"], False, "approval by someone not named"),
    ([], ["rita"], False, "approval without the label"),
])
def test_forge_attack_the_emergency_path_needs_both_halves(
        tmp_path: Path, github_server: GitHubServer, labels: list[str], reviews: list[str], ai: bool, why: str) -> None:
    data = forge_freeze(tmp_path, github_server, labels, reviews, ai)
    assert data["verdict"] == "fail", why
    assert data["freeze"]["emergency"]["taken"] is False


def test_forge_a_window_can_close_the_emergency_path_for_ai_assisted_changes(
        tmp_path: Path, github_server: GitHubServer) -> None:
    control = forge_freeze(tmp_path / "control", github_server, ["freeze-exception"], ["rita"], ai=True)
    assert control["verdict"] == "pass", control["rules"]  # the weekend window leaves it open
    # Inside the AI quiet week the same label and approval do not lift the freeze.
    builder_dir = tmp_path / "attack"
    data = forge_freeze(builder_dir, github_server, ["freeze-exception"], ["rita"], ai=True)
    assert data["freeze"]["windows"][0]["id"] == "weekend"
    quiet = run_cli("check", "--format", "json", "--now", "2026-06-03T12:00:00Z", cwd=builder_dir / "repo",
                    env=actions_env(github_server, "pull_request", builder_dir / "event.json"))
    result = quiet.json()
    assert result["verdict"] == "fail" and result["freeze"]["emergency"]["open"] is False
    assert "the emergency path is closed for this change by the window" in next(
        r for r in result["rules"] if r["id"] == "release-freeze")["unmet"][0]["reasons"]
