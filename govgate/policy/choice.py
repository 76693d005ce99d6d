"""What ``--policy`` names: a shipped preset or a file, never something in between.

A bare word is always a preset, so ``--policy strict`` can never be shadowed by a file called
``strict`` that a change adds to the repository. A file is named with a path separator or a
``.yml``/``.yaml`` suffix; ``preset:NAME`` and ``file:PATH`` say it explicitly. An unknown bare
word is an error that says how to name a file, rather than a silent guess.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from govgate.errors import PolicyError

PRESET_PREFIX = "preset:"
FILE_PREFIX = "file:"
_SEPARATORS = tuple(s for s in (os.sep, os.altsep, "/") if s)


@dataclass(frozen=True)
class PolicyChoice:
    preset: str | None = None
    file: str | None = None  # as given on the command line

    @property
    def default_lookup(self) -> bool:
        """Nothing named: look for .govgate.yml, else the embedded default."""
        return self.preset is None and self.file is None

    @classmethod
    def parse(cls, value: str | None) -> PolicyChoice:
        from govgate.policy.loader import preset_names

        if not value:
            return cls()
        if value.startswith(PRESET_PREFIX):
            name = value.removeprefix(PRESET_PREFIX)
            if name not in preset_names():
                raise PolicyError(f"--policy {value}: unknown preset {name!r}", f"choose one of: {', '.join(preset_names())}")
            return cls(preset=name)
        if value.startswith(FILE_PREFIX):
            path = value.removeprefix(FILE_PREFIX)
            if not path:
                raise PolicyError(f"--policy {value}: no file named after {FILE_PREFIX!r}")
            return cls(file=path)
        if any(sep in value for sep in _SEPARATORS) or value.lower().endswith((".yml", ".yaml")):
            return cls(file=value)
        if value in preset_names():
            return cls(preset=value)
        raise PolicyError(
            f"--policy {value}: unknown preset {value!r} (a bare name always means a preset)",
            f"presets: {', '.join(preset_names())}; to use a file, name it with a path or suffix: "
            f"--policy ./{value}, --policy {value}.yml or --policy {FILE_PREFIX}{value}",
        )
