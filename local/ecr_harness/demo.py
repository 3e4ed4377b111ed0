"""``make demo``: the whole product on the embedded emulator, with the real handlers, in under a minute.

1. seeds a realistic registry (12 repositories, 18 months of push and pull history, releases,
   branch builds, untagged images, multi-arch indexes, signatures and SBOMs, images run by ECS
   tasks and services and by a Lambda function behind an alias) plus the configuration and
   pull-time exclusion declarations in SSM;
2. ``ecr-archiver plan``: the CLI's dry-run table;
3. the scheduled flow: ``plan_archive`` on a schedule event → SQS → ``archive_images``, with the
   previews completing on the emulator clock;
4. a restore through ``restore_api`` with API Gateway events, ACTIVATING → ACTIVE;
5. ``sync_exclusions`` on a Parameter Store Change event;
6. a summary. Every step checks its outcome; any failure exits non-zero.

``python -m ecr_harness.demo [--verbose]`` (``--verbose`` shows the functions' JSON logs).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from ecr_emulator.emulator import DUMMY_CREDENTIALS, Emulator, emulated_aws
from ecr_harness.runner import (
    ROOT,
    FakeLambdaContext,
    QueuePump,
    api_gateway_event,
    ecs_task_failed_event,
    environment,
    load_handler,
    parameter_change_event,
    schedule_event,
)

CONFIG_PARAMETER = "/ecr-archiver/config"
EXCLUSIONS_PATH = "/ecr-archiver/pull-time-exclusions/"
QUEUE_NAME = "ecr-archiver-work"
BUCKET = "ecr-archiver-reports"
STATE_TABLE = "ecr-archiver-state"
PREVIEW_DELAY_SECONDS = 120
PREVIEW_RETRY_SECONDS = 60
#: Previews take 2.5 minutes (emulator clock): the first delivery finds them IN_PROGRESS.
PREVIEW_TAKES = timedelta(seconds=150)
MB = 1024 * 1024


class DemoFailure(Exception):
    """A step did not produce the outcome it exists to show."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


# -- seeding ---------------------------------------------------------------------------------------
@dataclass
class Seeded:
    """What the demo later checks: the images that must survive, and the one it restores."""

    repositories: list[str] = field(default_factory=list)
    images: int = 0
    in_use: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (repo, digest)
    protected: dict[str, tuple[str, str]] = field(default_factory=dict)
    restore_target: tuple[str, str] = ("", "")  # (repo, tag)
    restore_digest: str = ""
    host: str = ""


@dataclass(frozen=True)
class RepoShape:
    name: str
    releases: int
    branches: int
    untagged: int
    size_mb: tuple[int, int]
    multi_arch: bool = False
    signed: int = 0  # newest N releases get a cosign signature and an SBOM
    hot: int = 3  # newest N releases are still pulled every day
    legacy: bool = False  # nothing pulled for a year


SHAPES = (
    RepoShape("payments/api", 36, 12, 6, (180, 260), signed=4),
    RepoShape("payments/worker", 30, 10, 6, (150, 220)),
    RepoShape("web/frontend", 14, 8, 0, (40, 90), multi_arch=True),
    RepoShape("web/admin", 24, 8, 4, (60, 120)),
    RepoShape("data/etl", 28, 6, 10, (400, 700)),
    RepoShape("data/notebooks", 20, 14, 6, (900, 1500)),
    RepoShape("platform/base-images", 12, 0, 0, (30, 80), multi_arch=True, signed=6),
    RepoShape("platform/ci-runner", 30, 20, 6, (500, 800)),
    RepoShape("ml/inference", 18, 6, 4, (2000, 5000)),
    RepoShape("tools/migrations", 26, 4, 4, (20, 40)),
    RepoShape("legacy/monolith", 40, 0, 12, (700, 1100), hot=0, legacy=True),
    RepoShape("notifier", 16, 4, 0, (90, 140)),  # a Lambda image function's repository (flat name)
)
BRANCHES = ("feature-login", "feature-search", "fix-timeouts", "spike-grpc", "renovate-deps", "perf")


