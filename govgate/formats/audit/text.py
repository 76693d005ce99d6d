"""Text: a summary table (AI-assisted versus other changes), months, knowledge-loss paths, worst offenders."""

from __future__ import annotations

from typing import Any, TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.summary import GAPS, AuditSummary, Bucket, Period
from govgate.formats.audit import percent
from govgate.formats.audit.memory_sections import text_lines as memory_text_lines
from govgate.formats.escaping import terminal
from govgate.model import GOVERNANCE_QUESTIONS
from govgate.verdict import Verdict

WORST_SHOWN = 10
MONTHS_SHOWN = 24
ROW_LABELS = {
    "failing": "failing the policy",
    "incomplete": "not fully judged",
    "unreviewed": "unreviewed",
    "untested": "untested",
    "without_rollout": "no rollout evidence",
    "without_rollback": "no rollback evidence",
    "reverted": "reverted later",
    "fixed": "fixed later",
    "failure_signal": "change-failure signal",
}


class TextWriter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def change(self, verdict: Verdict, facts: ChangeFacts) -> None:
        return None  # a summary format

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(render_summary(summary))


def render_summary(summary: AuditSummary) -> str:
    lines = [_headline(summary)]
    if not summary.changes:
        lines.append("no changes in this range" + _filters(summary))
        lines.extend(_problems(summary))
        return _joined(lines)
    total = summary.total
    lines += ["", *_table(total).split("\n"), ""]
    if total.tools:
        lines.append("AI tools: " + ", ".join(f"{tool} {count}" for tool, count in total.tools.most_common()))
    # Compliance is judged against the policy (required and not missing, no red flag); the
    # "unreviewed"/"untested" rows above count evidence whatever the policy asks.
    lines.append("meets the policy: " + "   ".join(f"{q.value} {percent(total.compliance(q))}" for q in GOVERNANCE_QUESTIONS)
                 + "   (no red flag, and present where a rule asked for it)")
    lines += ["", *_months(summary)]
    lines += _knowledge(summary)
    lines += memory_text_lines(summary)
    lines += _waivers(summary)
    lines += _worst(summary)
    lines += _problems(summary)
    return _joined(lines)


def _joined(lines: list[str]) -> str:
    """One line per item: a path or title holding a newline or escape sequence is shown escaped."""
    return "\n".join(terminal(line) for line in lines) + "\n"


def _headline(summary: AuditSummary) -> str:
    span = f" from {summary.oldest[:10]} to {summary.newest[:10]}" if summary.newest and summary.oldest else ""
    count = summary.changes
    return (f"govgate audit: {summary.range_label}: {count} change{'s' if count != 1 else ''}{span}"
            f"  (policy: {summary.policy_description}, fail on: {summary.fail_on})")


def _filters(summary: AuditSummary) -> str:
    parts = []
    if summary.since:
        parts.append(f"since {summary.since.isoformat()}")
    if summary.until:
        parts.append(f"until {summary.until.isoformat()}")
    if summary.paths:
        parts.append("touching " + ", ".join(summary.paths))
    return f" ({'; '.join(parts)})" if parts else ""


def _cell(bucket: Bucket, name: str) -> str:
    values = {"failing": bucket.failing, "incomplete": bucket.incomplete, "reverted": bucket.reverted, "fixed": bucket.fixed,
              "failure_signal": bucket.failed_later, **{n: bucket.gaps[n] for n in GAPS}}
    value = values[name]
    return f"{value} ({percent(value / bucket.changes)})" if bucket.changes else "-"


def _table(total: Period) -> str:
    both = total.combined()
    rows = [("", "all changes", "AI-assisted", "other"),
            ("changes", str(total.changes), f"{total.ai.changes} ({percent(total.ai.changes / total.changes)})",
             str(total.other.changes))]
    rows += [(label, _cell(both, name), _cell(total.ai, name), _cell(total.other, name)) for name, label in ROW_LABELS.items()]
    return _grid(rows)


