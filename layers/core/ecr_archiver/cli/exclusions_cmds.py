"""``sync-exclusions``: the same reconcile the sync_exclusions Lambda runs, from a laptop."""

from __future__ import annotations

import click
from rich import box
from rich.table import Table

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.ssm import ParameterStore
from ecr_archiver.cli.context import CliContext
from ecr_archiver.cli.exit_codes import ExitCode
from ecr_archiver.cli.failures import CliFailure, exit_with, user_errors
from ecr_archiver.cli.group import cli
from ecr_archiver.cli.output import emit, stdout_console
from ecr_archiver.exclusions.logic import reconcile_exclusions
from ecr_archiver.exclusions.models import SettingNames, SyncOptions, SyncResult

console = stdout_console()


#: Refusals name the flags a CLI user types, not the Lambda function's settings.
CLI_SETTING_NAMES = SettingNames(extra_principals="--extra", allow_empty="pass --allow-empty")


def _render(result: SyncResult) -> None:
    mode = "dry run" if result.dry_run else "applied"
    if not (result.to_add or result.to_remove):
        kept = len(result.unchanged)
        console.print(
            f"nothing to change ({mode}): the {kept} exclusion(s) in ECR match what "
            f"{result.parameter_path} declares"
        )
        return
    console.print(f"pull-time exclusions declared under {result.parameter_path} ({mode}):")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("change", no_wrap=True)
    table.add_column("principal", no_wrap=True)
    for arn in result.to_add:
        table.add_row("[green]+ add[/]" if arn in result.added or result.dry_run else "+ add (failed)", arn)
    for arn in result.to_remove:
        table.add_row(
            "[red]- remove[/]" if arn in result.removed or result.dry_run else "- remove (failed)", arn
        )
    for arn in result.unchanged:
        table.add_row("  keep", arn)
    console.print(table)
    for failure in result.failed:
        click.echo(
            f"failed: {failure.action.value} {failure.principal_arn}: {failure.error_code}: "
            f"{failure.message}",
            err=True,
        )


@cli.command("sync-exclusions")
@click.option(
    "--path",
    "parameter_path",
    default="/ecr-archiver/pull-time-exclusions/",
    show_default=True,
    help="SSM path whose parameters declare the excluded principals.",
)
@click.option("--extra", "extra", multiple=True, help="Extra principal ARN to exclude (repeatable).")
@click.option("--dry-run", is_flag=True, help="Show the changes without making them.")
@click.option(
    "--allow-empty", is_flag=True, help="Allow removing every exclusion when the path declares none."
)
@click.pass_obj
@user_errors
def sync_exclusions(
    ctx: CliContext, parameter_path: str, extra: tuple[str, ...], dry_run: bool, allow_empty: bool
) -> None:
    """Make ECR's pull-time update exclusion list equal what SSM declares."""
    options = SyncOptions(
        parameter_path=parameter_path,
        extra_principals=extra,
        allow_empty=allow_empty,
        dry_run=dry_run,
        names=CLI_SETTING_NAMES,
    )
    result = reconcile_exclusions(
        options, store=ParameterStore(ctx.client("ssm")), registry=EcrRegistry(ctx.client("ecr"))
    )
    if result.refused:
        if ctx.output_json:
            click.echo(result.model_dump_json(indent=2))
        raise CliFailure(f"refused ({result.refused.value}): {result.reason}", ExitCode.INVALID)
    emit(ctx, result.model_dump(mode="json"), lambda: _render(result))
    if result.failed:
        exit_with(ExitCode.PARTIAL)
