"""``ecr-archiver sync-exclusions``: the exclusion reconcile from a laptop, against the emulator."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.cli.conftest import Run

PATH = "/ecr-archiver/pull-time-exclusions/"
SCANNER = "arn:aws:iam::123456789012:role/scanner"
BY_HAND = "arn:aws:iam::123456789012:role/by-hand"


def test_dry_run_shows_the_changes_and_makes_none(run: Run, ssm: Any, ecr: Any):
    ssm.put_parameter(Name=f"{PATH}team", Value=SCANNER, Type="StringList")
    ecr.register_pull_time_update_exclusion(principalArn=BY_HAND)
    result = run("--json", "sync-exclusions", "--dry-run")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["to_add"], body["to_remove"]) == ([SCANNER], [BY_HAND])
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [BY_HAND]


def test_sync_makes_the_list_equal_the_declarations(run: Run, ssm: Any, ecr: Any):
    ssm.put_parameter(Name=f"{PATH}team", Value=SCANNER, Type="StringList")
    ecr.register_pull_time_update_exclusion(principalArn=BY_HAND)
    result = run("sync-exclusions")
    assert result.exit_code == 0, result.stderr
    assert "scanner" in result.stdout
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [SCANNER]


def test_an_invalid_declaration_is_refused_with_exit_3(run: Run, ssm: Any, ecr: Any):
    ssm.put_parameter(Name=f"{PATH}team", Value="not-an-arn", Type="String")
    result = run("sync-exclusions")
    assert result.exit_code == 3
    assert "refused" in result.stderr
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []


def test_a_mistyped_path_is_refused_before_any_call(run: Run, emulator: Any):
    # Given a path without its slashes (which would declare nothing)
    emulator.reset_calls()
    # When synced, then it is one clear line, exit 3, and ECR is never called
    result = run("sync-exclusions", "--path", "ecr-archiver/pull-time-exclusions")
    assert result.exit_code == 3
    assert "parameter_path" in result.stderr
    assert sum(emulator.calls.values()) == 0
