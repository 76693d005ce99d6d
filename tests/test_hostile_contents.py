"""Changed files that are huge or pathological: a bounded line diff and a "too large to inspect" ceiling.

Files are committed to real repositories; the CLI runs in a subprocess. Speed figures are in
``benchmarks/hostile_bench.py``; here only correctness and the outcome (never a silent skip).
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.limits import MAX_INSPECT_LINES
from govgate.linediff import added_line_indexes
from govgate.model import _added_lines
from tests.conftest import RepoBuilder, judge_range, run_cli


def rust_file(lines: int, test_at: int | None = None) -> str:
    body = ["let x = 1;"] * lines
    if test_at is not None:
        body.insert(test_at, "#[test]")
    return "\n".join(body) + "\n"


def test_a_file_of_identical_lines_is_diffed_exactly(repo: RepoBuilder) -> None:
    # Before: 12,000 identical lines took 21 s of CPU in difflib; now the diff anchors on the ends.
    repo.commit("Base", {"src/lib.rs": rust_file(12_000)})
    repo.commit("Add a test", {"src/lib.rs": rust_file(12_000, test_at=6_000)})
    data = judge_range(repo, "HEAD~1")
    tested = data["questions"]["tested"]["evidence"]
    # the inline #[test] is found at exactly the line it was added
    assert [(e["kind"], e["location"]) for e in tested] == [("tests-changed", {"path": "src/lib.rs", "line": 6001})]
    assert data["problems"] == []


def test_past_the_line_ceiling_a_file_is_reported_too_large_not_skipped(repo: RepoBuilder) -> None:
    repo.commit("Base", {"src/lib.rs": rust_file(MAX_INSPECT_LINES - 1), "src/big.rs": rust_file(MAX_INSPECT_LINES)})
    repo.commit("Grow", {"src/lib.rs": rust_file(MAX_INSPECT_LINES - 1, test_at=10),
                         "src/big.rs": rust_file(MAX_INSPECT_LINES, test_at=10)})
    result = run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", "--format", "json")
    data = result.json()
    # ATTACK: 100,001 lines: not read, and said aloud. A red flag could hide in what was not read,
    # so the change is not fully judged (exit 2), never a pass.
    detail = (f"too large to inspect: src/big.rs ({MAX_INSPECT_LINES + 1:,} lines, over the limit of "
              f"{MAX_INSPECT_LINES:,}); its contents were not checked")
    assert result.code == 2 and data["verdict"] == "incomplete", result.stderr
    assert data["incomplete"] == [{"kind": "content_too_large", "detail": detail}]
    assert detail in data["problems"] and "not fully judged" in result.stderr
    # CONTROL: 100,000 lines, at the ceiling: inspected, its added #[test] found at its line.
    tested = data["questions"]["tested"]["evidence"]
    assert {"path": "src/lib.rs", "line": 11} in [e["location"] for e in tested]
    text = run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", "--format", "text").stdout
    assert "too large to inspect: src/big.rs" in text


ACCEPT_GENERATED = (
    "version: 1\nextends: default\ninspection:\n  accept_too_large: [\"src/generated/**\"]\n"
    "rules:\n  - id: noop\n    severity: info\n    require: {tested: {any_of: [tests_changed]}}\n"
)


def test_the_policy_can_accept_too_large_files_on_named_paths_only(repo: RepoBuilder) -> None:
    big = rust_file(MAX_INSPECT_LINES + 5)
    repo.commit("Base", {".govgate.yml": ACCEPT_GENERATED, "src/generated/bundle.rs": rust_file(10),
                         "src/big.rs": rust_file(10)})
    repo.commit("Regenerate", {"src/generated/bundle.rs": big})
    result = run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", "--format", "json")
    data = result.json()
    # The path the base policy accepts: a note, not a gap.
    assert data["verdict"] != "incomplete" and data["incomplete"] == [], result.stderr
    assert any(n.startswith("not inspected: src/generated/bundle.rs (") and "inspection.accept_too_large" in n
               for n in data["notes"]), data["notes"]
    # CONTROL: the same kind of file on a path the policy does not name is still a gap.
    repo.commit("Grow", {"src/big.rs": big})
    other = run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", "--format", "json")
    assert other.code == 2 and other.json()["incomplete"][0]["kind"] == "content_too_large"
    # ATTACK: a change that adds the path to the policy itself is judged by the base policy.
    repo.commit("Widen", {".govgate.yml": ACCEPT_GENERATED.replace("src/generated/**", "src/**"),
                          "src/big.rs": rust_file(MAX_INSPECT_LINES + 9)})
    widened = run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", "--format", "json").json()
    assert widened["verdict"] in ("fail", "incomplete")  # never a pass
    assert [gap["kind"] for gap in widened["incomplete"]] == ["content_too_large"], widened["notes"]


def test_audit_reports_a_too_large_file_in_both_judging_paths(repo: RepoBuilder) -> None:
    repo.commit("Base", {"src/big.rs": rust_file(10)})
    repo.commit("Grow", {"src/big.rs": rust_file(MAX_INSPECT_LINES + 5, test_at=3)})
    for jobs in ("1", "2"):  # in this process, and in worker processes
        result = run_cli("audit", "--repo", str(repo.path), "--format", "json", "--jobs", jobs)
        assert result.code == 0, result.stderr
        changes = [json.loads(line) for line in result.stdout.splitlines() if '"govgate/check/v1"' in line]
        grown = next(c for c in changes if c["change"]["subject"] == "Grow")
        assert grown["verdict"] == "incomplete" and grown["incomplete"][0]["kind"] == "content_too_large", (jobs, grown)
        base = next(c for c in changes if c["change"]["subject"] == "Base")
        assert base["problems"] == [] and base["verdict"] != "incomplete"  # CONTROL


def test_added_lines_on_familiar_edits() -> None:
    assert _added_lines("a\nb\nc\n", "a\nx\nb\nc\ny\n") == [(2, "x"), (5, "y")]
    assert _added_lines("", "one\ntwo\n") == [(1, "one"), (2, "two")]
    assert _added_lines("a\nb\n", "a\nb\n") == []
    assert _added_lines("}\n}\n}\n", "}\n}\nnew\n}\n}\n") in ([(3, "new"), (4, "}")], [(3, "new")])
    moved = _added_lines("head\nA\nB\ntail\n", "head\nB\nA\ntail\n")
    assert len(moved) == 1  # one of the two swapped lines counts as added


lines = st.lists(st.sampled_from(["a", "b", "c", "}", "", "def f():", "x = 1"]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(old=lines, new=lines)
def test_unmatched_lines_leave_a_common_subsequence(old: list[str], new: list[str]) -> None:
    """Whatever the diff does not report as added must appear in the old file, in the same order."""
    added = set(added_line_indexes(old, new))
    kept = [line for j, line in enumerate(new) if j not in added]
    it = iter(old)
    assert all(any(line == candidate for candidate in it) for line in kept)


@settings(max_examples=100, deadline=None)
@given(old=lines, inserted=st.lists(st.text(alphabet="XYZ", min_size=3, max_size=5), min_size=1, max_size=5),
       where=st.integers(min_value=0))
def test_inserted_unique_lines_are_always_found(old: list[str], inserted: list[str], where: int) -> None:
    at = where % (len(old) + 1)
    new = old[:at] + inserted + old[at:]
    found = [new[j] for j in added_line_indexes(old, new)]
    assert all(line in found for line in inserted)


def test_the_budget_only_widens_what_counts_as_added() -> None:
    old = ["a", "b"] * 50
    new = ["b", "a"] * 50
    exact = set(added_line_indexes(old, new))
    starved = set(added_line_indexes(old, new, budget=10))
    assert exact < starved == set(range(100))


def deployment(bomb: bool) -> str:
    lines = ["apiVersion: apps/v1", "kind: Deployment", "metadata: {name: web}", "spec:",
             "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}"]
    if bomb:
        lines.append('  x0: &a0 ["lol"]')
        lines += [f"  x{i + 1}: &a{i + 1} [" + ",".join([f"*a{i}"] * 9) + "]" for i in range(9)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_in_a_changed_manifest_is_read_without_expanding_it(repo: RepoBuilder) -> None:
    # Before: `govgate check` on this file ran for minutes (387 million values once expanded).
    repo.commit("Deploy", {"k8s/web.yaml": deployment(bomb=False)})
    control = judge_range(repo, "HEAD~1")
    repo.commit("Deploy again", {"k8s/web.yaml": deployment(bomb=True)})
    attack = run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", "--format", "json", timeout=60)
    assert attack.code in (0, 1), attack.stderr
    # The same rollout evidence as the control: the document is read by the line scanner instead.
    kinds = {e["kind"] for e in json.loads(attack.stdout)["questions"]["rollout"]["evidence"]}
    assert kinds and kinds == {e["kind"] for e in control["questions"]["rollout"]["evidence"]}


def test_a_blob_past_the_byte_limit_is_skipped_unread(repo: RepoBuilder) -> None:
    from govgate.limits import MAX_INSPECT_BYTES

    line = "let x = 1; // " + "x" * 86 + "\n"  # 100 bytes: few lines, many bytes
    count = MAX_INSPECT_BYTES // len(line) + 10
    repo.commit("Base", {"src/big.rs": line * 10})
    repo.commit("Grow", {"src/big.rs": line * count + "#[test]\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", "--format", "json")
    gaps = result.json()["incomplete"]
    assert result.code == 2 and gaps[0]["kind"] == "content_too_large"
    assert f"bytes, over the limit of {MAX_INSPECT_BYTES:,}" in gaps[0]["detail"]
