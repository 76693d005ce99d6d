"""Organisation report formats: one module each, every one renders an OrgReport and recomputes nothing."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from govgate.errors import GovgateError

if TYPE_CHECKING:
    from govgate.orgreport.model import OrgReport

REPORT_FORMATS: dict[str, str] = {
    "text": "govgate.formats.report.text",
    "json": "govgate.formats.report.json_format",
    "markdown": "govgate.formats.report.markdown",
    "html": "govgate.formats.report.html",
}


def render_report(name: str, report: OrgReport) -> str:
    if name not in REPORT_FORMATS:
        raise GovgateError(f"unknown report format {name!r}", f"choose one of: {', '.join(REPORT_FORMATS)}")
    return importlib.import_module(REPORT_FORMATS[name]).render(report)  # type: ignore[no-any-return]
