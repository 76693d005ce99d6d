"""``govgate report``: combine the JSON lines of many audits into one organisation report."""

from __future__ import annotations

from pathlib import Path

import click

from govgate.cli.common import format_option
from govgate.formats.report import REPORT_FORMATS


@click.command("report")
@click.argument("inputs", nargs=-1, metavar="FILE|DIR|-...")
@format_option(tuple(REPORT_FORMATS))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report here instead of standard output.")
@click.option("--keep-going", is_flag=True,
              help="Skip bad lines and files (each is listed under problems in the report) instead of stopping at the first.")
def report(inputs: tuple[str, ...], output_format: str, output: str | None, keep_going: bool) -> None:
    """Combine audits of many repositories into one organisation report, without reading any history.

    Each input is the output of `govgate audit --format json` (JSON lines: one object per change,
    then the audit's summary), a directory of such files (*.jsonl, *.ndjson, *.json, searched
    recursively), or - for standard input; several audits may be concatenated in one file. The
    report gives per repository and in all: changes, the AI-assisted share, policy compliance,
    the change-failure signal and knowledge-loss paths. Every figure adds up the audits' own
    counts. The same repository and range given twice counts once (the newer audit).

    Exit codes: 0 the report was written, 2 bad input (the message names the file and line).
    """
    from govgate.cli.audit import OutputFile
    from govgate.formats.report import render_report
    from govgate.orgreport.model import OrgReport
    from govgate.orgreport.reader import read_audits

    built = OrgReport.build(read_audits(inputs, keep_going=keep_going))
    text = render_report(output_format, built)
    with OutputFile(output, Path.cwd()) as out:
        out.write(text)
