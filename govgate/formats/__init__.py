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
    return load_format(FORMATS, name, "format")


def load_format(registry: dict[str, str], name: str, noun: str) -> ModuleType:
    """The module ``registry`` lists for ``name`` (imported now), or one line naming the choices."""
    if name not in registry:
        raise GovgateError(f"unknown {noun} {name!r}", f"choose one of: {', '.join(registry)}")
    return importlib.import_module(registry[name])
