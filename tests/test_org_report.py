"""govgate report: the audits of many repositories combined, from their JSON lines alone.

Three real repositories (two generated busy histories on different forges and a small local one)
are audited once; the repositories are then deleted, so the report can only have read the audits.
The README's DuckDB query is run on the same files and must give the report's numbers.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.audit_support import ROOT, audit
from tests.conftest import RepoBuilder, run_cli
from tests.report_support import busy_history

QUESTIONS = ("reviewed", "tested", "rollout", "rollback")


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("org")
    folder = root / "audits"
    folder.mkdir()
    widgets = busy_history(root / "widgets", changes=150, seed=3, span_days=200)
    billing = busy_history(root / "billing", changes=120, seed=4, remote="https://gitlab.example.com/platform/billing.git",
                           span_days=200)
    tools = RepoBuilder(root / "tools")
    tools.commit("Initial commit", {"README.md": "x\n"})
    for number in range(4):
        tools.commit(f"Add script {number}\n\nCo-authored-by: Claude <noreply@anthropic.com>", {f"bin/s{number}.sh": "true\n"})
    for name, path in (("widgets", widgets.path), ("billing", billing.path), ("tools", tools.path)):
        result = audit(path, "--format", "json", "--output", str(folder / f"{name}.jsonl"))
        assert result.code == 0, result.stderr
        shutil.rmtree(path)  # the report must not need the history
    return folder


def report(*args: str, stdin: str | None = None) -> Any:
    result = run_cli("report", *args, "--format", "json", input=stdin)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def summaries(folder: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for file in folder.glob("*.jsonl"):
        summary = json.loads(file.read_text().splitlines()[-1])
        found[summary["repository_name"]] = summary
    return found


def test_the_report_adds_up_the_audits(audits: Path) -> None:
    data = report(str(audits))
    by_audit = summaries(audits)
    assert data["schema"] == "govgate/report/v1"
    assert [r["repository"] for r in data["repositories"]] == ["acme/widgets", "platform/billing", "tools"]
    for row in data["repositories"]:
        totals = by_audit[row["repository"]]["totals"]
        for key in ("changes", "failing", "ai_assisted", "reverted_or_fixed", "ai_tools", "ai_vendors"):
            assert row[key] == totals[key], (row["repository"], key)
        for question in QUESTIONS:
            assert row["questions"][question] == totals["questions"][question]
    total = data["totals"]
    assert total["repositories"] == 3
    assert total["changes"] == sum(s["totals"]["changes"] for s in by_audit.values())
    assert total["ai_vendors"]["Anthropic"] == sum(s["totals"]["ai_vendors"].get("Anthropic", 0) for s in by_audit.values())
    for question in QUESTIONS:  # the share of all changes, not an average of the repositories' shares
        bad = sum(s["totals"]["questions"][question]["statuses"].get(k, 0) for s in by_audit.values()
                  for k in ("missing", "contradicted"))
        assert total["questions"][question]["compliance"] == round((total["changes"] - bad) / total["changes"], 4)
    months = {m["month"]: m["changes"] for m in data["months"]}
    assert sum(months.values()) == total["changes"]
    assert {r["repository"] for r in data["knowledge_loss"]} <= {"acme/widgets", "platform/billing", "tools"}
    caveats = {c["id"] for c in data["caveats"]}
    assert {"reviews_not_seen", "small_repositories", "large_merges"} <= caveats  # tools has 5 changes


def test_files_directories_stdin_and_concatenations_give_the_same_report(audits: Path, tmp_path: Path) -> None:
    files = sorted(str(p) for p in audits.glob("*.jsonl"))
    whole = tmp_path / "all.jsonl"
    whole.write_text("".join(Path(f).read_text() for f in files))
    expected = report(str(audits))
    for args, stdin in (((*files,), None), ((str(whole),), None), (("-",), whole.read_text()),
                        ((files[0], "-"), "".join(Path(f).read_text() for f in files[1:]))):
        got = report(*args, stdin=stdin)
        assert [r["changes"] for r in got["repositories"]] == [r["changes"] for r in expected["repositories"]], args
        assert got["totals"] == expected["totals"], args
    # Summaries alone (the last line of each audit) are enough.
    alone = tmp_path / "summaries.jsonl"
    alone.write_text("".join(Path(f).read_text().splitlines(keepends=True)[-1] for f in files))
    assert report(str(alone))["totals"] == expected["totals"]


def test_the_same_audit_twice_counts_once(audits: Path) -> None:
    one = sorted(audits.glob("*.jsonl"))[0]
    data = report(str(audits), str(one))
    assert data["totals"] == report(str(audits))["totals"]
    assert any(c["id"] == "duplicates" and str(one) in c["message"] for c in data["caveats"])


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_format_names_each_repository_and_what_to_read_with_care(audits: Path, fmt: str) -> None:
    result = run_cli("report", str(audits), "--format", fmt)
    assert result.code == 0, result.stderr
    for name in ("acme/widgets", "platform/billing", "tools"):
        assert name in result.stdout
    assert "audited from git history only" in result.stdout and "meets the policy" in result.stdout
    if fmt == "markdown":
        rows = [line for line in result.stdout.splitlines() if line.startswith("| acme/widgets (")]
        header = next(line for line in result.stdout.splitlines() if line.startswith("| repository |"))
        assert len(rows) == 1 and rows[0].count(" | ") == header.count(" | ")
    if fmt == "html":
        assert "default-src 'none'" in result.stdout and result.stdout.count("<svg") == 3


# -- bad input: one clear line naming the file and line, exit 2, never a traceback ----------------------------


def _bad(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _summary_line(audits: Path) -> str:
    return (audits / "tools.jsonl").read_text().splitlines()[-1]


@pytest.mark.parametrize(("case", "expected"), [
    ("garbage", r"bad\.jsonl:2: not JSON \(Expecting value at column 1\)"),
    ("array", r"bad\.jsonl:1: a JSON list, expected an object"),
    ("schema", r"bad\.jsonl:1: schema 'something/else' is neither"),
    ("wrong-type", r"bad\.jsonl:1: totals\.ai\.changes: 'many' is not of type 'integer'"),
    ("missing", r"bad\.jsonl:1: 'totals' is a required property"),
    ("truncated", r"bad\.jsonl: 2 change line\(s\) after the last summary"),
    ("lost-line", r"bad\.jsonl:5: the summary counts 5 changes .* but 4 change lines"),
    ("not-utf8", r"bad\.jsonl:1: not UTF-8 text"),
])
def test_bad_input_names_the_file_and_line(audits: Path, tmp_path: Path, case: str, expected: str) -> None:
    lines = (audits / "tools.jsonl").read_text().splitlines(keepends=True)
    summary = json.loads(lines[-1])
    texts: dict[str, str | bytes] = {
        "garbage": lines[-1] + "this is not json\n",
        "array": "[1, 2]\n",
        "schema": '{"schema": "something/else"}\n',
        "wrong-type": json.dumps({**summary, "totals": {**summary["totals"], "ai": {**summary["totals"]["ai"], "changes": "many"}}}),
        "missing": json.dumps({k: v for k, v in summary.items() if k != "totals"}),
        "truncated": "".join(lines[:2]),
        "lost-line": "".join(lines[1:]),
        "not-utf8": b"\xff\xfe{}\n",
    }
    bad = _bad(tmp_path, "bad.jsonl", texts[case])
    result = run_cli("report", str(audits), str(bad))
    assert result.code == 2
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    # --keep-going reports the good audits and lists the bad one under problems.
    kept = run_cli("report", str(audits), str(bad), "--keep-going", "--format", "json")
    assert kept.code == 0, kept.stderr
    data = json.loads(kept.stdout)
    assert data["totals"]["repositories"] == 3
    assert any(re.search(expected, p) for p in data["problems"]), data["problems"]


def test_missing_and_empty_inputs_are_clear_errors(tmp_path: Path) -> None:
    for args, expected in (((), "no input given"), ((str(tmp_path / "nope.jsonl"),), "no such file or directory"),
                           ((str(tmp_path),), "no .jsonl, .ndjson, .json files in this directory")):
        result = run_cli("report", *args)
        assert result.code == 2 and expected in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    empty = _bad(tmp_path, "empty.jsonl", "\n")
    result = run_cli("report", str(empty))
    assert result.code == 2 and "no govgate/audit/v1 summary in the input" in result.stderr


# -- the README's DuckDB query ----------------------------------------------------------------------------------


def readme_query() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- duckdb-summary-query -->\s*```sql\n(.*?)```", text, re.DOTALL)
    assert match, "README lost its DuckDB query"
    return match.group(1)


def test_the_readme_duckdb_query_reproduces_the_report(audits: Path) -> None:
    query = readme_query()
    assert "'audits/*.jsonl'" in query
    rows = duckdb.sql(query.replace("'audits/*.jsonl'", f"'{audits.as_posix()}/*.jsonl'")).fetchall()
    data = report(str(audits))
    expected = []
    for r in data["repositories"]:
        both = [r["ai"][k] + r["other"][k] for k in ("unreviewed",)]
        expected.append((r["repository"], r["changes"], r["ai_assisted"], r["ai_share"], r["failing"], both[0],
                         *(r["questions"][q]["compliance"] for q in QUESTIONS), r["reverted_or_fixed"]))
    assert len(rows) == len(expected) == 3
    for got, want in zip(rows, expected, strict=True):
        assert got[:3] == want[:3] and got[4:6] == want[4:6] and got[-1] == want[-1], (got, want)
        for a, b in zip(got[3:4] + got[6:10], want[3:4] + want[6:10], strict=True):
            assert a == pytest.approx(b, abs=1e-4), (got, want)
