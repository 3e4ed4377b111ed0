"""The demo's steps. Each runs the real code path (the CLI or a handler on its trigger's event),
prints what happened, records it in the :class:`DemoOutcome`, and checks it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from ecr_emulator.emulator import Emulator
from ecr_harness.logs import logger_state, quiet
from ecr_harness.outcome import DemoFailure, DemoOutcome, check
from ecr_harness.runner import (
    ROOT,
    FakeLambdaContext,
    QueuePump,
    api_gateway_event,
    ecs_task_failed_event,
    load_handler,
    parameter_change_event,
    schedule_event,
)
from ecr_harness.stack import BUCKET, EXCLUSIONS_PATH, PREVIEW_DELAY_SECONDS, declared_exclusions

if TYPE_CHECKING:
    from ecr_archiver.archiving.models import PlanResult
    from ecr_archiver.cli.context import WaitClock
    from ecr_archiver.cli.local_run import RepositoryRun


# -- 1 · ecr-archiver plan ---------------------------------------------------------------------
def _emulator_wait_clock(emu: Emulator) -> WaitClock:
    """Waiting (for previews) advances the emulator clock instead of sleeping."""
    from ecr_archiver.cli.context import WaitClock

    def advance(seconds: float) -> None:
        emu.clock.advance(seconds)

    return WaitClock(now=lambda: emu.clock.now().timestamp(), sleep=advance, simulated=True)


@contextlib.contextmanager
def _cli_console(out: Console) -> Iterator[None]:
    """Point the CLI's rich console at the demo's, so the table lands in the same stream."""
    from ecr_archiver.cli import archive_cmds

    saved = archive_cmds.console
    archive_cmds.console = out
    try:
        yield
    finally:
        archive_cmds.console = saved


def step_plan(emu: Emulator, out: Console, outcome: DemoOutcome, verbose: bool) -> None:
    """``ecr-archiver plan``, the CLI's own code path, with waiting on the emulator clock."""
    from ecr_archiver.cli import commands  # noqa: F401 - registers the commands
    from ecr_archiver.cli.context import CliContext
    from ecr_archiver.cli.main import cli

    # Kept where the user can read it after the demo (reports/ is git-ignored).
    report = ROOT / "reports" / "demo-plan.json"
    report.parent.mkdir(exist_ok=True)
    args = [*(["--verbose"] if verbose else []), "plan", "--report", str(report)]
    with _cli_console(out), logger_state():
        try:
            cli.main(
                args=args,
                prog_name="ecr-archiver",
                standalone_mode=False,
                obj=CliContext(wait_clock=_emulator_wait_clock(emu)),
            )
            outcome.plan_exit_code = 0
        except SystemExit as exc:  # pragma: no cover - the CLI signals failures this way
            outcome.plan_exit_code = int(exc.code or 0)
    check(outcome.plan_exit_code == 0, f"ecr-archiver plan exited {outcome.plan_exit_code}")
    images = json.loads(report.read_text())["images"]
    outcome.plan_would_archive = sum(1 for image in images if image["outcome"] == "WOULD_ARCHIVE")


# -- 2 · the scheduled run ---------------------------------------------------------------------
def step_scheduled_run(
    emu: Emulator, env: dict[str, str], out: Console, outcome: DemoOutcome, verbose: bool
) -> None:
    from ecr_archiver.cli.local_run import LocalRun
    from ecr_archiver.cli.run_table import render_run

    plan = _plan_and_archive(emu, env, out, outcome, verbose)
    repositories = _read_reports(emu, plan)
    run = LocalRun(run_id=plan.run_id, dry_run=False, plan=plan, messages=[], repositories=repositories)
    render_run(run, out=out)
    _tally(outcome, repositories)
    _check_survivors(emu, outcome)
    out.print(_in_use_table(emu, outcome))


def _plan_and_archive(
    emu: Emulator, env: dict[str, str], out: Console, outcome: DemoOutcome, verbose: bool
) -> PlanResult:
    """``plan_archive`` on a schedule event, then the queue pumped through ``archive_images``."""
    from ecr_archiver.archiving.models import PlanResult

    planner = load_handler("plan_archive", env)
    worker = load_handler("archive_images", env)
    started = emu.clock.now()
    with quiet(verbose):
        planned = planner.lambda_handler(
            schedule_event(started), FakeLambdaContext(function_name="plan_archive")
        )
    plan = PlanResult.model_validate(planned)
    check(
        len(plan.planned) == len(outcome.seeded.repositories),
        f"planner planned {len(plan.planned)} repositories",
    )
    out.print(
        f"plan_archive: run [bold]{plan.run_id}[/], {len(plan.planned)} work messages sent, "
        f"delayed {PREVIEW_DELAY_SECONDS}s so the previews can finish"
    )
    pump = QueuePump(emu, env["WORK_QUEUE_URL"], worker.lambda_handler, env=env)
    with quiet(verbose):
        stats = pump.run()
    out.print(
        f"archive_images: {stats.invocations} invocations, {stats.retried} retried while a preview was "
        f"IN_PROGRESS; emulator clock advanced {stats.clock_advanced_seconds / 60:.1f} min (no sleeping)"
    )
    return plan


