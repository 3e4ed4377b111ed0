"""The ``ecr-archiver`` CLI, invoked with click's ``CliRunner`` against the in-process emulator.

Waiting (previews, restores) runs on the emulator clock: the runner hands the CLI a context whose
``wait_clock`` advances the emulator instead of sleeping, so a 10-minute restore takes no time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from ecr_archiver.archiving.config import DEFAULT_CONFIG, DEFAULT_CONFIG_PARAMETER
from ecr_archiver.cli import commands  # noqa: F401 - registers the commands
from ecr_archiver.cli.context import CliContext, WaitClock
from ecr_archiver.cli.main import cli
from ecr_emulator import Emulator
from ecr_harness.logs import logger_state

CONFIG_NAME = DEFAULT_CONFIG_PARAMETER
OLD = timedelta(days=200)  # older than the default 90-day sinceImagePulled rule

Run = Callable[..., Result]


def emulator_wait_clock(emulator: Emulator) -> WaitClock:
    return WaitClock(
        now=lambda: emulator.clock.now().timestamp(), sleep=emulator.clock.advance, simulated=True
    )


@pytest.fixture(autouse=True)
def _restore_the_logger() -> Iterator[None]:
    """The CLI routes the shared Powertools logger to stderr at WARNING; later tests expect INFO."""
    with logger_state():
        yield


@pytest.fixture
def run(emulator: Emulator) -> Run:
    """``run("plan", "--json", input="y\\n")``: invoke the CLI; stdout and stderr kept apart."""

    def invoke(*args: str, input: str | None = None) -> Result:
        runner = CliRunner(mix_stderr=False)
        context = CliContext(wait_clock=emulator_wait_clock(emulator))
        return runner.invoke(cli, list(args), input=input, obj=context, catch_exceptions=False)

    return invoke


@pytest.fixture
def ecr(emulator: Emulator) -> Any:
    return boto3.client("ecr", region_name=emulator.region)


@pytest.fixture
def ssm(emulator: Emulator) -> Any:
    return boto3.client("ssm", region_name=emulator.region)


@pytest.fixture
def config(ssm: Any) -> Callable[..., None]:
    """Store the default configuration in SSM, with top-level overrides."""

    def put(**overrides: Any) -> None:
        document = {**json.loads(json.dumps(DEFAULT_CONFIG)), **overrides}
        ssm.put_parameter(Name=CONFIG_NAME, Value=json.dumps(document), Type="String", Overwrite=True)

    put()
    return put


def old_image(emulator: Emulator, repo: str, tags: Any = None) -> str:
    return emulator.push_image(repo, tags, pushed_at=emulator.clock.now() - OLD)


def archive_now(ecr: Any, repo: str, digest: str) -> None:
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )
