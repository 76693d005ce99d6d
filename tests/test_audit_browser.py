"""The HTML audit report in headless Chromium: it renders, every chart series shows, no label overlaps another.

The browser is driven over the DevTools protocol (``tests/browser.py``). A report of a busy
generated history is loaded once; the tests read the layout Chromium computed (bounding boxes of
every chart text) and the pixels it painted (each series' own colour inside its chart's plot
area, so a series drawn behind another would count none). Screenshots are left in the test
artefacts folder ($GOVGATE_TEST_ARTIFACTS, else build/test-artifacts) for people to look at.
Each check is also run on a page built to fail it, so that none passes blind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govgate.formats.audit.svg import Series, line_chart
from tests.audit_support import audit
from tests.browser import CHART_GEOMETRY, Browser, Page, colour_counts, overlapping
from tests.conftest import run_cli
from tests.report_support import artifacts_dir, busy_history

MIN_SERIES_PIXELS = 40  # a visible line or a row of markers paints far more than this in its own colour


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


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    session = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    yield session
    session.close()


@pytest.fixture(scope="module")
def scratch(browser: Browser) -> Page:
    """A blank tab (no Content-Security-Policy) where screenshots are decoded."""
    return browser.open("about:blank")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busy_history(tmp_path_factory.mktemp("report") / "widgets").path


@pytest.fixture(scope="module")
def report(history: Path) -> Path:
    page = history.parent / "audit.html"
    result = audit(history, "--format", "html", "--output", str(page))
    assert result.code == 0, result.stderr
    return page


def _load(browser: Browser, page: Path, width: int = 1200) -> tuple[Page, bytes, list[dict[str, Any]]]:
    tab = browser.open(page.as_uri(), width=width)
    return tab, tab.screenshot(), tab.evaluate(CHART_GEOMETRY)


def hidden_series(scratch: Page, png: bytes, charts: list[dict[str, Any]]) -> list[str]:
    """Series that have marks but paint (almost) none of their own colour inside their chart's plot area."""
    regions = [(chart["plot"], [s["colour"] for s in chart["series"]]) for chart in charts]
    hidden = []
    for chart, counts in zip(charts, colour_counts(scratch, png, regions), strict=True):
        for series in chart["series"]:
            if series["marks"] and counts[series["colour"]] < MIN_SERIES_PIXELS:
                hidden.append(f"{chart['title']}: {series['name']} ({counts[series['colour']]} px)")
    return hidden


def misplaced_labels(charts: list[dict[str, Any]]) -> list[str]:
    """Overlapping text boxes, and text drawn outside its chart."""
    found = [f"{chart['title']}: {a!r} overlaps {b!r}" for chart in charts for a, b in overlapping(chart["texts"])]
    for chart in charts:
        box = chart["box"]
        for text in chart["texts"]:
            t = text["box"]
            if t["x"] < box["x"] - 0.5 or t["x"] + t["width"] > box["x"] + box["width"] + 0.5:
                found.append(f"{chart['title']}: {text['text']!r} sticks out of the chart")
    return found


@pytest.mark.parametrize("width", [1200, 800])
def test_the_report_renders_every_series_visibly_with_no_label_overlap(browser: Browser, scratch: Page, report: Path,
                                                                       width: int) -> None:
    tab, png, charts = _load(browser, report, width)
    try:
        (artifacts_dir() / f"audit-report-{width}px.png").write_bytes(png)
        assert tab.console_errors() == []
        titles = [c["title"] for c in charts]
        assert titles[0] == "Changes per month"
        assert sum(t.endswith("meets the policy and evidence found, by month") for t in titles) == 4  # small multiples
        # Not vacuous: every series of every chart has points in this history.
        assert all(s["marks"] > 0 for c in charts for s in c["series"]), [(c["title"], c["series"]) for c in charts]
        assert hidden_series(scratch, png, charts) == []
        assert misplaced_labels(charts) == []
        assert tab.evaluate("document.querySelector('#failing th').classList.contains('sortable')")  # the table script ran
        assert tab.evaluate("document.querySelectorAll('#caveats li').length") >= 3
    finally:
        tab.close()


