"""Options and output plumbing shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from govgate.errors import GovgateError

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
        "--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True,
        help="Lowest severity of a failing rule that fails the gate.",
    )(func)


def render(verdict: Any, output_format: str) -> str:
    from govgate.formats import format_module

    return format_module(output_format).render_check(verdict)


def emit(verdict: Any, output_format: str, output: str | None) -> None:
    text = render(verdict, output_format)
    if output:
        write_file(Path(output), text)
    else:
        click.echo(text, nl=False)


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


def write_reports(verdict: Any, targets: list[tuple[str, Path]]) -> None:
    for name, path in targets:
        write_file(path, render(verdict, name))


def write_file(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise GovgateError(f"cannot write {path}: {exc.strerror}") from None
