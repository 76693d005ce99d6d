"""Text: a summary table (AI-assisted versus other changes), months, knowledge-loss paths, worst offenders."""

from __future__ import annotations

from typing import Any, TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.record import ChangeRecord
from govgate.audit.summary import AuditSummary, Period
from govgate.audit.thresholds import LARGE_MERGE_COMMITS
from govgate.formats.audit import percent, wording
from govgate.formats.audit.memory_sections import text_lines as memory_text_lines
from govgate.formats.escaping import terminal

WORST_SHOWN = 10
MONTHS_SHOWN = 24


class TextWriter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def change(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        return None  # a summary format

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(render_summary(summary))


def render_summary(summary: AuditSummary) -> str:
    lines = _headline(summary)
    if not summary.changes:
        lines.append("no changes in this range" + wording.filters(summary))
        lines.extend(_problems(summary))
        return _joined(lines)
    total = summary.total
    lines += ["", *_table(total), f"  ({wording.EVIDENCE_NOTE})", ""]
    if total.tools:
        lines.append("AI tools by vendor: " + "; ".join(wording.vendor_lines(summary)))
        lines.append("")
    lines += ["policy compliance:", *_grid([("question", "asked on", "meets the policy", "evidence found"),
                                             *wording.compliance_rows(total)]), f"  ({wording.COMPLIANCE_NOTE})", ""]
    lines += _caveats(summary)
    lines += _months(summary)
    lines += _large_merges(summary)
    lines += _knowledge(summary)
    lines += memory_text_lines(summary)
    lines += _waivers(summary)
    lines += _worst(summary)
    lines += _problems(summary)
    return _joined(lines)


def _joined(lines: list[str]) -> str:
    """One line per item: a path or title holding a newline or escape sequence is shown escaped."""
    return "\n".join(terminal(line) for line in lines) + "\n"


def _headline(summary: AuditSummary) -> list[str]:
    count = summary.changes
    when = wording.span(summary)
    return [
        f"govgate audit of {wording.scope(summary)}: {count:,} change{'s' if count != 1 else ''}" + (f" {when}" if when else ""),
        f"policy: {summary.policy_description}; failing at {summary.fail_on}; evidence read: {wording.reviews_source(summary)}",
    ]


def _table(total: Period) -> list[str]:
    rows = [("", "all changes", "AI-assisted", "other"), *wording.totals_rows(total)]
    return _grid(rows)


def _caveats(summary: AuditSummary) -> list[str]:
    notes = summary.caveats()
    if not notes:
        return []
    return ["read with care:", *(f"  * {note['message']}" for note in notes), ""]


def _months(summary: AuditSummary) -> list[str]:
    months = summary.sorted_months()
    shown = months[-MONTHS_SHOWN:]
    header = ("month", "changes", "AI-assisted", "failing", "no review evidence AI/other", "no test evidence AI/other",
              "failure signal AI/other")
    rows = [header]
    for month, period in reversed(shown):
        rows.append((
            month, str(period.changes), wording.period_share(period, period.ai_share),
            str(period.ai.failing + period.other.failing),
            _pair(period, "unreviewed"), _pair(period, "untested"), _pair(period, "failure_signal"),
        ))
    title = f"by month (newest first{', last ' + str(MONTHS_SHOWN) if len(months) > MONTHS_SHOWN else ''}; {wording.SMALL_NOTE}):"
    return [title, *_grid(rows), ""]


def _pair(period: Period, name: str) -> str:
    return f"{wording.judged_share(period.ai, name)} / {wording.judged_share(period.other, name)}"


def _large_merges(summary: AuditSummary) -> list[str]:
    if not summary.large_merges:
        return []
    lines = [f"large merges ({LARGE_MERGE_COMMITS} commits or more brought in; each judged as one change):"]
    lines += [f"  ! {e['id']} {(e['date'] or '')[:10]} {_short(e['title'], 60)!r}: {e['commits']:,} commits, {e['verdict']}"
              for e in summary.large_merge_examples]
    if summary.large_merges > len(summary.large_merge_examples):
        lines.append(f"  ... and {summary.large_merges - len(summary.large_merge_examples)} more (see --format json)")
    return [*lines, ""]


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


def _grid(rows: list[tuple[str, ...]]) -> list[str]:
    """Aligned columns, one line per row (lines, so that each is escaped on its own)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def writer(out: TextIO) -> TextWriter:
    return TextWriter(out)
