"""The stable ``govgate/check/v1`` JSON object (README: "The JSON contract")."""

from __future__ import annotations

import json

from govgate.verdict import Verdict


def render_check(verdict: Verdict) -> str:
    return json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False) + "\n"