def _release_tag(i: int) -> str:
    return f"v{1 + i // 12}.{(i // 4) % 3}.{i % 4}"


def seed_registry(emu: Emulator) -> Seeded:
    """Push 18 months of history, deterministically (same seed, same registry)."""
    rng = random.Random(20261127)
    now = emu.clock.now()
    seeded = Seeded(host=f"{emu.account_id}.dkr.ecr.{emu.region}.amazonaws.com")
    span = 540  # days: 18 months
    release_tags: dict[str, list[tuple[str, str, int]]] = {}  # repo -> [(tag, digest, age_days)]

    def when(days: float) -> datetime:
        return now - timedelta(days=days, seconds=rng.randint(0, 3600))

    def last_pull(age: float, shape: RepoShape, hot: bool) -> datetime | None:
        if hot:
            return when(rng.uniform(0, 2))
        if shape.legacy:
            return when(max(370, age - rng.uniform(0, 20)))
        if rng.random() < 0.15:
            return None  # never pulled since the push
        return when(max(0.5, age - rng.uniform(0, 45)))

    for shape in SHAPES:
        seeded.repositories.append(shape.name)
        tags: list[tuple[str, str, int]] = []
        for i in range(shape.releases):
            age = span - (span - 3) * i / max(1, shape.releases - 1)  # oldest first, newest 3 days ago
            if shape.legacy:
                age = span - 170 * i / shape.releases  # legacy: the last release was a year ago
            tag = _release_tag(i)
            newest = i == shape.releases - 1
            hot = i >= shape.releases - shape.hot
            tag_list = [tag, "latest"] if newest else [tag]
            if shape.multi_arch:
                digest, children = emu.push_index(shape.name, tag_list, pushed_at=when(age))
                seeded.images += len(children) + 1
                for child in children:
                    emu.set_image_times(shape.name, child, last_pulled_at=last_pull(age, shape, hot))
            else:
                digest = emu.push_image(
                    shape.name,
                    tag_list,
                    pushed_at=when(age),
                    size_bytes=rng.randint(*shape.size_mb) * MB,
                    last_pulled_at=last_pull(age, shape, hot),
                )
                seeded.images += 1
            emu.set_image_times(shape.name, digest, last_pulled_at=last_pull(age, shape, hot))
            tags.append((tag, digest, int(age)))
            if i >= shape.releases - shape.signed:
                for artifact in (emu.push_signature(shape.name, digest), emu.push_sbom(shape.name, digest)):
                    emu.set_image_times(shape.name, artifact, pushed_at=when(age), last_pulled_at=None)
                    seeded.images += 1
        for b in range(shape.branches):
            age = rng.uniform(1, span)
            emu.push_image(
                shape.name,
                f"{BRANCHES[b % len(BRANCHES)]}-{b:02d}",
                pushed_at=when(age),
                size_bytes=rng.randint(*shape.size_mb) * MB,
                last_pulled_at=when(max(0.2, age - rng.uniform(0, 3))),
            )
            seeded.images += 1
        for _ in range(shape.untagged):
            age = rng.uniform(30, span)
            emu.push_image(
                shape.name,
                None,
                pushed_at=when(age),
                size_bytes=rng.randint(*shape.size_mb) * MB,
                last_pulled_at=None if rng.random() < 0.5 else when(max(1, age - 10)),
            )
            seeded.images += 1
        release_tags[shape.name] = tags

    # An untagged build that a worker task runs by digest only (tags moved on long ago).
    pinned = emu.push_image(
        "payments/worker", None, pushed_at=when(300), size_bytes=190 * MB, last_pulled_at=when(290)
    )
    seeded.images += 1
    seeded.in_use["payments/worker by digest (ECS task)"] = ("payments/worker", pinned)

    def release(repo: str, age_at_least: int) -> tuple[str, str]:
        tag, digest, _ = next(t for t in reversed(release_tags[repo]) if t[2] >= age_at_least)
        return tag, digest

    api_tag, api_digest = release("payments/api", 200)
    seeded.in_use[f"payments/api:{api_tag} (ECS task, by tag)"] = ("payments/api", api_digest)
    _, etl_digest = release("data/etl", 250)
    seeded.in_use[f"data/etl@{etl_digest[:15]}… (ECS task, by digest)"] = ("data/etl", etl_digest)
    web_tag, web_digest = release("web/frontend", 200)
    seeded.in_use[f"web/frontend:{web_tag} (ECS service, multi-arch index)"] = ("web/frontend", web_digest)
    fn_tag, fn_digest = release("notifier", 150)
    seeded.in_use[f"notifier:{fn_tag} (Lambda alias live)"] = ("notifier", fn_digest)
    legacy_tag, legacy_digest = release("legacy/monolith", 400)
    seeded.protected[f"legacy/monolith:{legacy_tag} (protect.images)"] = ("legacy/monolith", legacy_digest)
    for repo in seeded.repositories:  # every newest release carries ``latest``
        tag, digest, _ = release_tags[repo][-1]
        seeded.protected[f"{repo}:latest"] = (repo, digest)
    restore_tag, restore_digest = release("payments/api", 400)
    seeded.restore_target = ("payments/api", restore_tag)
    seeded.restore_digest = restore_digest

    _run_in_ecs(emu, seeded, api_tag, pinned, etl_digest, web_tag)
    _run_in_lambda(emu, seeded, fn_tag, release_tags["notifier"][-1][0])
    return seeded


