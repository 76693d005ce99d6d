"""JSON: one ``govgate/report/v1`` object (the organisation's totals, each repository, months, knowledge loss)."""

from __future__ import annotations

import json

from govgate.orgreport.model import OrgReport


def render(report: OrgReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
