"""``ecr-archiver restore`` and ``status`` against the emulator (direct mode: no deployed API)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ecr_emulator import Emulator
from tests.integration.cli.conftest import Run, archive_now, old_image


@pytest.fixture
def archived(emulator: Emulator, ecr: Any) -> str:
    """team/api:v1, archived, with an archived signature."""
    digest = old_image(emulator, "team/api", "v1")
    signature = emulator.push_signature("team/api", digest)
    archive_now(ecr, "team/api", digest)
    archive_now(ecr, "team/api", signature)
    return digest


def test_restore_starts_the_restore_and_its_referrers(run: Run, archived: str, emulator: Emulator):
    result = run("--json", "restore", "team/api:v1")
    assert result.exit_code == 0, result.stderr
    (image,) = json.loads(result.stdout)["images"]
    assert (image["digest"], image["status"]) == (archived, "ACTIVATING")
    assert [r["status"] for r in image["referrers"]] == ["ACTIVATING"]
    assert emulator.image_status("team/api", archived) == "ACTIVATING"


def test_restore_wait_polls_until_active_on_the_emulator_clock(run: Run, archived: str, emulator: Emulator):
    before = emulator.clock.now()
    result = run("--json", "restore", "team/api:v1", "--wait", "--interval", "60")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["images"][0]["status"] == "ACTIVE"
    assert emulator.image_status("team/api", archived) == "ACTIVE"
    # the emulator restores in 10 minutes; the CLI waited on its clock, not the wall clock
    assert timedelta(minutes=10) <= emulator.clock.now() - before <= timedelta(minutes=12)


def test_restore_wait_times_out_with_exit_6(run: Run, archived: str):
    result = run("restore", "team/api:v1", "--wait", "--interval", "60", "--timeout", "120")
    assert result.exit_code == 6
    assert result.stderr.strip().splitlines() == [
        "error: timed out after 120s; still ACTIVATING: team/api@" + archived
    ]


def test_restore_from_report_restores_every_archived_image(
    run: Run, emulator: Emulator, ecr: Any, tmp_path: Path
):
    # Given a run's report listing two archived images (and one skipped)
    digests = [old_image(emulator, "team/api", f"v{n}") for n in range(3)]
    for digest in digests[:2]:
        archive_now(ecr, "team/api", digest)
    report = {
        "images": [
            {"repository": "team/api", "digest": digests[0], "outcome": "ARCHIVED"},
            {"repository": "team/api", "digest": digests[1], "outcome": "ARCHIVED"},
            {"repository": "team/api", "digest": digests[2], "outcome": "SKIPPED", "reason": "PROTECTED_TAG"},
        ]
    }
    (tmp_path / "run.json").write_text(json.dumps(report))
    # When it is rolled back
    result = run("--json", "restore", "--from-report", str(tmp_path / "run.json"), "--wait")
    # Then both archived images are back, and the skipped one was not touched
    assert result.exit_code == 0, result.stderr
    assert [i["status"] for i in json.loads(result.stdout)["images"]] == ["ACTIVE", "ACTIVE"]
    assert emulator.calls["UpdateImageStorageClass"] == 4  # two archives, two restores


def test_archive_then_restore_from_its_own_report_is_a_rollback(
    run: Run, emulator: Emulator, tmp_path: Path, config: Any
):
    digests = [old_image(emulator, "team/api", f"v{n}") for n in range(3)]
    assert run("archive", "--yes", "--max-tps", "1000", "--report", str(tmp_path / "r.json")).exit_code == 0
    assert {emulator.image_status("team/api", d) for d in digests} == {"ARCHIVED"}
    result = run("restore", "--from-report", str(tmp_path / "r.json"), "--wait")
    assert result.exit_code == 0, result.stderr
    assert {emulator.image_status("team/api", d) for d in digests} == {"ACTIVE"}


def test_status_shows_the_storage_status(run: Run, archived: str):
    result = run("--json", "status", f"team/api@{archived}")
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    assert (status["status"], status["tags"]) == ("ARCHIVED", ["v1"])
    table = run("status", "team/api:v1")
    assert table.exit_code == 0
    assert "ARCHIVED" in table.stdout


def test_an_unknown_image_is_one_line_and_exit_4(run: Run, archived: str):
    result = run("restore", "team/api:nope")
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ImageNotFoundException")
    assert "Traceback" not in result.stdout + result.stderr


def test_a_malformed_reference_is_exit_3(run: Run, emulator: Emulator):
    result = run("status", "Not A Ref")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stdout + result.stderr


def test_image_and_from_report_together_is_a_usage_error(run: Run, tmp_path: Path, emulator: Emulator):
    (tmp_path / "r.json").write_text("{}")
    result = run("restore", "team/api:v1", "--from-report", str(tmp_path / "r.json"))
    assert result.exit_code == 2