def _run_in_ecs(emu: Emulator, seeded: Seeded, api_tag: str, pinned: str, etl: str, web_tag: str) -> None:
    import boto3
    from moto.ec2.utils import generate_instance_identity_document

    ecs = boto3.client("ecs", region_name=emu.region)
    ecs.create_cluster(clusterName="prod")
    instance = boto3.resource("ec2", region_name=emu.region).create_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1
    )[0]
    ecs.register_container_instance(
        cluster="prod", instanceIdentityDocument=json.dumps(generate_instance_identity_document(instance))
    )
    host = seeded.host
    tasks = {
        "payments-api": f"{host}/payments/api:{api_tag}",
        "payments-worker": f"{host}/payments/worker@{pinned}",
        "etl-nightly": f"{host}/data/etl@{etl}",
    }
    for family, image in tasks.items():
        ecs.register_task_definition(
            family=family, containerDefinitions=[{"name": family, "image": image, "memory": 256}]
        )
        ecs.run_task(cluster="prod", taskDefinition=family, launchType="EC2")
    ecs.register_task_definition(
        family="web",
        containerDefinitions=[{"name": "web", "image": f"{host}/web/frontend:{web_tag}", "memory": 256}],
    )
    ecs.create_service(cluster="prod", serviceName="web", taskDefinition="web", desiredCount=0)


def _run_in_lambda(emu: Emulator, seeded: Seeded, alias_tag: str, latest_tag: str) -> None:
    """``notifier``: alias ``live`` → version 1 (an old image), ``$LATEST`` → the newest one."""
    import boto3

    iam = boto3.client("iam", region_name=emu.region)
    role = iam.create_role(
        RoleName="notifier", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=emu.region)
    lam.create_function(
        FunctionName="notifier",
        Role=role,
        PackageType="Image",
        Code={"ImageUri": f"{seeded.host}/notifier:{alias_tag}"},
    )
    version = lam.publish_version(FunctionName="notifier")["Version"]
    lam.create_alias(FunctionName="notifier", Name="live", FunctionVersion=version)
    lam.update_function_code(FunctionName="notifier", ImageUri=f"{seeded.host}/notifier:{latest_tag}")


EXCLUSION_DECLARATIONS = {
    "security-scanners": (
        "StringList",
        "arn:aws:iam::123456789012:role/snyk-scanner,arn:aws:iam::123456789012:role/trivy",
    ),
    "platform/ci": (
        "String",
        "arn:aws:iam::123456789012:role/ci/health-check\narn:aws:iam::210987654321:role/crowdstrike-scan",
    ),
}
HAND_ADDED_EXCLUSION = "arn:aws:iam::123456789012:role/old-scanner"
#: The stack's worker role: the demo's credentials act as it, and (as the deployed exclusion sync
#: does for the stack's own roles) it is in the pull-time update exclusion list, so index
#: manifests are read exactly and no pull time moves.
WORKER_ROLE = "arn:aws:iam::123456789012:role/ecr-archiver-ArchiveImagesRole-DEMO"