def _read_reports(emu: Emulator, plan: PlanResult) -> list[RepositoryRun]:
    """Each repository's report from the bucket, with its image records and image count."""
    import boto3

    from ecr_archiver.adapters.ecr import EcrRegistry
    from ecr_archiver.archiving.models import ImageRecord, RepositoryResult
    from ecr_archiver.cli.local_run import RepositoryRun

    s3 = boto3.client("s3", region_name=emu.region)
    registry = EcrRegistry(boto3.client("ecr", region_name=emu.region))
    repositories: list[RepositoryRun] = []
    for entry in plan.planned:
        prefix = f"reports/{plan.run_id}/{entry.repository}/"
        report = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}report.json")["Body"].read())
        result = RepositoryResult.model_validate(
            {k: report[k] for k in ("runId", "repository", "status", "dryRun", "totals", "capped")}
        )
        records = [
            ImageRecord.model_validate_json(line)
            for key in report["imageParts"]
            for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
            if line.strip()
        ]
        images = sum(1 for _ in registry.describe_images(entry.repository, status="ANY"))
        repositories.append(RepositoryRun(result=result, records=records, images=images))
    return repositories


def _tally(outcome: DemoOutcome, repositories: list[RepositoryRun]) -> None:
    from ecr_archiver.archiving.models import PROTECTION_REASONS

    for run in repositories:
        totals = run.result.totals
        outcome.archived += totals.archived
        outcome.archived_bytes += totals.bytes_archived
        outcome.failed += totals.failed
        for record in run.records:
            if record.reason and record.reason in PROTECTION_REASONS:
                outcome.protected[record.reason] = outcome.protected.get(record.reason, 0) + 1
            elif record.reason:
                outcome.other_skips[record.reason] = outcome.other_skips.get(record.reason, 0) + 1


def _check_survivors(emu: Emulator, outcome: DemoOutcome) -> None:
    """Something was archived, nothing failed, and no in-use or protected image was touched."""
    seeded = outcome.seeded
    for repo, digest in [*seeded.in_use.values(), *seeded.protected.values()]:
        outcome.statuses[(repo, digest)] = emu.image_status(repo, digest)
    check(outcome.archived > 0, "the scheduled run archived nothing")
    check(outcome.failed == 0, f"{outcome.failed} archive calls failed")
    survivors = {
        label: s
        for label, (r, d) in {**seeded.in_use, **seeded.protected}.items()
        if (s := emu.image_status(r, d)) != "ACTIVE"
    }
    check(not survivors, f"in-use or protected images were archived: {survivors}")
    check(
        emu.image_status(seeded.restore_target[0], seeded.restore_digest) == "ARCHIVED",
        f"{seeded.restore_target} was expected to be archived",
    )


def _in_use_table(emu: Emulator, outcome: DemoOutcome) -> Table:
    seeded = outcome.seeded
    table = Table(title="in use or protected: still ACTIVE", show_header=True)
    table.add_column("image")
    table.add_column("status")
    for label in [*seeded.in_use, *list(seeded.protected)[:2]]:
        repo, digest = {**seeded.in_use, **seeded.protected}[label]
        table.add_row(label, emu.image_status(repo, digest))
    return table


# -- 3 · restore -------------------------------------------------------------------------------
def step_restore(
    emu: Emulator, env: dict[str, str], out: Console, outcome: DemoOutcome, verbose: bool
) -> None:
    api = load_handler("restore_api", env)
    repo, tag = outcome.seeded.restore_target

    def call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with quiet(verbose):
            response = api.lambda_handler(
                event, FakeLambdaContext(function_name="restore_api", timeout_ms=29_000)
            )
        return int(response["statusCode"]), json.loads(response["body"])

    code, body = call(api_gateway_event("POST", "/restores", body={"repository": repo, "tag": tag}))
    check(code == 202 and body.get("status") == "ACTIVATING", f"POST /restores answered {code} {body}")
    out.print(f"POST /restores {{repository: {repo}, tag: {tag}}} → [bold]{code}[/] {body['status']}")
    outcome.restore_timeline.append((0, body["status"]))
    minutes = 0
    while minutes < 30:
        emu.clock.advance(timedelta(minutes=3))
        minutes += 3
        code, body = call(api_gateway_event("GET", "/images", query={"repository": repo, "tag": tag}))
        check(code == 200, f"GET /images answered {code} {body}")
        outcome.restore_timeline.append((minutes, body["status"]))
        out.print(f"  +{minutes:2d} min  GET /images → {code} [bold]{body['status']}[/]")
        if body["status"] == "ACTIVE":
            break
    check(body["status"] == "ACTIVE", f"{repo}:{tag} still {body['status']} after {minutes} minutes")


