"""Audit outputs: the JSON lines contract, CSV, Markdown and text that parse, and an HTML report that renders."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
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
        assert set(item["audit"]) == {"reverted_by", "fixed_by"}
    dates = [c["change"]["date"] for c in changes]
    assert dates == sorted(dates, reverse=True)  # newest first, as the branch's first-parent line
    assert summary["schema"] == "govgate/audit/v1"
    assert summary["repository"] == "https://github.com/acme/widgets"
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
    by_month = tables[1]
    assert len(by_month) - 2 == len(summary["months"])
    if summary["worst"]:
        assert "https://github.com/acme/widgets/commit/" in result.stdout


def test_text_summary(history: tuple[Path, object]) -> None:
    path, truth = history
    result = audit(path)
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"govgate audit: HEAD: {truth.changes} changes")  # type: ignore[attr-defined]
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
    assert html.count("<svg") == 3


# -- the report in a real browser --------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("Chromium is not installed and installing it (apt-get install chromium) needs root")
    try:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=600, check=False)
        install = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, text=True, timeout=1200,
                                 env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"Chromium could not be installed: {exc}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("Chromium could not be installed: " + (install.stderr.strip().splitlines() or ["apt-get failed"])[-1])
    return found


def _browse(chromium: str, page: Path, tmp_path: Path, *mode: str) -> tuple[str, list[str]]:
    """Run headless Chromium on a local page; return stdout and the page's console messages."""
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *mode, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return result.stdout, console


def test_html_report_renders_in_chromium(history: tuple[Path, object], tmp_path: Path, chromium: str) -> None:
    path, _ = history
    report = tmp_path / "audit.html"
    assert audit(path, "--format", "html", "--output", str(report)).code == 0

    shot = tmp_path / "audit.png"
    _, console = _browse(chromium, report, tmp_path, "--window-size=1200,2600", f"--screenshot={shot}")
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert console == []

    dom, console = _browse(chromium, report, tmp_path, "--dump-dom")
    assert console == []
    charts = re.findall(r'<div class="chart" id="(chart-[a-z-]+)">(<svg.*?</svg>)</div>', dom, re.DOTALL)
    assert [name for name, _ in charts] == ["chart-compliance", "chart-ai-share", "chart-failure"]
    for name, svg in charts:
        assert len(re.findall(r"<(?:path|circle|rect)\b", svg)) > 10, name
    assert re.search(r'<path d="M[\d.]+,[\d.]+(?: L[\d.]+,[\d.]+)+"', charts[0][1])
    assert 'class="sortable"' in dom  # the table script ran


def test_chromium_check_catches_console_errors(tmp_path: Path, chromium: str) -> None:
    """The console scan above is not blind: a page with a script error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><svg><rect width='1' height='1'/></svg>"
                    "<script>undefinedFunction();</script></body></html>")
    _, console = _browse(chromium, page, tmp_path, "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console)
