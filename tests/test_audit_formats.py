"""Audit outputs: the JSON lines contract, CSV, Markdown and text that parse, and an HTML report that renders."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from govgate.sources.merge_messages import commit_url, web_url
from tests.audit_support import audit, audit_json, generate, git


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("formats") / "repo"
    truth = generate(path, 160, seed=23, initial_files=80)
    git(path, "remote", "add", "origin", "git@github.com:acme/widgets.git")
    return path, truth


def test_json_lines_contract(history: tuple[Path, object]) -> None:
    path, truth = history
    result = audit(path, "--format", "json")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    objects = [json.loads(line) for line in lines]  # every line is one JSON object
    *changes, summary = objects
    assert len(changes) == truth.changes  # type: ignore[attr-defined]
    for item in changes:
        assert item["schema"] == "govgate/check/v1"
        assert item["verdict"] in ("pass", "fail")
        change = item["change"]
        assert re.fullmatch(r"[0-9a-f]{40}", change["sha"])
        assert change["date"] and change["author"] and change["subject"]
        assert set(item["questions"]) == {"reviewed", "tested", "rollout", "rollback"}
        assert set(item["audit"]) == {"reverted_by", "fixed_by", "large_merge", "repository"}
        assert item["audit"]["repository"] == "acme/widgets"
    dates = [c["change"]["date"] for c in changes]
    assert dates == sorted(dates, reverse=True)  # newest first, as the branch's first-parent line
    assert summary["schema"] == "govgate/audit/v1"
    assert summary["repository"] == "https://github.com/acme/widgets"
    assert summary["repository_name"] == "acme/widgets"
    assert summary["policy_origin"]["kind"] == "preset" and summary["govgate_version"]
    assert set(summary["thresholds"]) == {"min_month_changes", "large_merge_commits"}
    assert all(set(c) == {"id", "message"} for c in summary["caveats"])
    assert summary["totals"]["changes"] == len(changes)
    assert summary["totals"]["failing"] == sum(c["verdict"] == "fail" for c in changes)
    assert summary["totals"]["ai_assisted"] == sum(c["ai_assisted"] for c in changes)
    months = summary["months"]
    assert [m["month"] for m in months] == sorted(m["month"] for m in months)
    assert sum(m["ai_assisted"] for m in months) == summary["totals"]["ai_assisted"]
    for question in ("reviewed", "tested", "rollout", "rollback"):
        assert 0 <= summary["totals"]["questions"][question]["compliance"] <= 1
    for row in summary["worst"]:
        assert row["url"] == f"https://github.com/acme/widgets/commit/{row['sha']}"
    assert set(summary["knowledge_loss"]) >= {"window_days", "paths", "history_before_window"}


def test_csv_rows_parse(history: tuple[Path, object]) -> None:
    path, truth = history
    result = audit(path, "--format", "csv")
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == truth.changes  # type: ignore[attr-defined]
    changes, _ = audit_json(path)
    for row, item in zip(rows, changes, strict=True):
        assert row["sha"] == item["change"]["sha"]
        assert row["verdict"] == item["verdict"]
        assert row["ai_assisted"] == ("true" if item["ai_assisted"] else "false")
        assert row["reviewed"] == item["questions"]["reviewed"]["status"]
        assert row["reverted_by"] == ";".join(item["audit"]["reverted_by"])
        assert row["url"].endswith(item["change"]["sha"])


def test_markdown_tables_parse(history: tuple[Path, object]) -> None:
    path, _ = history
    result = audit(path, "--format", "markdown")
    assert result.code == 0, result.stderr
    _, summary = audit_json(path)
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in result.stdout.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            current.append(cells)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    assert len(tables) >= 3
    for table in tables:
        assert set(table[1]) == {"---"}
        assert len({len(row) for row in table}) == 1, table[0]
    totals = {row[0]: row for row in tables[0]}
    assert totals["changes"][1] == str(summary["totals"]["changes"])
    compliance = {row[0]: row for row in tables[1]}
    assert compliance["reviewed"][1].startswith(str(summary["totals"]["questions"]["reviewed"]["asked"]))
    by_month = tables[2]
    assert len(by_month) - 2 == len(summary["months"])
    if summary["worst"]:
        assert "https://github.com/acme/widgets/commit/" in result.stdout


def test_text_summary(history: tuple[Path, object]) -> None:
    path, truth = history
    result = audit(path)
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.startswith("govgate audit of acme/widgets, main at ")
    assert f": {truth.changes} changes" in text.splitlines()[0]  # type: ignore[attr-defined]
    changes_row = next(line for line in text.splitlines() if line.startswith("changes "))
    ai = truth.ai_changes  # type: ignore[attr-defined]
    assert changes_row.split()[1:3] == [str(truth.changes), str(ai)]  # type: ignore[attr-defined]
    assert "by month" in text and "change-failure signal" in text
    assert re.search(r"^worst offenders \(\d+ of \d+ failing\):$", text, re.MULTILINE)


def test_forge_links() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert web_url("git@github.com:acme/widgets.git") == "https://github.com/acme/widgets"
    assert web_url("ssh://git@gitlab.example.com:2222/group/sub/app.git") == "https://gitlab.example.com/group/sub/app"
    assert web_url("https://x-access-token:SECRET@github.com/acme/widgets.git") == "https://github.com/acme/widgets"
    assert web_url("/srv/git/widgets.git") is None and web_url("file:///srv/git/widgets.git") is None
    assert commit_url("https://gitlab.com/g/app", sha) == f"https://gitlab.com/g/app/-/commit/{sha}"
    assert commit_url("https://github.com/acme/widgets", sha) == f"https://github.com/acme/widgets/commit/{sha}"


def test_html_is_self_contained(history: tuple[Path, object], tmp_path: Path) -> None:
    path, _ = history
    git(path, "remote", "set-url", "origin", "https://bot:TOKEN123@github.com/acme/widgets.git")
    try:
        report = tmp_path / "audit.html"
        assert audit(path, "--format", "html", "--output", str(report)).code == 0
    finally:
        git(path, "remote", "set-url", "origin", "git@github.com:acme/widgets.git")
    html = report.read_text()
    assert "TOKEN123" not in html
    assert "default-src 'none'" in html
    assert not re.search(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?https?:""", html)
    assert re.search(r'href="https://github.com/acme/widgets/commit/[0-9a-f]{40}"', html)
    assert html.count("<svg") == 7  # changes per month, four questions, AI-assisted share, change-failure signal
