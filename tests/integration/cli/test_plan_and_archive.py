"""``ecr-archiver plan`` and ``archive``: the planner and worker run in-process against the emulator."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecr_emulator import Emulator
from tests.integration.cli.conftest import Run, old_image

pytestmark = pytest.mark.usefixtures("config")

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def ecs_task_running(emulator: Emulator, image: str) -> None:
    """An ECS service whose task definition runs ``image`` (services need no container instance)."""
    ecs = boto3.client("ecs", region_name=emulator.region)
    ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": image, "memory": 128}]
    )
    ecs.create_cluster(clusterName="prod")
    ecs.create_service(cluster="prod", serviceName="app", taskDefinition="app", desiredCount=0)


@pytest.fixture
def registry(emulator: Emulator) -> dict[str, str]:
    """team/api: two unprotected old images, ``latest``, one in use by digest; team/web: one old image."""
    images = {
        "v1": old_image(emulator, "team/api", "v1"),
        "v2": old_image(emulator, "team/api", "v2"),
        "latest": old_image(emulator, "team/api", "latest"),
        "in_use": old_image(emulator, "team/api"),
        "web": old_image(emulator, "team/web", "v1"),
    }
    ecs_task_running(emulator, f"{HOST}/team/api@{images['in_use']}")
    return images


def records(report: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {r["digest"]: (r["outcome"], r.get("reason")) for r in report["images"]}


def test_plan_prints_the_per_repository_table(run: Run, registry: dict[str, str]):
    # When the plan runs against the SSM configuration
    result = run("plan")
    # Then it exits 0 and the table shows each repository with its counts and protection reasons
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip().startswith("team/")}
    assert lines["team/api"].split()[1:4] == ["4", "4", "2"]  # images, candidates, to archive
    assert "in-use digest 1" in result.stdout
    assert "protected tag 1" in result.stdout
    assert lines["team/web"].split()[1:4] == ["1", "1", "1"]


def test_plan_writes_a_report_and_changes_nothing(
    run: Run, registry: dict[str, str], emulator: Emulator, tmp_path: Path
):
    emulator.reset_calls()
    result = run("plan", "--report", str(tmp_path / "plan.json"))
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "plan.json").read_text())
    assert report["dryRun"] is True
    assert records(report) == {
        registry["v1"]: ("WOULD_ARCHIVE", None),
        registry["v2"]: ("WOULD_ARCHIVE", None),
        registry["latest"]: ("SKIPPED", "PROTECTED_TAG"),
        registry["in_use"]: ("SKIPPED", "IN_USE_DIGEST"),
        registry["web"]: ("WOULD_ARCHIVE", None),
    }
    by_repo = {r["repository"]: r for r in report["repositories"]}
    assert by_repo["team/api"]["totals"]["protected"] == {"PROTECTED_TAG": 1, "IN_USE_DIGEST": 1}
    assert by_repo["team/api"]["totals"]["bytesWouldArchive"] > 0
    assert {i["repository"] for i in report["images"]} == {"team/api", "team/web"}
    assert emulator.calls["UpdateImageStorageClass"] == 0
    assert emulator.calls["BatchGetImage"] == 0
    assert {emulator.image_status("team/api", d) for d in registry.values() if d != registry["web"]} == {
        "ACTIVE"
    }


def test_plan_json_prints_the_summary(run: Run, registry: dict[str, str]):
    result = run("--json", "plan")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(r["repository"] for r in summary["repositories"]) == ["team/api", "team/web"]
    assert sum(r["totals"]["wouldArchive"] for r in summary["repositories"]) == 3


def test_plan_reads_a_config_file(run: Run, registry: dict[str, str], tmp_path: Path):
    # Given a file that selects team/web only
    (tmp_path / "config.json").write_text(
        json.dumps({"repositories": [{"include": ["team/web"], "lifecyclePolicy": _policy(90)}]})
    )
    result = run("--json", "plan", "--config", str(tmp_path / "config.json"))
    assert result.exit_code == 0, result.stderr
    assert [r["repository"] for r in json.loads(result.stdout)["repositories"]] == ["team/web"]


def test_plan_waits_for_previews_on_the_clock(run: Run, registry: dict[str, str], emulator: Emulator):
    # Given previews that take five minutes
    emulator.settings.preview_in_progress_for = timedelta(minutes=5)
    before = emulator.clock.now()
    # When the plan runs, Then it polls until they complete
    result = run("--json", "plan", "--poll-interval", "30")
    assert result.exit_code == 0, result.stderr
    assert emulator.clock.now() - before >= timedelta(minutes=5)


def test_a_preview_that_never_completes_times_out_with_exit_6(
    run: Run, registry: dict[str, str], emulator: Emulator
):
    emulator.settings.preview_in_progress_for = timedelta(hours=2)
    result = run("plan", "--preview-timeout", "120", "--poll-interval", "30")
    assert result.exit_code == 6
    assert result.stderr.startswith("error: ")
    assert "preview not complete" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_invalid_config_is_one_line_and_exit_3(run: Run, registry: dict[str, str], tmp_path: Path):
    (tmp_path / "config.json").write_text(json.dumps({"protekt": {}}))
    result = run("plan", "--config", str(tmp_path / "config.json"))
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        "error: ConfigInvalid: configuration is invalid: protekt: Extra inputs are not permitted"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_missing_config_parameter_is_exit_3(run: Run, registry: dict[str, str]):
    result = run("plan", "--config-parameter", "/nope")
    assert result.exit_code == 3
    assert "'/nope' cannot be read" in result.stderr


def test_archive_asks_and_aborts_on_no(run: Run, registry: dict[str, str], emulator: Emulator):
    emulator.reset_calls()
    result = run("archive", input="n\n")
    assert result.exit_code == 1
    assert "Archive 3 image(s)" in result.stderr
    assert "aborted: nothing was archived" in result.stderr
    assert emulator.calls["UpdateImageStorageClass"] == 0
    assert emulator.image_status("team/api", registry["v1"]) == "ACTIVE"


def test_archive_on_yes_archives_exactly_the_plan(run: Run, registry: dict[str, str], emulator: Emulator):
    result = run("archive", "--max-tps", "1000", input="y\n")
    assert result.exit_code == 0, result.stderr
    repo = {"web": "team/web"}
    assert {k: emulator.image_status(repo.get(k, "team/api"), d) for k, d in registry.items()} == {
        "v1": "ARCHIVED",
        "v2": "ARCHIVED",
        "latest": "ACTIVE",
        "in_use": "ACTIVE",
        "web": "ARCHIVED",
    }
    assert emulator.calls["UpdateImageStorageClass"] == 3


def test_archive_yes_skips_the_prompt_and_reports(
    run: Run, registry: dict[str, str], emulator: Emulator, tmp_path: Path
):
    result = run("archive", "--yes", "--max-tps", "1000", "--report", str(tmp_path / "run.json"))
    assert result.exit_code == 0, result.stderr
    assert "[y/N]" not in result.stdout + result.stderr
    report = json.loads((tmp_path / "run.json").read_text())
    assert report["dryRun"] is False
    assert records(report)[registry["v1"]] == ("ARCHIVED", None)
    assert records(report)[registry["in_use"]] == ("SKIPPED", "IN_USE_DIGEST")
    assert emulator.image_status("team/api", registry["in_use"]) == "ACTIVE"


def test_archive_with_nothing_to_archive_does_not_ask(run: Run, emulator: Emulator):
    emulator.push_image("team/api", "fresh")
    result = run("archive")
    assert result.exit_code == 0
    assert "nothing to archive" in result.stdout


def test_archive_failures_exit_5(
    run: Run, registry: dict[str, str], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no SDK retries: the fault reaches the worker at once
    emulator.faults.set("UpdateImageStorageClass", error_code="ServerException", count=100)
    result = run("archive", "--yes", "--max-tps", "1000")
    assert result.exit_code == 5
    assert "partial failure: 3 image(s) failed" in result.stderr


def _policy(days: int) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePulled",
                    "countUnit": "days",
                    "countNumber": days,
                },
                "action": {"type": "transition", "targetStorageClass": "archive"},
            }
        ]
    }


def test_a_config_file_and_the_default_config_together_is_a_usage_error(run: Run, tmp_path: Path):
    (tmp_path / "config.json").write_text("{}")
    result = run("plan", "--default-config", "--config", str(tmp_path / "config.json"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: give at most one of --config and --default-config"
