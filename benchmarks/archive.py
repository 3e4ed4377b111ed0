"""Archive-throughput scenario: N candidates across R repositories, planned and archived for real.

The emulator (moto + the ECR extension) runs as an HTTP server in *this* process with the fault
rules of the scenario: ``latency`` seconds on every ECR call and a token bucket of ``tps`` calls per
second on UpdateImageStorageClass. The planner and the worker run as real handlers in subprocesses
(:mod:`benchmarks.lambda_sim`) that reach the emulator through ``AWS_ENDPOINT_URL``, exactly as
deployed code reaches AWS, so their ``ru_maxrss`` measures the worker alone.

After the run the harness checks the exactly-once properties: every candidate is ARCHIVED, the
successful UpdateImageStorageClass calls equal the candidates, and the reports hold one ARCHIVED
record per candidate.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ecr_archiver.archiving.config import DEFAULT_CONFIG_PARAMETER

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
CONFIG_NAME = DEFAULT_CONFIG_PARAMETER
BUCKET = "bench-reports"
STATE_TABLE = "bench-state"
ACCOUNT = "123456789012"
#: The template's archive_images timeout and margin; the harness scales both by ``time_scale``.
LAMBDA_TIMEOUT_MS = 900_000
LAMBDA_MARGIN_MS = 60_000
#: UpdateImageStorageClass calls per preview page: one GetLifecyclePolicyPreview + one DescribeImages.
PAGE = 100


@dataclass(frozen=True)
class Scenario:
    candidates: int
    repositories: int
    tps: float = 20.0
    latency: float = 0.020
    time_scale: float = 0.01
    #: ARCHIVE_MAX_TPS of the worker; ``None``: the emulator's cap (the operator set it to the quota).
    worker_tps: float | None = None
    concurrency: int = 8
    label: str = ""
    #: Archive workers running at once (the template's WorkerMaxConcurrency), each its own process.
    workers: int = 1
    #: Candidates per repository; ``None``: ``candidates`` split evenly over ``repositories``.
    per_repository: tuple[int, ...] | None = None
    #: What the rows call the registry's shape (``uniform``, ``skewed``, ``single``).
    shape: str = "uniform"

    @property
    def ideal_seconds(self) -> float:
        return self.candidates / self.tps

    def split(self) -> list[int]:
        return list(self.per_repository) if self.per_repository else split(self.candidates, self.repositories)

    @property
    def name(self) -> str:
        return self.label or f"{self.candidates:,}/{self.repositories:,}"


def skewed(total: int, big_share: float = 0.9, small: int = 50) -> tuple[int, ...]:
    """One repository with ``big_share`` of ``total``, the rest over ``small`` repositories."""
    big = int(total * big_share)
    return (big, *split(total - big, small))


def split(total: int, parts: int) -> list[int]:
    """``total`` candidates over ``parts`` repositories, as evenly as possible."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def page_floor(per_repo: list[int]) -> float:
    """Fewest ECR calls per archived image the worker can make: one archive call per image plus a
    preview page and a DescribeImages per 100 candidates of each repository, plus one DescribeImages
    page per 1000 images of each repository to find its multi-arch indexes."""
    total = sum(per_repo)
    reads = sum(2 * -(-n // PAGE) + -(-n // 1000) for n in per_repo if n)
    return (total + reads) / total if total else 0.0


def _config(tps: float) -> str:
    from ecr_archiver.archiving.config import DEFAULT_CONFIG

    document = json.loads(json.dumps(DEFAULT_CONFIG))
    document.update({"dryRun": False, "maxImagesPerRun": 1_000_000})
    return json.dumps(document)


def _subprocess_env(url: str, scenario: Scenario, queue_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CONFIG_PARAMETER_NAME": CONFIG_NAME,
            "WORK_QUEUE_URL": queue_url,
            "REPORT_BUCKET": BUCKET,
            "DRY_RUN": "false",
            "PREVIEW_DELAY_SECONDS": "0",
            "PREVIEW_RETRY_SECONDS": "0",
            "ARCHIVE_MAX_TPS": str(scenario.worker_tps or scenario.tps),
            "ARCHIVE_CONCURRENCY": str(scenario.concurrency),
            "WORKER_MAX_CONCURRENCY": str(scenario.workers),
            "STATE_TABLE_NAME": STATE_TABLE,
            "REGISTRY_ID": ACCOUNT,
            "TIME_BUDGET_MARGIN_SECONDS": "60",
            "POWERTOOLS_SERVICE_NAME": "ecr-archiver",
            "POWERTOOLS_METRICS_NAMESPACE": "ECRArchiver",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _run_sim(role: str, env: dict[str, str], workdir: Path, *extra: str) -> dict[str, Any]:
    out = workdir / f"{role}.json"
    err = workdir / f"{role}.stderr"
    with err.open("w") as stderr:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.lambda_sim", role, "--out", str(out), *extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,  # the handlers' JSON logs and EMF metrics
            stderr=stderr,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"{role} subprocess failed ({proc.returncode}): {err.read_text()[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _run_sims(count: int, env: dict[str, str], workdir: Path, *extra: str) -> list[dict[str, Any]]:
    """``count`` archive workers at once, each a separate process, all on the one queue."""
    procs = []
    for n in range(count):
        out, err = workdir / f"work-{n}.json", workdir / f"work-{n}.stderr"
        cmd = [sys.executable, "-m", "benchmarks.lambda_sim", "work", "--out", str(out), *extra]
        with err.open("w") as stderr:
            procs.append(
                (subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr), out, err)
            )
    results = []
    for proc, out, err in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"worker subprocess failed ({proc.returncode}): {err.read_text()[-2000:]}")
        results.append(json.loads(out.read_text()))
    return results


def _merge_workers(workers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seconds": max(w["seconds"] for w in workers),
        "invocations": sum(w["invocations"] for w in workers),
        "failures": sum(w["failures"] for w in workers),
        "overruns": sum(w["overruns"] for w in workers),
        "worst_overrun_ms": max(w["worst_overrun_ms"] for w in workers),
        "rss_warm_mib": max(w["rss_warm_mib"] for w in workers),
        "peak_rss_mib": max(w["peak_rss_mib"] for w in workers),
        "schedule_calls": sum(w.get("schedule_calls", 0) for w in workers),
        "leases": sum(w.get("leases", 0) for w in workers),
        "dropped_seconds": sum(w.get("dropped_seconds", 0.0) for w in workers),
        "per_worker_invocations": [w["invocations"] for w in workers],
    }


def _report_records(s3: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="reports/"):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".jsonl"):
                body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().decode()
                records.extend(json.loads(line) for line in body.splitlines() if line)
    return records


