"""``plan`` and ``archive``: the scheduled run's planner and worker, run from a laptop.

``plan`` is always a dry run: it starts lifecycle previews (simulations that change no image),
reads them, and shows what would be archived and what is protected, and why. ``archive`` shows the
same plan, asks, then archives exactly that plan's candidates (re-checked by the same guard).
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ecr_archiver import errors
from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.ssm import ConfigParameter
from ecr_archiver.adapters.sts import CallerIdentity
from ecr_archiver.archiving.config import DEFAULT_CONFIG, DEFAULT_CONFIG_PARAMETER, ArchiveConfig
from ecr_archiver.archiving.inuse import ImageUseSource
from ecr_archiver.archiving.models import PlanResult, WorkMessage
from ecr_archiver.archiving.settings import WorkerSettings
from ecr_archiver.archiving.sources import in_use_sources
from ecr_archiver.archiving.worker import WorkerLimits
from ecr_archiver.cli.context import CliContext
from ecr_archiver.cli.exit_codes import ExitCode
from ecr_archiver.cli.failures import CliFailure, fail, user_errors
from ecr_archiver.cli.group import cli
from ecr_archiver.cli.local_run import (
    LocalRun,
    PreviewTimeout,
    RepositoryRun,
    plan_locally,
    quiet_metrics,
    work_locally,
)
from ecr_archiver.cli.output import emit, human_bytes, stderr_console, stdout_console
from ecr_archiver.cli.report_file import prepare_report_path, write_report
from ecr_archiver.cli.run_table import render_run

console = stdout_console()
progress_console = stderr_console()

#: The deployed stack's archive rate (``ArchiveMaxTps``), the workers' ``ARCHIVE_MAX_TPS`` default.
DEFAULT_MAX_TPS = float(WorkerSettings.model_fields["archive_max_tps"].default)


def _config_text(ctx: CliContext, config_file: Path | None, parameter: str, use_default: bool) -> str:
    if use_default:
        return json.dumps(DEFAULT_CONFIG)
    if config_file is not None:
        return config_file.read_text()
    return ConfigParameter(parameter, client=ctx.client("ssm")).text()


def _run(
    ctx: CliContext,
    *,
    config_text: str,
    dry_run: bool,
    max_tps: float,
    concurrency: int,
    preview_timeout: float,
    poll_interval: float,
    verbose: bool,
    plan: tuple[PlanResult, list[WorkMessage]] | None = None,
) -> LocalRun:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    registry = EcrRegistry(ctx.client("ecr"))
    run_id = f"cli-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    with quiet_metrics(verbose):
        if plan is None:
            with _status("starting previews and discovering in-use images…"):
                plan = plan_locally(
                    config_text,
                    run_id=run_id,
                    registry=registry,
                    in_use_sources=lambda cfg: _sources(ctx, cfg),
                    reader_arn=_reader_arn(ctx),
                )
        result, messages = plan
        clock = ctx.clock
        limits = WorkerLimits(max_tps=max_tps, concurrency=concurrency, force_dry_run=dry_run)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=progress_console,
            transient=True,
            disable=not progress_console.is_terminal,
        ) as progress:
            task = progress.add_task("reading previews" if dry_run else "archiving", total=len(messages))

            def waiting(repo: str) -> None:
                progress.update(task, description=f"waiting for the preview of {repo}")

            def done(repo: RepositoryRun) -> None:
                progress.update(task, advance=1, description=f"done {repo.repository}")

            repositories = work_locally(
                messages,
                dry_run=dry_run,
                registry=registry,
                clock=clock,
                limits=limits,
                preview_timeout=preview_timeout,
                poll_interval=poll_interval,
                on_repository=done,
                on_wait=waiting,
            )
    return LocalRun(
        run_id=result.run_id, dry_run=dry_run, plan=result, messages=messages, repositories=repositories
    )


def _status(message: str) -> contextlib.AbstractContextManager[object]:
    """A spinner on a terminal; nothing when stderr is a pipe or a file."""
    if progress_console.is_terminal:
        return progress_console.status(message)
    return contextlib.nullcontext()


def _reader_arn(ctx: CliContext) -> str | None:
    """Who this CLI reads manifests as; unknown (conservative mode) if STS does not answer."""
    try:
        return CallerIdentity(ctx.client("sts")).principal_arn()
    except errors.EcrArchiverError:
        return None


def _sources(ctx: CliContext, config: ArchiveConfig) -> list[ImageUseSource]:
    return in_use_sources(config, clients=ctx.client)


def _finish(ctx: CliContext, run: LocalRun, report: Path | None) -> None:
    written = write_report(report, run.report(), run.run_id) if report is not None else None
    emit(ctx, run.summary(), lambda: render_run(run, out=console))
    if written is not None and written != report:
        click.echo(f"warning: could not write {report}; the report is in {written}", err=True)
    elif written is not None and not ctx.output_json:
        console.print(f"report written to [bold]{written}[/]")
    if run.failed or run.previews_failed:
        detail = f"{run.failed} image(s) failed" if run.failed else ""
        if run.previews_failed:
            detail += f"{'; ' if detail else ''}previews FAILED for {', '.join(run.previews_failed)}"
        raise CliFailure(f"partial failure: {detail}", ExitCode.PARTIAL)


def _common(func: Any) -> Any:
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Archiving configuration JSON file (default: the SSM parameter).",
        ),
        click.option(
            "--config-parameter",
            default=DEFAULT_CONFIG_PARAMETER,
            show_default=True,
            help="SSM parameter holding the configuration.",
        ),
        click.option(
            "--default-config", is_flag=True, help="Use the built-in default configuration (90 days)."
        ),
        click.option(
            "--report",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            help="Write the JSON report (every image, outcome and reason) to this file.",
        ),
        click.option(
            "--preview-timeout",
            default=1800.0,
            show_default=True,
            help="Seconds to wait for lifecycle previews to complete.",
        ),
        click.option(
            "--poll-interval", default=10.0, show_default=True, help="Seconds between preview polls."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _check_arguments(config_file: Path | None, use_default: bool, report: Path | None) -> None:
    """Everything a run needs from its flags, checked before the first AWS call."""
    if config_file is not None and use_default:
        fail("give at most one of --config and --default-config", ExitCode.USAGE)
    if report is not None:
        prepare_report_path(report)


@cli.command()
@_common
@click.pass_obj
@user_errors
def plan(
    ctx: CliContext,
    config_file: Path | None,
    config_parameter: str,
    default_config: bool,
    report: Path | None,
    preview_timeout: float,
    poll_interval: float,
) -> None:
    """Dry run: what the configuration would archive, and what it protects and why.

    Starts one lifecycle preview per selected repository (a simulation: no image changes),
    discovers images in use by ECS and Lambda, and applies the same guard as the scheduled run.
    """
    _check_arguments(config_file, default_config, report)
    text = _config_text(ctx, config_file, config_parameter, default_config)
    run = _guarded(
        ctx,
        config_text=text,
        dry_run=True,
        max_tps=DEFAULT_MAX_TPS,
        concurrency=1,
        preview_timeout=preview_timeout,
        poll_interval=poll_interval,
    )
    _finish(ctx, run, report)


@cli.command()
@_common
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--max-tps",
    default=DEFAULT_MAX_TPS,
    show_default=True,
    type=click.FloatRange(min=0.1, max=1000),
    help="UpdateImageStorageClass calls per second.",
)
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.pass_obj
@user_errors
def archive(
    ctx: CliContext,
    config_file: Path | None,
    config_parameter: str,
    default_config: bool,
    report: Path | None,
    preview_timeout: float,
    poll_interval: float,
    yes: bool,
    max_tps: float,
    concurrency: int,
) -> None:
    """Archive for real what 'plan' shows, after confirmation (or with --yes).

    The configuration's dryRun governs the scheduled runs only: here the prompt is the
    safety. Images in use or protected are never archived.
    """
    _check_arguments(config_file, default_config, report)
    text = _config_text(ctx, config_file, config_parameter, default_config)
    common: dict[str, Any] = {
        "max_tps": max_tps,
        "concurrency": concurrency,
        "preview_timeout": preview_timeout,
        "poll_interval": poll_interval,
    }
    planned = None
    if not yes:
        preview = _guarded(ctx, config_text=text, dry_run=True, **common)
        render_run(preview, out=progress_console if ctx.output_json else console)
        if preview.candidates == 0:
            emit(ctx, preview.summary(), lambda: console.print("nothing to archive"))
            return
        question = (
            f"Archive {preview.candidates} image(s) ({human_bytes(preview.bytes_to_archive)}) in "
            f"{sum(1 for r in preview.repositories if r.to_archive)} repositories? Archived images "
            "are billed for at least 90 days and take up to ~20 minutes to restore"
        )
        if not click.confirm(question, default=False, err=True):
            raise CliFailure("aborted: nothing was archived", ExitCode.ABORTED)
        planned = (preview.plan, preview.messages)
    run = _guarded(ctx, config_text=text, dry_run=False, plan=planned, **common)
    _finish(ctx, run, report)


def _guarded(ctx: CliContext, **kwargs: Any) -> LocalRun:
    try:
        return _run(ctx, verbose=ctx.verbose, **kwargs)
    except PreviewTimeout as exc:
        raise CliFailure(exc.message, ExitCode.TIMEOUT) from None
