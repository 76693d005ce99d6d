"""Reading a small UTF-8 configuration file (a policy, a memory file) from disk, bounded.

At most ``limit`` bytes are read, so a huge file costs nothing before it is refused, and every
way the read can fail becomes one line of the caller's error type that names the file.
"""

from __future__ import annotations

from pathlib import Path

from govgate.errors import GovgateError


def read_config_text(path: Path, *, what: str, error: type[GovgateError], limit: int,
                     too_large_hint: str | None = None, missing_hint: str | None = None) -> str:
    """The text of ``path``, a ``what`` ("policy file", "memory file") of at most ``limit`` bytes."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found", missing_hint) from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a YAML {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if len(data) > limit:
        raise error(f"{path}: the {what} is larger than {limit // 1024} KiB", too_large_hint)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: the {what} is not UTF-8 text") from None
