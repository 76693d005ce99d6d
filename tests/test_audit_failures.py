"""The change-failure tracker: references to older changes settle on the change whose commit they name."""

from __future__ import annotations

from govgate.audit.failures import ChangeRefs, FailureTracker

OLD = "abcdef1234" + "0" * 30
NEIGHBOUR = "abcdef1299" + "0" * 30  # shares the first 8 hex digits with OLD


def _refs(change_id: str, shas: list[str], mentions: list[tuple[str, str]] = ()) -> ChangeRefs:  # type: ignore[assignment]
    return ChangeRefs(change_id, shas, None, list(mentions), [])


def test_a_reference_settles_only_on_the_commit_its_prefix_names() -> None:
    tracker = FailureTracker()
    tracker.observe(_refs("newest", ["f" * 40], [("fix", "abcdef123"), ("revert", "abcdef1299")]))
    assert tracker.pending == 2
    neighbour = tracker.observe(_refs("neighbour", [NEIGHBOUR]))
    assert (neighbour.reverted_by, neighbour.fixed_by) == (["newest"], [])
    old = tracker.observe(_refs("old", [OLD]))
    assert (old.reverted_by, old.fixed_by) == ([], ["newest"]) and tracker.pending == 0


def test_references_settle_in_a_stable_order_whatever_their_prefix_lengths() -> None:
    # Settled by prefix length as first seen, then by the named commit, then by arrival: the order
    # the audit's reverted_by and fixed_by lists are written in.
    tracker = FailureTracker()
    tracker.observe(_refs("c3", ["3" * 40], [("fix", OLD[:12])]))
    tracker.observe(_refs("c2", ["2" * 40], [("fix", OLD[:7]), ("fix", NEIGHBOUR[:12])]))
    tracker.observe(_refs("c1", ["1" * 40], [("fix", OLD[:12]), ("fix", OLD[:12])]))  # a repeat counts once
    assert tracker.pending == 4
    merged = tracker.observe(_refs("merge", [NEIGHBOUR, OLD]))
    assert merged.fixed_by == ["c2", "c3", "c1"]  # 12-digit: NEIGHBOUR's c2, then OLD's c3, c1; 7-digit: c2 again
    assert tracker.pending == 0
