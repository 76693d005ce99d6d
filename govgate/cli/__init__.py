"""The ``govgate`` command: a click group whose subcommands load lazily (one module each)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

from govgate import __version__

# Exit codes are a contract: 0 pass, 1 the gate fails, 2 usage/policy/input error.
EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2

_COMMANDS = {
    "check": ("govgate.cli.check", "check", "Judge one change (a local range, or a GitHub event)."),
    "audit": ("govgate.cli.audit", "audit", "Judge every change in a range of history."),
    "policy": ("govgate.cli.policy", "policy", "Validate, explain or create a policy."),
    "pre-push": ("govgate.cli.pre_push", "pre_push", "Judge the commits a git push is about to send (a pre-push hook)."),
    "memory": ("govgate.cli.memory", "memory", "Validate, explain, start or mine the organisational memory file."),
    "report": ("govgate.cli.report", "report", "Combine the audits of many repositories into one organisation report."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module_name, attr, _ = _COMMANDS[cmd_name]
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, _, help_text) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:  # `govgate --help | head -1` prints while parsing, before invoke
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            _quiet_exit()

    def invoke(self, ctx: click.Context) -> Any:
        from govgate.errors import GovgateError

        try:
            return super().invoke(ctx)
        except GovgateError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(EXIT_ERROR)
        except BrokenPipeError:  # `govgate policy explain | head -1`: the reader has all it wanted
            _quiet_exit()
        except click.ClickException as exc:
            exc.exit_code = EXIT_ERROR  # click's default of 1 would read as "the gate fails"
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("govgate: interrupted", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:  # an unexpected bug must still honour the exit-code contract
            if os.environ.get("GOVGATE_DEBUG"):
                raise
            click.echo(f"govgate: internal error: {type(exc).__name__}: {exc} (set GOVGATE_DEBUG=1 for the traceback)", err=True)
            sys.exit(EXIT_ERROR)


def _quiet_exit() -> NoReturn:
    from govgate.cli.common import silence_stdout

    silence_stdout()
    sys.exit(EXIT_PASS)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="govgate")
def main() -> None:
    """govgate: is every change reviewed, tested, rolled out gradually, and reversible?

    Exit codes: 0 the gate passes, 1 the gate fails, 2 usage, policy or input error.
    """