def _months(summary: AuditSummary) -> list[str]:
    months = summary.sorted_months()
    shown = months[-MONTHS_SHOWN:]
    header = ("month", "changes", "AI", "failing", "unreviewed AI/other", "untested AI/other", "failure signal AI/other")
    rows = [header]
    for month, period in reversed(shown):
        rows.append((
            month, str(period.changes), percent(period.ai.changes / period.changes if period.changes else None),
            str(period.ai.failing + period.other.failing),
            _pair(period, "unreviewed"), _pair(period, "untested"), _pair(period, "failure_signal"),
        ))
    title = f"by month (newest first{', last ' + str(MONTHS_SHOWN) if len(months) > MONTHS_SHOWN else ''}):"
    return [title, *_grid(rows).split("\n"), ""]


def _pair(period: Period, name: str) -> str:
    def one(bucket: Bucket) -> str:
        if not bucket.changes:
            return "-"
        value = bucket.failed_later if name == "failure_signal" else bucket.gaps[name]
        return percent(value / bucket.changes)

    return f"{one(period.ai)} / {one(period.other)}"


def _knowledge(summary: AuditSummary) -> list[str]:
    data = summary.knowledge.to_dict()
    if not data["paths"]:
        return []
    lines = [f"knowledge-loss paths (changes since {data['window_start']}, the last {data['window_days']} days):"]
    for row in data["paths"]:
        newcomers = percent(row["newcomer_share"]) if row["newcomer_share"] is not None else "unknown"
        lines.append(f"  {row['path']}: {row['recent_changes']} changes, {percent(row['ai_share'])} AI-assisted, "
                     f"{newcomers} by authors new to it ({', '.join(row['reasons'])})")
    if not data["history_before_window"]:
        lines.append("  (the audited range holds nothing older than the window: newcomers cannot be told apart)")
    return [*lines, ""]


def _waivers(summary: AuditSummary) -> list[str]:
    notes = [n for n in summary.waiver_notes() if n["status"] != "applied"]
    words = {"expired": "expired", "unused": "never needed: the rule did not fail", "not_matched": "matched no audited change",
             "unknown_rule": "names no rule in this policy",
             "unproven": "not applied: a commit message names the pull request but nothing proves it was merged as that commit"}
    if not notes:
        return []
    lines = ["waivers:"]
    lines += [f"  ! {n['rule']} on {n['change']} ({n['approved_by']}, expires {n['expires']}): {words[n['status']]}"
              for n in notes]
    return [*lines, ""]


def _worst(summary: AuditSummary) -> list[str]:
    worst = summary.worst(WORST_SHOWN)
    failing = summary.total.ai.failing + summary.total.other.failing
    if not worst:
        return ["no change fails the policy", ""]
    lines = [f"worst offenders ({len(worst)} of {failing} failing):"]
    for entry in worst:
        lines.extend(_offender(entry))
    return [*lines, ""]


def _offender(entry: dict[str, Any]) -> list[str]:
    ai = f"AI-assisted ({', '.join(entry['ai_tools']) or 'unnamed tool'})" if entry["ai_assisted"] else "not AI-assisted"
    later = []
    if entry["reverted_by"]:
        later.append("reverted by " + ", ".join(entry["reverted_by"]))
    if entry["fixed_by"]:
        later.append("fixed by " + ", ".join(entry["fixed_by"]))
    head = (f"  x {entry['id']} {(entry['date'] or '')[:10]} {_short(entry['title'], 60)!r}  {ai}  risk {entry['risk']}"
            + (f"  [{'; '.join(later)}]" if later else ""))
    lines = [head]
    lines += [f"      {r['rule']} [{r['severity']}]: {_short(r['message'], 110)}" for r in entry["failing"]]
    if entry["url"]:
        lines.append(f"      {entry['url']}")
    return lines


def _problems(summary: AuditSummary) -> list[str]:
    lines = [f"! {p}" for p in summary.problems]
    if summary.problem_changes:
        lines.append(f"! {summary.problem_changes} change(s) could not be read completely (see --format json: problems)")
    return lines


def _grid(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def writer(out: TextIO) -> TextWriter:
    return TextWriter(out)
