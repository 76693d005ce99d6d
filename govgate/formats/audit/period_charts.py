"""The charts both HTML reports draw over periods (an audit's months, or an organisation's): changes per
month with the judging threshold, the AI-assisted share, and the change-failure signal by quarter."""

from __future__ import annotations

from collections.abc import Sequence

from govgate.audit.summary import Period
from govgate.audit.thresholds import MIN_MONTH_CHANGES
from govgate.formats.audit.svg import Series, bar_chart, count_chart, line_chart

AI_COLOUR, OTHER_COLOUR = "#db2777", "#475569"
COUNT_COLOUR = "#0f766e"
SHADED_NOTE = f"Shaded months had fewer than {MIN_MONTH_CHANGES} changes and are not judged."
FAILURE_NOTE = (f"Share of changes later reverted or fixed, by quarter (AI-assisted changes are too few in most months). "
                f"A point needs {MIN_MONTH_CHANGES} changes of its group in the quarter; shaded quarters had fewer than "
                f"{MIN_MONTH_CHANGES} changes in all.")


def changes_chart(title: str, months: Sequence[tuple[str, Period]]) -> str:
    return count_chart(title, [m for m, _ in months], [p.changes for _, p in months], COUNT_COLOUR, "changes",
                       threshold=MIN_MONTH_CHANGES, threshold_label=f"{MIN_MONTH_CHANGES} changes: fewer are not judged")


def ai_share_chart(title: str, months: Sequence[tuple[str, Period]]) -> str:
    return bar_chart(title, [m for m, _ in months], [p.ai_share for _, p in months], AI_COLOUR, "AI-assisted share",
                     unjudged=[not p.judged for _, p in months])


def failure_chart(title: str, quarters: Sequence[tuple[str, Period]]) -> str:
    return line_chart(
        title, [q for q, _ in quarters],
        [Series("AI-assisted", AI_COLOUR, [p.ai.failure_share if p.ai.judged else None for _, p in quarters], dash="",
                marker="circle"),
         Series("other", OTHER_COLOUR, [p.other.failure_share if p.other.judged else None for _, p in quarters],
                dash="6 4", marker="square")],
        unjudged=[not p.judged for _, p in quarters],
    )
