"""``ensure-active``: the deploy-pipeline step that makes sure every image it deploys can be pulled.

Exit codes: 0 every image is ACTIVE · 2 no REF or --task-definition given, or a bad flag value ·
3 a reference cannot be read (nothing changed) ·
4 refused: an image or repository does not exist, ECS does not know a task definition, or ECR
refused a restore (nothing is restored when an image is missing) · 6 timed out waiting
(``--wait``) · 7 restores are running but were not waited for (no ``--wait``).
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.ecs import TaskDefinitions
from ecr_archiver.adapters.sts import RoleSessions
from ecr_archiver.cli.context import CliContext
from ecr_archiver.cli.exit_codes import ExitCode
from ecr_archiver.cli.failures import exit_with, fail, user_errors
from ecr_archiver.cli.group import cli
from ecr_archiver.cli.output import emit, stdout_console
from ecr_archiver.restore.ensure import (
    EnsureReport,
    EnsureTarget,
    ensure_active,
    target_for_reference,
    targets_for_task_definition,
    wait_until_active,
)
from ecr_archiver.restore.references import LocalRegistry

console = stdout_console()


def _targets(ctx: CliContext, refs: tuple[str, ...], task_definitions: tuple[str, ...]) -> list[EnsureTarget]:
    """Every reference, parsed before any AWS call that changes something (bad syntax: exit 3)."""
    local = LocalRegistry(
        registry_id=RoleSessions(ctx.client("sts")).account_id(), region=ctx.effective_region
    )
    targets = [target_for_reference(ref, local) for ref in refs]
    definitions = TaskDefinitions(ctx.client("ecs"))
    for arn in task_definitions:
        targets.extend(targets_for_task_definition(arn, definitions.container_images(arn), local))
    return targets


def _table(report: EnsureReport) -> Table:
    table = Table(title="ensure-active")
    for column in ("image", "from", "status", "action"):
        table.add_column(column)
    for image in report.images:
        action = image.error or ("restore started" if image.restore_started else "-")
        status = image.status.value if image.status else "?"
        table.add_row(image.requested, image.source, status, action)
    for target in report.foreign:
        table.add_row(target.requested, target.source, "ignored", target.foreign or "")
    return table


def _result(report: EnsureReport, waited: bool) -> tuple[str, ExitCode]:
    if report.refused:
        return "refused", ExitCode.AWS
    if report.pending:
        return ("timed-out", ExitCode.TIMEOUT) if waited else ("pending", ExitCode.PENDING)
    return "active", ExitCode.OK


def _explain(report: EnsureReport, result: str, timeout: float) -> None:
    for image in report.refused:
        click.echo(f"refused: {image.requested}: {image.error}", err=True)
    if result == "refused" and not any(i.restore_started for i in report.images):
        click.echo("nothing was restored: fix the references above and run again", err=True)
    pending = ", ".join(i.requested for i in report.pending)
    if result == "timed-out":
        click.echo(f"error: timed out after {timeout:.0f}s; not ACTIVE yet: {pending}", err=True)
    elif result == "pending":
        click.echo(f"restoring (typically up to 20 minutes): {pending}; use --wait to wait", err=True)


@cli.command("ensure-active")
@click.argument("refs", nargs=-1, metavar="REF...")
@click.option(
    "--task-definition",
    "task_definitions",
    multiple=True,
    metavar="ARN",
    help="Also ensure every container image of this ECS task definition (ARN or family:revision).",
)
@click.option("--wait", is_flag=True, help="Wait until every image is ACTIVE (restores take up to ~20 min).")
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds to wait with --wait.")
@click.pass_obj
@user_errors
def ensure_active_cmd(
    ctx: CliContext, refs: tuple[str, ...], task_definitions: tuple[str, ...], wait: bool, timeout: float
) -> None:
    """Restore every archived image among REF... (REPO:TAG, REPO@DIGEST or a full image URI) and the
    --task-definition images, with their referrers; images of other registries are ignored."""
    if not refs and not task_definitions:
        fail("give at least one REF or --task-definition", ExitCode.USAGE)
    if timeout <= 0:
        fail(f"--timeout must be positive, got {timeout:g}", ExitCode.USAGE)
    registry = EcrRegistry(ctx.client("ecr"))
    report = ensure_active(_targets(ctx, refs, task_definitions), registry=registry)
    if wait and report.pending and not report.refused:
        report = wait_until_active(report, registry=registry, clock=ctx.clock, timeout=timeout)
    result, code = _result(report, wait)
    payload: dict[str, Any] = {"result": result, **report.model_dump(mode="json", by_alias=True)}
    emit(ctx, payload, lambda: console.print(_table(report)))
    _explain(report, result, timeout)
    if code is not ExitCode.OK:
        exit_with(code)
