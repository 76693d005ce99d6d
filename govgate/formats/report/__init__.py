"""Organisation report formats: one module each, every one renders an OrgReport and recomputes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govgate.formats import load_format

if TYPE_CHECKING:
    from govgate.orgreport.model import OrgReport

REPORT_FORMATS: dict[str, str] = {
    "text": "govgate.formats.report.text",
    "json": "govgate.formats.report.json_format",
    "markdown": "govgate.formats.report.markdown",
    "html": "govgate.formats.report.html",
}


def render_report(name: str, report: OrgReport) -> str:
    return load_format(REPORT_FORMATS, name, "report format").render(report)  # type: ignore[no-any-return]
