"""The CLI against ``make emulator`` (a server on 127.0.0.1): ``--endpoint-url``, no context hooks.

Waiting finds the emulator's clock behind the endpoint (``/_emulator/clock``) and advances it,
so ``restore --wait`` against the emulator completes in no wall time.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import boto3
import pytest
from click.testing import CliRunner

from ecr_archiver.archiving.config import DEFAULT_CONFIG, DEFAULT_CONFIG_PARAMETER
from ecr_archiver.cli import commands  # noqa: F401 - registers the commands
from ecr_archiver.cli.main import cli
from ecr_emulator.pytest_plugin import EmulatorServer
from ecr_harness.wait_clock import emulator_clock

pytestmark = pytest.mark.server


def invoke(server: EmulatorServer, *args: str):
    return CliRunner(mix_stderr=False).invoke(cli, ["--endpoint-url", server.url, *args])


def test_the_emulator_clock_is_found_behind_a_loopback_endpoint(emulator_server: EmulatorServer):
    clock = emulator_clock(emulator_server.url)
    assert clock is not None
    before = emulator_server.emulator.clock.now()
    clock.sleep(90)
    assert emulator_server.emulator.clock.now() - before == timedelta(seconds=90)


def test_a_remote_endpoint_is_never_probed():
    assert emulator_clock("https://ecr.eu-west-1.amazonaws.com") is None


def test_plan_archive_and_restore_wait_through_the_server(emulator_server: EmulatorServer):
    emu = emulator_server.emulator
    emu.push_image("team/api", "v1", pushed_at=emu.clock.now() - timedelta(days=200))
    emu.settings.preview_in_progress_for = timedelta(minutes=2)
    ssm = boto3.client("ssm", region_name="us-east-1", endpoint_url=emulator_server.url)
    ssm.put_parameter(Name=DEFAULT_CONFIG_PARAMETER, Value=json.dumps(DEFAULT_CONFIG), Type="String")
    started = time.monotonic()

    plan = invoke(emulator_server, "--json", "plan")
    assert plan.exit_code == 0, plan.stderr
    assert json.loads(plan.stdout)["repositories"][0]["totals"]["wouldArchive"] == 1
    archive = invoke(emulator_server, "archive", "--yes", "--max-tps", "1000")
    assert archive.exit_code == 0, archive.stderr
    restore = invoke(emulator_server, "--json", "restore", "team/api:v1", "--wait")
    assert restore.exit_code == 0, restore.stderr
    assert json.loads(restore.stdout)["images"][0]["status"] == "ACTIVE"
    assert time.monotonic() - started < 30  # previews and the 10-minute restore cost no wall time
