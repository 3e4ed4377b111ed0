"""Fixtures for the exclusion-sync integration tests: the sync_exclusions handler run in-process
against the emulator (moto's SSM plus the emulated ECR exclusion APIs)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecr_archiver.exclusions import logic
from ecr_harness.runner import load_handler

ROOT = Path(__file__).resolve().parents[3]
APP_PATH = ROOT / "functions" / "sync_exclusions" / "app.py"
EVENTS = ROOT / "events"
PATH = "/ecr-archiver/pull-time-exclusions/"
ACCOUNT = "123456789012"


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def sample_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@dataclass
class LambdaContext:
    function_name: str = "sync-exclusions"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:sync-exclusions"
    aws_request_id: str = "5f0c3b1e-0000-4000-8000-000000000006"

    def get_remaining_time_in_millis(self) -> int:
        return 170_000


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """No botocore retries and no backoff sleeps: injected faults reach the sync's own retry loop."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setattr(logic, "BACKOFF_BASE_SECONDS", 0.0)


@pytest.fixture
def ssm(emulator: Any) -> Any:
    return boto3.client("ssm", region_name="us-east-1")


@pytest.fixture
def ecr(emulator: Any) -> Any:
    return boto3.client("ecr", region_name="us-east-1")


@pytest.fixture
def declare(ssm: Any) -> Callable[..., None]:
    """``declare("team", arn, ...)`` writes a StringList under the path; ``type_``/``raw`` for others."""

    def put(team: str, *arns: str, raw: str | None = None, type_: str = "StringList") -> None:
        value = raw if raw is not None else ",".join(arns)
        ssm.put_parameter(Name=f"{PATH}{team}", Value=value, Type=type_, Overwrite=True)

    return put


@pytest.fixture
def registered(ecr: Any) -> Callable[[], set[str]]:
    """The emulated registry's exclusion list, read through the real API."""

    def read() -> set[str]:
        out: set[str] = set()
        kwargs: dict[str, Any] = {"maxResults": 1000}
        while True:
            page = ecr.list_pull_time_update_exclusions(**kwargs)
            out.update(page.get("pullTimeUpdateExclusions", []))
            if not page.get("nextToken"):
                return out
            kwargs["nextToken"] = page["nextToken"]

    return read


@pytest.fixture
def sync(emulator: Any, fast_retries: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """``sync(event=None, **env)`` imports the handler with that environment and invokes it.

    Defaults: the standard path, DRY_RUN=false. ``event`` defaults to the manual ``{}``."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ECRArchiver")

    def invoke(event: dict[str, Any] | None = None, **env: str) -> dict[str, Any]:
        settings = {"EXCLUSIONS_PARAMETER_PATH": PATH, "DRY_RUN": "false", **env}
        for key, value in settings.items():
            monkeypatch.setenv(key, value)
        module = load_handler("sync_exclusions")
        return module.lambda_handler({} if event is None else event, LambdaContext())  # type: ignore[no-any-return]

    return invoke


@pytest.fixture
def stdout(capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """What was printed during the test (Powertools prints EMF metrics to stdout)."""
    return lambda: capsys.readouterr().out


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The JSON log lines of the Powertools logger (its handler keeps the stream it had at import,
    so it is pointed at a buffer of this test's own)."""
    from ecr_archiver.observability import logger

    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def emf_metrics(stdout: str) -> dict[str, float]:
    """Every EMF metric value printed by Powertools, by name (last value wins)."""
    out: dict[str, float] = {}
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                out[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return out


def outcome_logs(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "exclusion_sync" in line]