def _ecr_only(counter: Counter[str]) -> dict[str, int]:
    return {op: n for op, n in sorted(counter.items()) if ":" not in op}


def run_scenario(scenario: Scenario, workdir: Path, *, log: Any = print) -> dict[str, Any]:
    """Set up, plan, archive and verify one scenario; returns its figures."""
    import boto3

    from ecr_emulator import emulated_aws
    from ecr_emulator.server import quiet_request_log, start_in_thread

    quiet_request_log(logging.ERROR)
    workdir.mkdir(parents=True, exist_ok=True)
    per_repo = scenario.split()
    with emulated_aws(region=REGION) as emu:
        url, stop = start_in_thread(region=REGION)
        try:
            ssm = boto3.client("ssm", region_name=REGION)
            sqs = boto3.client("sqs", region_name=REGION)
            s3 = boto3.client("s3", region_name=REGION)
            ssm.put_parameter(Name=CONFIG_NAME, Value=_config(scenario.tps), Type="String", Overwrite=True)
            queue_url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "1800"})[
                "QueueUrl"
            ]
            s3.create_bucket(Bucket=BUCKET)
            boto3.client("dynamodb", region_name=REGION).create_table(
                TableName=STATE_TABLE,
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )

            started = time.perf_counter()
            old = emu.clock.now() - timedelta(days=200)
            digests: list[tuple[str, str]] = []
            for r, count in enumerate(per_repo):
                repo = f"bench/repo-{r:04d}"
                for i in range(count):
                    tags = [f"v{i}"] if i % 4 == 0 else None  # a quarter tagged, none protected
                    digests.append((repo, emu.push_image(repo, tags, pushed_at=old)))
            setup_s = time.perf_counter() - started
            log(f"  pushed {len(digests):,} images to {len(per_repo):,} repositories in {setup_s:.1f} s")

            emu.faults.set("*", latency=scenario.latency)
            emu.faults.set("UpdateImageStorageClass", latency=scenario.latency, tps=scenario.tps)
            env = _subprocess_env(url, scenario, queue_url)

            emu.reset_calls()
            planned = _run_sim("plan", env, workdir)
            plan_calls, plan_throttled = Counter(emu.calls), Counter(emu.throttled)
            log(f"  planned {planned['planned']:,} repositories in {planned['seconds']:.1f} s")

            emu.reset_calls()
            budget_ms = max(1, int(LAMBDA_TIMEOUT_MS * scenario.time_scale))
            margin_ms = max(1, int(LAMBDA_MARGIN_MS * scenario.time_scale))
            worked = _merge_workers(_run_sims(
                scenario.workers, env, workdir, "--queue-url", queue_url, "--budget-ms", str(budget_ms),
                "--margin-ms", str(margin_ms),
            ))  # fmt: skip
            work_calls, work_throttled = Counter(emu.calls), Counter(emu.throttled)
            update_times = emu.call_times("UpdateImageStorageClass")
            per_second = emu.calls_per_second("UpdateImageStorageClass")
            busiest_10s = emu.busiest_window("UpdateImageStorageClass", 10.0)
            emu.faults.clear()
            log(f"  archived in {worked['seconds']:.1f} s over {worked['invocations']:,} invocations")

            # -- exactly once --------------------------------------------------------------
            statuses = Counter(emu.image_status(repo, digest) for repo, digest in digests)
            records = _report_records(s3)
            archived_records = Counter(r["digest"] for r in records if r.get("outcome") == "ARCHIVED")
            outcomes = Counter(str(r.get("outcome")) for r in records)
        finally:
            stop()

    updates = work_calls["UpdateImageStorageClass"]
    throttled_updates = work_throttled["UpdateImageStorageClass"]
    ecr_work = _ecr_only(work_calls)
    ecr_plan = _ecr_only(plan_calls)
    ecr_work_total = sum(ecr_work.values())
    ecr_throttled = sum(n for op, n in work_throttled.items() if ":" not in op)
    plan_ecr_throttled = sum(n for op, n in plan_throttled.items() if ":" not in op)
    archived = outcomes.get("ARCHIVED", 0)
    span = update_times[-1] - update_times[0] if len(update_times) > 1 else 0.0
    window = min(10.0, span) if span else 10.0
    rate_calls = updates + worked["schedule_calls"]
    rate = {
        # The archive calls alone: from the first UpdateImageStorageClass to the last, against the
        # ideal (candidates - 1) / TPS between them. Worker start-up and the final report are not in it.
        "archive_span_seconds": span,
        "efficiency": ((scenario.candidates - 1) / scenario.tps) / span if span else 0.0,
        "busiest_10s_calls": busiest_10s,
        "busiest_10s_vs_cap": busiest_10s / (scenario.tps * window),
        "busiest_second": max(per_second) if per_second else 0,
        "schedule_calls": worked["schedule_calls"],
        "leases": worked["leases"],
        "dropped_seconds": worked["dropped_seconds"],
        "per_second": per_second,
        # Every call the rate design makes per archived image: archive calls (throttled retries
        # included) plus the schedule's DynamoDB writes.
        "design_calls_per_image": rate_calls / scenario.candidates if scenario.candidates else 0.0,
        "dynamodb_calls": {op: n for op, n in sorted(work_calls.items()) if op.startswith("dynamodb:")},
    }
    checks = {
        "all_archived": statuses.get("ARCHIVED", 0) == scenario.candidates,
        "successful_updates_equal_candidates": updates - throttled_updates == scenario.candidates,
        "one_record_per_candidate": len(archived_records) == scenario.candidates
        and set(archived_records.values()) == {1},
        "no_failures": outcomes.get("FAILED", 0) == 0 and worked["failures"] == 0,
        "no_overrun": worked["overruns"] == 0,
    }
    return {
        "scenario": {**asdict(scenario), "name": scenario.name},
        "setup_seconds": setup_s,
        "plan": {
            **planned,
            "seconds_per_repository": planned["seconds"] / scenario.repositories,
            "ecr_calls": ecr_plan,
            "ecr_throttled": plan_ecr_throttled,
        },
        "work": {
            **worked,
            "budget_ms": budget_ms,
            "margin_ms": margin_ms,
            "continuations": work_calls.get("sqs:SendMessage", 0),
            "ecr_calls": ecr_work,
            "ecr_calls_total": ecr_work_total,
            "ecr_throttled": ecr_throttled,
            "other_calls": {op: n for op, n in sorted(work_calls.items()) if ":" in op},
        },
        "archived": archived,
        "ideal_seconds": scenario.ideal_seconds,
        "efficiency": scenario.ideal_seconds / worked["seconds"] if worked["seconds"] else 0.0,
        "rate": rate,
        # Calls that did something: throttled rejections are retries, not work.
        "ecr_calls_per_image": (ecr_work_total - ecr_throttled) / archived if archived else 0.0,
        "ecr_calls_per_image_with_plan": (
            (ecr_work_total - ecr_throttled + sum(ecr_plan.values()) - plan_ecr_throttled) / archived
            if archived
            else 0.0
        ),
        "calls_per_image_floor": page_floor(per_repo),
        "checks": checks,
        "ok": all(checks.values()),
    }
