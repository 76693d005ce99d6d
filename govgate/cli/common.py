"""Options and output plumbing shared by the commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from govgate.errors import GovgateError
from govgate.model import Severity

F = TypeVar("F", bound=Callable[..., Any])


def policy_option(func: F) -> F:
    return click.option(
        "--policy", "policy_path", default=None, metavar="PRESET|FILE",
        help="A shipped preset (a bare name: strict, or preset:strict) or a policy file (a path or a .yml/.yaml name: "
             "./strict, ci/policy.yml, or file:strict). Default: .govgate.yml, else the embedded default. A file inside "
             "the repository is read from the base revision, never from the working tree.",
    )(func)


def policy_from_worktree_option(func: F) -> F:
    return click.option(
        "--policy-from-worktree", is_flag=True,
        help="Judge with the policy file in the working tree instead of the one at the base revision (for policy "
             "authors trying an edit locally; refused in CI on a forge).",
    )(func)


def format_option(choices: tuple[str, ...]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "--format", "-f", "output_format", type=click.Choice(choices), default="text", show_default=True,
            help="Output format.",
        )(func)

    return decorate


def fail_on_option(func: F) -> F:
    return click.option(
        "--fail-on", type=click.Choice([s.value for s in reversed(Severity)]), default=Severity.ERROR.value, show_default=True,
        callback=_severity, help="Lowest severity of a failing rule that fails the gate.",
    )(func)


def _severity(ctx: click.Context, param: click.Parameter, value: str) -> Severity:
    return Severity(value)


def render(verdict: Any, output_format: str) -> str:
    from govgate.formats import format_module

    return format_module(output_format).render_check(verdict)


def emit(verdict: Any, output_format: str, output: str | None, checkout: Path | None) -> None:
    text = render(verdict, output_format)
    if output:
        write_file(Path(output), text, checkout)
        return
    try:
        click.echo(text, nl=False)
        sys.stdout.flush()
    except BrokenPipeError:  # `govgate check | head -1`: the verdict's exit code still stands
        silence_stdout()


def silence_stdout() -> None:
    """The reader of standard output went away: send the rest (and the exit-time flush) nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def parse_reports(reports: tuple[str, ...], allowed: tuple[str, ...]) -> list[tuple[str, Path]]:
    targets: list[tuple[str, Path]] = []
    for item in reports:
        name, sep, path = item.partition("=")
        if not sep or not path:
            raise GovgateError(f"--report {item!r}: expected FORMAT=PATH, e.g. sarif=govgate.sarif")
        if name not in allowed:
            raise GovgateError(f"--report {item!r}: unknown format {name!r}", f"choose one of: {', '.join(allowed)}")
        targets.append((name, Path(path)))
    return targets


def write_reports(verdict: Any, targets: list[tuple[str, Path]], checkout: Path | None) -> None:
    for name, path in targets:
        write_file(path, render(verdict, name), checkout)


def write_file(path: Path, text: str, checkout: Path | None) -> None:
    with open_output(path, checkout) as handle:
        handle.write(text)


def open_output(path: Path, checkout: Path | None, newline: str | None = None) -> TextIO:
    """``path`` opened for writing, never through a symbolic link that the checkout could hold.

    A pull request can commit ``govgate.sarif`` (or a folder on the way to it) as a symlink to
    any file the CI runner may write; following it would let the change overwrite that file.
    The final name is never followed (O_NOFOLLOW), and no folder inside ``checkout`` may be a link.
    Links outside the checkout (``/tmp`` on macOS) are the machine's own and are followed.
    """
    refuse_links_inside(path, checkout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        if path.is_symlink():  # where O_NOFOLLOW does not exist (Windows)
            raise _link_error(path, path)
        descriptor = os.open(path, flags, 0o666)
    except OSError as exc:
        if path.is_symlink():
            raise _link_error(path, path) from None
        raise GovgateError(f"cannot write {path}: {exc.strerror}") from None
    return os.fdopen(descriptor, "w", encoding="utf-8", newline=newline)


def refuse_links_inside(path: Path, checkout: Path | None) -> None:
    if checkout is None:
        return
    root = Path(os.path.abspath(checkout))
    absolute = path if path.is_absolute() else Path.cwd() / path
    prefix = Path(absolute.anchor)
    for part in absolute.parts[1:-1]:
        prefix = prefix / part
        inside = Path(os.path.normpath(prefix))
        if root in inside.parents and prefix.is_symlink():
            raise _link_error(path, prefix)


def _link_error(path: Path, link: Path) -> GovgateError:
    return GovgateError(f"refusing to write {path}: {link} is a symbolic link",
                        "write reports to a path that is not a link (the checkout's files come from the change)")
