"""Rollback of a scheduled run: ``restore --from-report s3://BUCKET/reports/<runId>/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecr_emulator import Emulator
from tests.integration.archiving.conftest import Stack
from tests.integration.cli.conftest import Run


@pytest.fixture
def stack(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return Stack(emulator, monkeypatch)


def _run_id(stack: Stack) -> str:
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="reports/")["Contents"]]
    (run_id,) = {key.split("/")[1] for key in keys}
    return run_id


def test_a_scheduled_runs_s3_report_rolls_back_every_archived_image(
    run: Run, stack: Stack, emulator: Emulator
):
    # Given a real scheduled run that archived images in a nested repository and kept `latest`
    stack.config(dryRun=False)
    archived = [stack.old_image("team-a/api", [f"v{n}"]) for n in range(3)]
    kept = stack.old_image("team-a/api", ["latest"])
    stack.plan()
    stack.work_all()
    assert all(emulator.image_status("team-a/api", d) == "ARCHIVED" for d in archived)
    # When the run is rolled back from its S3 report prefix
    result = run("--json", "restore", "--from-report", f"s3://{stack.bucket}/reports/{_run_id(stack)}/")
    # Then exactly the archived images are restoring, and the protected one was never touched
    assert result.exit_code == 0, result.stderr
    restored = {image["digest"] for image in json.loads(result.stdout)["images"]}
    assert restored == set(archived)
    assert all(emulator.image_status("team-a/api", d) == "ACTIVATING" for d in archived)
    assert emulator.image_status("team-a/api", kept) == "ACTIVE"


def test_a_bucket_url_outside_reports_is_refused_with_exit_3(run: Run, stack: Stack):
    result = run("restore", "--from-report", f"s3://{stack.bucket}/elsewhere/")
    assert result.exit_code == 3
    assert "expected s3://BUCKET/reports/<runId>/" in result.stderr


def test_a_single_json_lines_record_naming_its_repository_is_read(
    run: Run, emulator: Emulator, ecr: Any, tmp_path: Path
):
    digest = emulator.push_image("team/api", "v1")
    ecr.update_image_storage_class(
        repositoryName="team/api", imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )
    report = tmp_path / "one.jsonl"
    report.write_text(json.dumps({"repository": "team/api", "digest": digest, "outcome": "ARCHIVED"}) + "\n")
    result = run("restore", "--from-report", str(report))
    assert result.exit_code == 0, result.stderr
    assert emulator.image_status("team/api", digest) == "ACTIVATING"


def test_a_record_without_a_repository_is_refused_before_any_restore(
    run: Run, emulator: Emulator, tmp_path: Path
):
    report = tmp_path / "part.jsonl"
    report.write_text(json.dumps({"digest": "sha256:" + "a" * 64, "outcome": "ARCHIVED"}) + "\n")
    emulator.reset_calls()
    result = run("restore", "--from-report", str(report))
    assert result.exit_code == 3
    assert "names no repository" in result.stderr
    assert emulator.calls["UpdateImageStorageClass"] == 0