def seed_stack(emu: Emulator, seeded: Seeded) -> dict[str, str]:
    """What the template creates (config, queue, bucket), the declarations, and the handlers' env."""
    import boto3

    from ecr_archiver.archiving.config import DEFAULT_CONFIG

    ssm = boto3.client("ssm", region_name=emu.region)
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    config["dryRun"] = False  # the demo archives for real (the stack ships with dryRun true)
    legacy = next(iter(k for k in seeded.protected if "protect.images" in k)).split(" ")[0]
    config["protect"]["images"] = [legacy]
    ssm.put_parameter(Name=CONFIG_PARAMETER, Value=json.dumps(config), Type="String")
    for team, (type_, value) in EXCLUSION_DECLARATIONS.items():
        ssm.put_parameter(Name=f"{EXCLUSIONS_PATH}{team}", Value=value, Type=type_)
    ecr = boto3.client("ecr", region_name=emu.region)
    ecr.register_pull_time_update_exclusion(principalArn=HAND_ADDED_EXCLUSION)
    ecr.register_pull_time_update_exclusion(principalArn=WORKER_ROLE)
    emu.principals[DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"]] = WORKER_ROLE
    sqs = boto3.client("sqs", region_name=emu.region)
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "960"})["QueueUrl"]
    boto3.client("s3", region_name=emu.region).create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb", region_name=emu.region).create_table(
        TableName=STATE_TABLE,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = boto3.client("sns", region_name=emu.region).create_topic(Name="ecr-archiver-restore-notices")
    return {
        "CONFIG_PARAMETER_NAME": CONFIG_PARAMETER,
        "WORK_QUEUE_URL": queue_url,
        "REPORT_BUCKET": BUCKET,
        "DRY_RUN": "false",
        "PREVIEW_DELAY_SECONDS": str(PREVIEW_DELAY_SECONDS),
        "PREVIEW_RETRY_SECONDS": str(PREVIEW_RETRY_SECONDS),
        "ARCHIVE_MAX_TPS": "1000",
        "ARCHIVE_CONCURRENCY": "8",
        "RESTORE_ALLOWED_REPOSITORIES": "*",
        "EXCLUSIONS_PARAMETER_PATH": EXCLUSIONS_PATH,
        "WORKER_ROLE_ARN": WORKER_ROLE,
        "OWN_ROLE_ARNS": WORKER_ROLE,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_PARAMETERS_MAX_AGE": "0",
        "STATE_TABLE_NAME": STATE_TABLE,
        "RESTORE_NOTICE_TOPIC_ARN": topic["TopicArn"],
        "REGISTRY_ID": emu.account_id,
        "AWS_REGION": emu.region,
    }


# -- the run ---------------------------------------------------------------------------------------
@dataclass
class DemoOutcome:
    seeded: Seeded
    plan_exit_code: int = -1
    plan_would_archive: int = 0
    archived: int = 0
    archived_bytes: int = 0
    protected: dict[str, int] = field(default_factory=dict)
    other_skips: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)  # (repo, digest) -> status
    restore_timeline: list[tuple[int, str]] = field(default_factory=list)  # (minutes, status)
    auto_restore_image: str = ""
    auto_restore_timeline: list[tuple[int, str]] = field(default_factory=list)  # (minutes, status)
    exclusions: list[str] = field(default_factory=list)
    exclusion_changes: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0


@contextlib.contextmanager
def logger_state() -> Iterator[None]:
    """Restore the shared Powertools logger's level and streams (the CLI re-routes them)."""
    from ecr_archiver.observability import logger

    level = logger.log_level
    handlers = [h for h in logger.handlers if hasattr(h, "setStream")]
    streams = [h.stream for h in handlers]  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)  # type: ignore[attr-defined]
        logger.setLevel(level)


