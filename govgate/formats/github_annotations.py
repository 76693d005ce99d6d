"""GitHub Actions workflow commands: ``::error file=F,line=L,title=T::message`` annotations.

GitHub shows at most 10 error and 10 warning annotations per step (and 50 per job), so the
first ten of each are emitted and the rest are summarised in one final ``::notice``. Values
are escaped as actions/toolkit does (data: ``%``, CR, LF; properties also ``:`` and ``,``),
which also keeps untrusted text from starting a workflow command of its own.
"""

from __future__ import annotations

from govgate.formats.findings import loose_warnings, rule_findings
from govgate.formats.memory_view import annotation_notes
from govgate.verdict import Verdict

PER_TYPE_LIMIT = 10
_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, *, file: str | None = None, line: int | None = None,
            end_line: int | None = None, title: str | None = None) -> str:
    props: list[str] = []
    if file:
        props.append(f"file={escape_property(file)}")
        if line:
            props.append(f"line={int(line)}")
            if end_line and end_line >= line:
                props.append(f"endLine={int(end_line)}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{kind} {','.join(props)}" if props else f"::{kind}"
    return f"{head}::{escape_data(message)}"


def render_check(verdict: Verdict) -> str:
    # (command kind, line); what could not be read comes first: it must never be the part that gets cut
    annotations: list[tuple[str, str]] = [
        ("error", command("error", gap.detail, title="govgate: not fully judged")) for gap in verdict.incomplete
    ]
    annotations += [
        ("warning", command("warning", problem, title="govgate: evidence not verified")) for problem in verdict.change.problems
    ]
    for finding in rule_findings(verdict):
        kind = _COMMAND[finding.level]
        # A failing rule below --fail-on does not fail the gate: never show it as an error.
        if kind == "error" and not finding.result.rule.severity.at_least(verdict.fail_on):
            kind = "warning"
        loc = finding.location
        annotations.append((kind, command(
            kind, finding.message, file=loc.path if loc else None, line=loc.line if loc else None,
            end_line=loc.end_line if loc else None, title=f"govgate: {finding.rule_id}",
        )))
    for flag in loose_warnings(verdict):
        annotations.append(("warning", command(
            "warning", f"{flag.question.value}: {flag.detail}", file=flag.location.path, line=flag.location.line,
            end_line=flag.location.end_line, title=f"govgate: {flag.kind}",
        )))
    for kind, path, title, message in annotation_notes(verdict):
        annotations.append((kind, command(kind, message, file=path, title=title)))

    emitted: list[str] = []
    counts: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for kind, line in annotations:
        counts[kind] = counts.get(kind, 0) + 1
        # One notice slot stays free for the summary line below.
        if counts[kind] <= (PER_TYPE_LIMIT - 1 if kind == "notice" else PER_TYPE_LIMIT):
            emitted.append(line)
        else:
            dropped[kind] = dropped.get(kind, 0) + 1
    if dropped:
        words = ", ".join(f"{n} more {'notice' if k == 'notice' else k}{'s' if n != 1 else ''}" for k, n in dropped.items())
        emitted.append(command("notice", f"{words} not shown as annotations (GitHub shows {PER_TYPE_LIMIT} per type "
                                         "per step); the job summary and the JSON result list every finding",
                               title="govgate: more findings"))
    emitted.append(_headline(verdict))
    return "\n".join(emitted) + "\n"


def _headline(verdict: Verdict) -> str:
    """A plain log line; untrusted text is flattened and can never begin a workflow command."""
    change = verdict.change
    failing = len(verdict.gating_failures)
    title = " ".join(change.title.split())[:100]
    text = (f"govgate: {verdict.verdict.headline} {change.id} {title!r}: {failing} gating rule"
            f"{'s' if failing != 1 else ''} failed; risk {verdict.risk.level}; "
            f"AI-assisted {'yes' if verdict.ai_assisted else 'no'}; policy: {verdict.policy_description}")
    return escape_data(text)