def test_the_organisation_report_renders_too(browser: Browser, scratch: Page, history: Path) -> None:
    audits = history.parent / "audits"
    audits.mkdir(exist_ok=True)
    for name in ("acme/widgets", "acme/gadgets"):
        result = audit(history, "--format", "json", "--repo-name", name, "--output", str(audits / f"{name.replace('/', '_')}.jsonl"))
        assert result.code == 0, result.stderr
    page = history.parent / "org.html"
    result = run_cli("report", str(audits), "--format", "html", "--output", str(page))
    assert result.code == 0, result.stderr
    tab, png, charts = _load(browser, page)
    try:
        (artifacts_dir() / "org-report-1200px.png").write_bytes(png)
        assert tab.console_errors() == []
        assert len(charts) == 3 and all(s["marks"] > 0 for c in charts for s in c["series"])
        assert hidden_series(scratch, png, charts) == []
        assert misplaced_labels(charts) == []
        assert tab.evaluate("document.querySelectorAll('#repositories tbody tr').length") == 3  # two and the total
    finally:
        tab.close()


def test_a_series_hidden_behind_another_is_caught(browser: Browser, scratch: Page, tmp_path: Path) -> None:
    """ATTACK on the pixel check: two equal series drawn the old way (same solid line, no markers); the lower one is gone.
    CONTROL: the same data drawn by the report's line_chart (dashes and hollow markers) shows both."""
    labels = [f"2026-{m:02d}" for m in range(1, 13)]
    values = [0.9, 0.95, 1.0, 1.0, 0.97, 0.9, 0.92, 1.0, 0.96, 0.93, 0.99, 1.0]
    old = line_chart("old style", labels, [Series("under", "#16a34a", values, dash="", marker="circle"),
                                          Series("over", "#9333ea", values, dash="", marker="circle")])
    new = line_chart("new style", labels, [Series("under", "#16a34a", values, dash="", marker="circle"),
                                          Series("over", "#9333ea", values, dash="6 4", marker="square")])
    for name, svg, expected in (("old", old, ["old style: under"]), ("new", new, [])):
        page = tmp_path / f"{name}.html"
        page.write_text(f"<!DOCTYPE html><html><body>{svg}</body></html>")
        tab, png, charts = _load(browser, page)
        try:
            assert [h.split(" (")[0] for h in hidden_series(scratch, png, charts)] == expected, name
        finally:
            tab.close()


def test_overlapping_labels_are_caught(browser: Browser, tmp_path: Path) -> None:
    """ATTACK on the layout check: month labels on every slot of a crowded axis. CONTROL: the report's thinned axis."""
    labels = [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 13)]
    crowded = line_chart("crowded", labels, [Series("s", "#2563eb", [0.5] * len(labels))])
    for index, label in enumerate(labels):  # draw the labels the thinning left out back in
        x = 48 + (760 - 48 - 16) * (index + 0.5) / len(labels)
        crowded = crowded.replace("</svg>", f'<text x="{x:.1f}" y="234" text-anchor="middle" class="tick">{label}</text></svg>')
    thinned = line_chart("thinned", labels, [Series("s", "#2563eb", [0.5] * len(labels))])
    page = tmp_path / "labels.html"
    page.write_text(f"<!DOCTYPE html><html><body>{crowded}{thinned}</body></html>")
    tab, _, charts = _load(browser, page)
    try:
        problems = misplaced_labels(charts)
        assert any(p.startswith("crowded:") for p in problems)
        assert not any(p.startswith("thinned:") for p in problems)
    finally:
        tab.close()


def test_console_errors_and_blocked_requests_are_caught(browser: Browser, tmp_path: Path) -> None:
    """The console scan is not blind: a script error, and a request the report's Content-Security-Policy refuses."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "script-src 'unsafe-inline'\"></head><body><img src=\"https://example.invalid/x.png\">"
                    "<script>undefinedFunction();</script></body></html>")
    tab = browser.open(page.as_uri())
    try:
        errors = tab.console_errors()
        assert any("undefinedFunction" in e for e in errors), errors
        assert any("Content Security Policy" in e for e in errors), errors
    finally:
        tab.close()