@contextlib.contextmanager
def quiet(verbose: bool) -> Iterator[None]:
    """The handlers print EMF metrics and JSON logs for CloudWatch; keep them out of the demo."""
    from ecr_archiver.observability import logger, metrics

    sink: Any = sys.stderr if verbose else io.StringIO()
    level = logger.log_level
    handlers = [h for h in logger.handlers if hasattr(h, "setStream")]
    streams = [h.setStream(sink) for h in handlers]  # type: ignore[attr-defined]
    logger.setLevel("INFO" if verbose else "WARNING")
    try:
        with contextlib.redirect_stdout(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)  # type: ignore[attr-defined]
        logger.setLevel(level)
        metrics.clear_metrics()


def step_plan(emu: Emulator, out: Console, outcome: DemoOutcome, verbose: bool) -> None:
    """``ecr-archiver plan``, the CLI's own code path, with waiting on the emulator clock."""
    from ecr_archiver.cli import commands  # noqa: F401 - registers the commands
    from ecr_archiver.cli.context import CliContext, WaitClock
    from ecr_archiver.cli.main import cli

    clock = WaitClock(now=lambda: emu.clock.now().timestamp(), sleep=emu.clock.advance, simulated=True)
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
                obj=CliContext(wait_clock=clock),
            )
            outcome.plan_exit_code = 0
        except SystemExit as exc:  # pragma: no cover - the CLI signals failures this way
            outcome.plan_exit_code = int(exc.code or 0)
    check(outcome.plan_exit_code == 0, f"ecr-archiver plan exited {outcome.plan_exit_code}")
    images = json.loads(report.read_text())["images"]
    outcome.plan_would_archive = sum(1 for image in images if image["outcome"] == "WOULD_ARCHIVE")


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


def step_scheduled_run(
    emu: Emulator, env: dict[str, str], out: Console, outcome: DemoOutcome, verbose: bool
) -> None:
    from ecr_archiver.archiving.models import (
        PROTECTION_REASONS,
        ImageRecord,
        PlanResult,
        RepositoryResult,
    )
    from ecr_archiver.cli.archive_cmds import render_run
    from ecr_archiver.cli.local_run import LocalRun, RepositoryRun

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

    import boto3

    s3 = boto3.client("s3", region_name=emu.region)
    repositories: list[RepositoryRun] = []
    from ecr_archiver.adapters.ecr import EcrRegistry

    registry = EcrRegistry(boto3.client("ecr", region_name=emu.region))
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
    run = LocalRun(run_id=plan.run_id, dry_run=False, plan=plan, messages=[], repositories=repositories)
    render_run(run, out=out)

    for repo in repositories:
        totals = repo.result.totals
        outcome.archived += totals.archived
        outcome.archived_bytes += totals.bytes_archived
        outcome.failed += totals.failed
        for record in repo.records:
            if record.reason and record.reason in PROTECTION_REASONS:
                outcome.protected[record.reason] = outcome.protected.get(record.reason, 0) + 1
            elif record.reason:
                outcome.other_skips[record.reason] = outcome.other_skips.get(record.reason, 0) + 1
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
    in_use = Table(title="in use or protected: still ACTIVE", show_header=True)
    in_use.add_column("image")
    in_use.add_column("status")
    for label in [*seeded.in_use, *list(seeded.protected)[:2]]:
        repo, digest = {**seeded.in_use, **seeded.protected}[label]
        in_use.add_row(label, emu.image_status(repo, digest))
    out.print(in_use)


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
    declared = {
        a.strip() for _, v in EXCLUSION_DECLARATIONS.values() for a in v.replace("\n", ",").split(",")
    }
    declared.add(WORKER_ROLE)  # the stack's own roles are always kept
    check(
        set(outcome.exclusions) == declared, f"exclusions {outcome.exclusions} != declared {sorted(declared)}"
    )


