"""Output formats: one module each, listed in FORMATS.

A format module renders a finished Verdict (``render_check``); the history audit's streaming
formats live in ``govgate.formats.audit``. Formats never recompute a verdict.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from govgate.errors import GovgateError

# name -> module; imported only when used, so the CLI starts fast.
FORMATS: dict[str, str] = {
    "text": "govgate.formats.text",
    "json": "govgate.formats.json_format",
    "markdown": "govgate.formats.markdown",
    "sarif": "govgate.formats.sarif",
    "junit": "govgate.formats.junit",
    "github": "govgate.formats.github_annotations",
    "codequality": "govgate.formats.codequality",
}

CHECK_FORMATS = tuple(FORMATS)


def format_module(name: str) -> ModuleType:
    if name not in FORMATS:
        raise GovgateError(f"unknown format {name!r}", f"choose one of: {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[name])
