"""JUnit XML for CI systems other than GitHub: one testsuite, one testcase per policy rule.

A rule that fails the gate is a ``<failure>`` (its type is the rule's severity), so the report
has failures exactly when govgate exits 1. A rule that failed below ``--fail-on`` (a warning
when only errors gate) passes, with what failed in ``<system-out>``; a rule that does not apply
is ``<skipped/>``; a waived rule passes with the waiver in ``<system-out>``. Problems reading the
change (evidence that could not be verified) go to the suite's ``<system-err>``; a change that
could not be read in full adds one ``<error>`` test case, so no CI reads it as green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from govgate.verdict import RuleResult, RuleStatus, Verdict

# Characters XML 1.0 cannot carry at all, even escaped (a PR title may hold any of them).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_check(verdict: Verdict) -> str:
    gating = {id(r) for r in verdict.gating_failures}
    failures = len(gating)
    skipped = sum(1 for r in verdict.rules if r.status is RuleStatus.SKIPPED)
    errors = 0 if verdict.complete else 1
    tests = str(len(verdict.rules) + errors)
    suite_name = f"govgate {verdict.change.id}"
    root = ET.Element("testsuites", name="govgate", tests=tests, failures=str(failures), errors=str(errors),
                      skipped=str(skipped), time="0")
    suite = ET.SubElement(root, "testsuite", name=_clean(suite_name), tests=tests,
                          failures=str(failures), errors=str(errors), skipped=str(skipped), time="0")
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", verdict.verdict),
        ("change", verdict.change.id),
        ("title", verdict.change.title),
        ("head", verdict.change.head),
        ("ai_assisted", str(verdict.ai_assisted).lower()),
        ("risk", verdict.risk.level),
        ("policy", verdict.policy_source),
        ("policy_origin", verdict.policy_description),
        ("complete", str(verdict.complete).lower()),
        ("fail_on", verdict.fail_on),
    ):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    if verdict.incomplete:
        case = ET.SubElement(suite, "testcase", classname="govgate.change", name="read in full", time="0")
        error = ET.SubElement(case, "error", message="not fully judged: part of the change could not be read",
                              type="incomplete")
        error.text = _clean("\n".join(gap.detail for gap in verdict.incomplete))
    for result in verdict.rules:
        _testcase(suite, result, verdict, gates=id(result) in gating)
    if verdict.problems:
        ET.SubElement(suite, "system-err").text = _clean("\n".join(verdict.problems))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, result: RuleResult, verdict: Verdict, *, gates: bool) -> None:
    rule = result.rule
    case = ET.SubElement(suite, "testcase", classname="govgate.rules", name=rule.id, time="0")
    if result.status is RuleStatus.FAIL and gates:
        failure = ET.SubElement(case, "failure", message=_clean(result.message), type=rule.severity)
        failure.text = _clean("\n".join(_details(result, verdict)))
    elif result.status is RuleStatus.FAIL:
        note = f"failed at severity {rule.severity}, below --fail-on {verdict.fail_on}, so it does not fail the gate"
        ET.SubElement(case, "system-out").text = _clean("\n".join([note, *_details(result, verdict)]))
    elif result.status is RuleStatus.SKIPPED:
        ET.SubElement(case, "skipped", message=_clean(result.message))
    elif result.status is RuleStatus.WAIVED:
        ET.SubElement(case, "system-out").text = _clean(result.message)


def _details(result: RuleResult, verdict: Verdict) -> list[str]:
    lines: list[str] = []
    if result.rule.description:
        lines.append(result.rule.description)
    for requirement in result.requirements:
        if requirement.met:
            continue
        lines.append(f"{requirement.question}: {'; '.join(requirement.reasons)}")
        for item in (e for e in verdict.evidence if e.question.value == requirement.question):
            where = item.location.render()
            effect = "+" if item.supports else "-"
            note = f" (not counted: {item.discounted})" if item.discounted else ""
            lines.append(f"  {effect} {item.detail} [{item.trust.value}]{' at ' + where if where else ''}{note}")
        lines.append(f"  to satisfy: {requirement.requirement.describe()}")
    if result.rule.message:
        lines.append(f"fix: {result.rule.message}")
    return lines


def _clean(text: str | None) -> str:
    return _INVALID_XML.sub("\ufffd", text or "")