# -- 4 · automatic restore ---------------------------------------------------------------------
def _an_archived_release(emu: Emulator, repo: str) -> tuple[str, str]:
    import boto3

    pages = (
        boto3.client("ecr", region_name=emu.region)
        .get_paginator("describe_images")
        .paginate(repositoryName=repo, filter={"imageStatus": "ARCHIVED"})
    )
    for page in pages:
        for image in page["imageDetails"]:
            if image.get("imageTags"):
                return image["imageTags"][0], image["imageDigest"]
    raise DemoFailure(f"no archived tagged image left in {repo} for the auto-restore step")


def step_auto_restore(
    emu: Emulator, env: dict[str, str], out: Console, outcome: DemoOutcome, verbose: bool
) -> None:
    """An ECS rollback to an archived release fails to start; auto_restore brings the image back."""
    repo = "payments/worker"
    tag, digest = _an_archived_release(emu, repo)
    outcome.auto_restore_image = f"{repo}:{tag}"
    event = ecs_task_failed_event(
        cluster="prod", service="payments-worker", image=f"{outcome.seeded.host}/{repo}:{tag}"
    )
    out.print(
        f"ECS service payments-worker rolls back to {repo}:{tag} (archived): the task stops with "
        "[bold]CannotPullContainerError[/] → EventBridge → auto_restore"
    )
    handler = load_handler("auto_restore", env)
    with quiet(verbose):
        report = handler.lambda_handler(event, FakeLambdaContext(function_name="auto_restore"))
    [decision] = [d for d in report["decisions"] if d.get("repository") == repo]
    check(decision["action"] == "RestoreStarted", f"auto_restore decided {decision}")
    outcome.auto_restore_timeline.append((0, emu.image_status(repo, digest)))
    out.print(f"  auto_restore → [bold]{decision['action']}[/]; notice published on the restore topic")
    minutes = 0
    while emu.image_status(repo, digest) != "ACTIVE" and minutes < 30:
        emu.clock.advance(timedelta(minutes=5))
        minutes += 5
        outcome.auto_restore_timeline.append((minutes, emu.image_status(repo, digest)))
        out.print(f"  +{minutes:2d} min  {repo}:{tag} [bold]{emu.image_status(repo, digest)}[/]")
    check(emu.image_status(repo, digest) == "ACTIVE", f"{repo}:{tag} not ACTIVE after {minutes} minutes")
    out.print("  the service's next task starts: the image is pullable again")


# -- 5 · exclusion sync ------------------------------------------------------------------------
def step_exclusions(
    emu: Emulator, env: dict[str, str], out: Console, outcome: DemoOutcome, verbose: bool
) -> None:
    import boto3

    sync = load_handler("sync_exclusions", env)
    name = f"{EXCLUSIONS_PATH}security-scanners"
    with quiet(verbose):
        result = sync.lambda_handler(
            parameter_change_event(name), FakeLambdaContext(function_name="sync_exclusions")
        )
    check(not result.get("refused"), f"sync refused: {result.get('reason')}")
    check(not result.get("failed"), f"sync failures: {result.get('failed')}")
    outcome.exclusion_changes = {"added": list(result["added"]), "removed": list(result["removed"])}
    ecr = boto3.client("ecr", region_name=emu.region)
    outcome.exclusions = sorted(ecr.list_pull_time_update_exclusions().get("pullTimeUpdateExclusions", []))
    table = Table(title=f"pull-time update exclusions (trigger: Parameter Store Change on {name})")
    table.add_column("change")
    table.add_column("principal")
    for arn in result["added"]:
        table.add_row("[green]+ add[/]", arn)
    for arn in result["removed"]:
        table.add_row("[red]- remove[/] (undeclared)", arn)
    for arn in result["unchanged"]:
        table.add_row("  kept", arn)
    out.print(table)
    declared = declared_exclusions()
    check(
        set(outcome.exclusions) == declared, f"exclusions {outcome.exclusions} != declared {sorted(declared)}"
    )