def render_summary(out: Console, outcome: DemoOutcome) -> None:
    from ecr_archiver.cli.archive_cmds import human_bytes

    table = Table(title="summary", show_header=False)
    table.add_column("what")
    table.add_column("result")
    seeded = outcome.seeded
    table.add_row(
        "registry", f"{len(seeded.repositories)} repositories, {seeded.images} images, 18 months of history"
    )
    table.add_row(
        "archived", f"[bold]{outcome.archived}[/] images, [bold]{human_bytes(outcome.archived_bytes)}[/]"
    )
    table.add_row("protected", ", ".join(f"{k} {v}" for k, v in sorted(outcome.protected.items())))
    if outcome.other_skips:
        table.add_row("other skips", ", ".join(f"{k} {v}" for k, v in sorted(outcome.other_skips.items())))
    repo, tag = seeded.restore_target
    timeline = " → ".join(f"{s} (+{m}m)" for m, s in outcome.restore_timeline if m == 0 or s == "ACTIVE")
    table.add_row("restored", f"{repo}:{tag}: {timeline}")
    auto = " → ".join(f"{s} (+{m}m)" for m, s in outcome.auto_restore_timeline if m == 0 or s == "ACTIVE")
    table.add_row("auto-restored", f"{outcome.auto_restore_image}: {auto}")
    changes = outcome.exclusion_changes
    table.add_row(
        "exclusions",
        f"{len(outcome.exclusions)} registered (+{len(changes.get('added', []))} "
        f"-{len(changes.get('removed', []))})",
    )
    table.add_row("wall time", f"{outcome.seconds:.1f} s")
    out.print(table)


def run_demo(emu: Emulator, out: Console, *, verbose: bool = False) -> DemoOutcome:
    """Seed, plan, run, restore, sync; raises ``DemoFailure`` when a step misses its outcome."""
    # moto resolves Lambda image digests through (emulated) ECR only with this set.
    with environment({"MOTO_LAMBDA_STUB_ECR": "false"}):
        return _run_demo(emu, out, verbose=verbose)


def _run_demo(emu: Emulator, out: Console, *, verbose: bool) -> DemoOutcome:
    started = time.monotonic()
    emu.settings.preview_in_progress_for = PREVIEW_TAKES
    out.rule("[bold]0 · seed[/] a registry with 18 months of history")
    seeded = seed_registry(emu)
    env = seed_stack(emu, seeded)
    outcome = DemoOutcome(seeded=seeded)
    out.print(
        f"{len(seeded.repositories)} repositories, {seeded.images} images (releases, `latest`, "
        "branch builds, untagged, multi-arch indexes, signatures, SBOMs); ECS tasks and a service, "
        "a Lambda alias; "
        f"config {CONFIG_PARAMETER} and {len(EXCLUSION_DECLARATIONS)} exclusion declarations in SSM "
        f"({time.monotonic() - started:.1f} s)"
    )
    check(len(seeded.repositories) >= 10 and seeded.images >= 500, "the registry is smaller than promised")

    out.rule("[bold]1 · ecr-archiver plan[/] (dry run: what would be archived, and why not the rest)")
    step_plan(emu, out, outcome, verbose)
    out.rule("[bold]2 · the scheduled run[/]: plan_archive → SQS → archive_images")
    step_scheduled_run(emu, env, out, outcome, verbose)
    out.rule("[bold]3 · restore[/] through restore_api (API Gateway events)")
    step_restore(emu, env, out, outcome, verbose)
    out.rule("[bold]4 · automatic restore[/]: a task fails to start on an archived image (auto_restore)")
    step_auto_restore(emu, env, out, outcome, verbose)
    out.rule("[bold]5 · exclusion sync[/] from SSM (sync_exclusions)")
    step_exclusions(emu, env, out, outcome, verbose)
    outcome.seconds = time.monotonic() - started
    out.rule("[bold]6 · summary[/]")
    render_summary(out, outcome)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecr_harness.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="show the functions' JSON logs (stderr)")
    args = parser.parse_args(argv)
    out = Console()
    try:
        with emulated_aws() as emu:
            outcome = run_demo(emu, out, verbose=args.verbose)
    except DemoFailure as exc:
        out.print(f"[bold red]demo failed:[/] {exc}")
        return 1
    except Exception as exc:
        out.print_exception() if args.verbose else out.print(
            f"[bold red]demo crashed:[/] {type(exc).__name__}: {exc}"
        )
        return 1
    if outcome.seconds > 60:
        out.print(f"[yellow]the demo took {outcome.seconds:.0f} s (budget: 60 s)[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
