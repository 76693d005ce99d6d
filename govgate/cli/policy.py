"""``govgate policy validate|explain|init|schema``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from govgate.cli.common import policy_option


@click.group("policy")
def policy() -> None:
    """Validate, explain or create a govgate policy."""


@policy.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check policy FILES against the schema; exit 2 with file:line errors if any is invalid."""
    from govgate.errors import PolicyError
    from govgate.policy.loader import load_policy

    failed = False
    for path in files:
        try:
            loaded = load_policy(path)
        except PolicyError as exc:
            click.echo(exc.render(), err=True)
            failed = True
            continue
        for warning in loaded.warnings:
            click.echo(f"govgate: warning: {warning}", err=True)
        click.echo(f"{path}: valid ({len(loaded.rules)} rules, {len(loaded.waivers)} waivers)")
    if failed:
        raise SystemExit(2)


@policy.command("explain")
@policy_option
@click.option("--repo", "repo_dir", default=".", type=click.Path(file_okay=False, path_type=Path),
              help="Where to look for .govgate.yml.")
@click.option("--format", "-f", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--now", default=None, metavar="TIME", help="Say which freeze windows are in force at TIME (ISO 8601; default: now).")
def explain(policy_path: str | None, repo_dir: Path, output_format: str, now: str | None) -> None:
    """Say in words what the policy in force demands, rule by rule, and its freeze windows."""
    from govgate.cli.audit import parse_date
    from govgate.cli.freeze_words import freeze_lines, freezes_dict
    from govgate.policy.loader import find_policy, load_policy

    path = find_policy(policy_path, repo_dir if repo_dir.is_dir() else None)
    loaded = load_policy(path)
    at = parse_date(now, "--now", end_of_day=False)
    if output_format == "json":
        rules = [
            {
                "id": r.id, "severity": r.severity, "applies_when": r.when.describe(),
                "requires": {req.question: req.describe() for req in r.require}, "description": r.description,
            }
            for r in loaded.rules
        ]
        click.echo(json.dumps({"policy": loaded.source, "rules": rules, "waivers": len(loaded.waivers),
                               "memory_file": loaded.memory_file, "freezes": freezes_dict(loaded.freezes, at),
                               "accept_too_large": list(loaded.accept_too_large)}, indent=2))
        return
    click.echo(f"Policy: {loaded.source}")
    if loaded.description:
        click.echo(loaded.description.strip())
    medium, high = loaded.risk_thresholds
    click.echo(f"Risk: medium from score {medium:g}, high from {high:g}. AI-assisted from {loaded.ai_min_confidence} confidence.")
    if loaded.accept_too_large:
        click.echo("Files past the inspection limits pass uninspected (with a note) on: " + ", ".join(loaded.accept_too_large))
    for rule in loaded.rules:
        click.echo(f"\n{rule.id} [{rule.severity}]" + (f": {rule.description}" if rule.description else ""))
        click.echo(f"  applies to: {rule.when.describe()}")
        for req in rule.require:
            click.echo(f"  {req.question}: {req.describe()}")
        if rule.message:
            click.echo(f"  fix: {rule.message}")
    for waiver in loaded.waivers:
        click.echo(f"\nwaiver: {waiver.rule} for {waiver.change}, by {waiver.approved_by} until {waiver.expires}: {waiver.reason}")
    for line in freeze_lines(loaded.freezes, at):
        click.echo(line)


@policy.command("init")
@click.option("--preset", default="default", show_default=True, help="Shipped preset to start from.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path(".govgate.yml"),
              show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(preset: str, output: Path, force: bool) -> None:
    """Write a starting policy (a copy of a shipped preset) to edit.

    Its first line points editors with a YAML language server (VS Code, Neovim, JetBrains, ...)
    at the policy's JSON Schema, so they complete keys and flag mistakes as you type.
    """
    from govgate.cli.common import write_file
    from govgate.errors import GovgateError
    from govgate.policy.loader import preset_path
    from govgate.project import POLICY_SCHEMA_URL

    source = preset_path(preset)
    if output.exists() and not force:
        raise GovgateError(f"{output} already exists", "pass --force to overwrite it")
    write_file(output, f"# yaml-language-server: $schema={POLICY_SCHEMA_URL}\n" + source.read_text("utf-8"), Path.cwd())
    click.echo(f"wrote {output} from preset {preset!r}; check it with: govgate policy validate {output}")


@policy.command("presets")
def presets() -> None:
    """List the shipped presets."""
    from govgate.policy.loader import preset_names, preset_path

    for name in preset_names():
        first = preset_path(name).read_text("utf-8").splitlines()[0].lstrip("# ").strip()
        click.echo(f"{name:12} {first}")


@policy.command("schema")
def schema() -> None:
    """Print the policy's JSON Schema (for editors and other tools)."""
    from govgate.policy.loader import compiled_schema

    click.echo(json.dumps(compiled_schema(), indent=2))
