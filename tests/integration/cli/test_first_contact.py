"""First contact: what a new user meets on a mistyped flag, a missing directory or a missing emulator.

Each failure is one line on stderr with the documented exit code, and changes nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ecr_archiver.cli import (
    commands,  # noqa: F401 - registers the commands
    report_file,
)
from ecr_archiver.cli.main import cli
from ecr_emulator import Emulator
from tests.integration.cli.conftest import Run, archive_now, old_image

PATH = "/ecr-archiver/pull-time-exclusions/"
BY_HAND = "arn:aws:iam::123456789012:role/by-hand"


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# -- the --report path -------------------------------------------------------------------------
@pytest.mark.usefixtures("config")
class TestReportPath:
    def test_archive_creates_the_missing_report_directory_and_writes_the_report(
        self, run: Run, emulator: Emulator, tmp_path: Path
    ):
        # Given an old image and a report path whose directories do not exist yet
        digest = old_image(emulator, "team/api", "v1")
        report = tmp_path / "runs" / "2026" / "run.json"
        # When archived with --yes
        result = run("archive", "--yes", "--report", str(report))
        # Then the image is archived and the report lists it
        assert result.exit_code == 0, result.stderr
        images = json.loads(report.read_text())["images"]
        assert [(i["digest"], i["outcome"]) for i in images] == [(digest, "ARCHIVED")]

    def test_a_report_path_that_cannot_be_written_fails_before_any_aws_call(
        self, run: Run, emulator: Emulator, tmp_path: Path
    ):
        # Given a report path below a regular file (its "directory" cannot be created)
        old_image(emulator, "team/api", "v1")
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("")
        emulator.reset_calls()
        # When archived with --yes
        result = run("archive", "--yes", "--report", str(blocker / "run.json"))
        # Then it is one line, exit 3, and ECR and SSM were never called
        assert result.exit_code == 3
        assert "--report" in one_error_line(result)
        assert sum(emulator.calls.values()) == 0

    def test_a_directory_as_report_path_is_refused_naming_a_file_instead(
        self, run: Run, emulator: Emulator, tmp_path: Path
    ):
        emulator.reset_calls()
        result = run("plan", "--report", str(tmp_path))
        assert result.exit_code == 2  # a usage error
        assert "is a directory" in result.stderr
        assert sum(emulator.calls.values()) == 0

    def test_a_report_that_cannot_be_written_after_archiving_is_kept_elsewhere(
        self, run: Run, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ):
        # Given a report path that fails when the run ends (the disk filled up meanwhile)
        digest = old_image(emulator, "team/api", "v1")
        report = tmp_path / "run.json"
        real_write = report_file._write_atomically

        def disk_full_for_the_report(path: Path, text: str) -> None:
            if path == report:
                raise OSError(28, "No space left on device")
            real_write(path, text)

        monkeypatch.setattr(report_file, "_write_atomically", disk_full_for_the_report)
        monkeypatch.setattr(report_file.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
        (tmp_path / "tmp").mkdir()
        # When archived
        result = run("archive", "--yes", "--report", str(report))
        # Then the report is in the temporary directory, and the warning says where
        assert result.exit_code == 0, result.stderr
        (kept,) = (tmp_path / "tmp").glob("ecr-archiver-report-*.json")
        assert str(kept) in result.stderr
        assert json.loads(kept.read_text())["images"][0]["digest"] == digest


# -- SDK failures -------------------------------------------------------------------------------
@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, no profiles: a machine where `aws configure` never ran."""
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def invoke(*args: str) -> Result:
    return CliRunner(mix_stderr=False).invoke(cli, list(args))


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.usefixtures("no_aws")
class TestSdkFailures:
    def test_no_emulator_running_is_one_line_and_exit_4_within_seconds(self, monkeypatch: Any):
        # Given credentials but nothing listening on the endpoint
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        started = time.monotonic()
        result = invoke("--endpoint-url", f"http://127.0.0.1:{closed_port()}", "status", "team/app:v1")
        assert result.exit_code == 4
        assert "Could not connect" in one_error_line(result)
        assert time.monotonic() - started < 15  # bounded retries: never the 30 s of the Lambda path

    def test_no_credentials_is_one_line_naming_the_fix(self):
        result = invoke("status", "team/app:v1")
        assert result.exit_code == 4
        assert "aws configure" in one_error_line(result)

    def test_a_mistyped_profile_is_one_line_and_exit_3(self):
        result = invoke("--profile", "nope", "status", "team/app:v1")
        assert result.exit_code == 3
        assert "nope" in one_error_line(result)

    def test_reading_the_configuration_without_a_connection_is_an_aws_failure_not_a_bad_config(
        self, monkeypatch: Any
    ):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        result = invoke("--endpoint-url", f"http://127.0.0.1:{closed_port()}", "plan")
        assert result.exit_code == 4
        assert "Could not connect" in one_error_line(result)


# -- global options after the command -----------------------------------------------------------
class TestGlobalOptions:
    def test_global_options_are_accepted_after_the_command(self, run: Run, emulator: Emulator):
        old_image(emulator, "team/api", "v1")
        result = run("plan", "--default-config", "--region", "us-east-1", "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["repositories"][0]["repository"] == "team/api"

    def test_a_profile_after_the_command_is_used(self, no_aws: None):
        result = invoke("status", "team/app:v1", "--profile", "nope")
        assert result.exit_code == 3
        assert "nope" in one_error_line(result)


# -- sync-exclusions messages -------------------------------------------------------------------
class TestSyncExclusionsMessages:
    def test_a_refusal_goes_to_stderr_and_names_the_cli_flag(self, run: Run, ecr: Any):
        # Given an exclusion registered by hand and nothing declared under the path
        ecr.register_pull_time_update_exclusion(principalArn=BY_HAND)
        # When synced
        result = run("sync-exclusions")
        # Then the refusal is one error line naming --allow-empty, not the Lambda's settings
        assert result.exit_code == 3
        line = one_error_line(result)
        assert "--allow-empty" in line
        assert "ALLOW_EMPTY_SYNC" not in line
        assert "AllowEmptyExclusionSync" not in line
        assert result.stdout == ""

    def test_an_invalid_extra_principal_is_attributed_to_the_extra_flag(self, run: Run):
        result = run("sync-exclusions", "--extra", "not-an-arn")
        assert result.exit_code == 3
        line = one_error_line(result)
        assert "in --extra" in line
        assert "ExtraExcludedPrincipals" not in line

    def test_nothing_to_sync_says_so_without_an_empty_table(self, run: Run):
        result = run("sync-exclusions")
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip().splitlines() == [
            f"nothing to change (applied): the 0 exclusion(s) in ECR match what {PATH} declares"
        ]


# -- output -------------------------------------------------------------------------------------
class TestOutput:
    def test_tables_do_not_wrap_when_stdout_is_not_a_terminal(self, run: Run, emulator: Emulator):
        # Given a repository whose name is wider than 80 columns
        name = "platform/" + "very-long-service-name-" * 5 + "api"
        old_image(emulator, name, "v1")
        # When planned into a pipe
        result = run("plan", "--default-config")
        # Then the name is on one line, whole
        assert result.exit_code == 0, result.stderr
        assert any(line.strip().startswith(name) for line in result.stdout.splitlines()), result.stdout

    def test_status_prints_values_not_python_reprs(self, run: Run, emulator: Emulator, ecr: Any):
        digest = old_image(emulator, "team/api", ["v1", "v2"])
        archive_now(ecr, "team/api", digest)
        result = run("status", "team/api:v1")
        assert result.exit_code == 0, result.stderr
        assert "['" not in result.stdout
        assert "None" not in result.stdout
        assert "v1, v2" in result.stdout

    @pytest.mark.parametrize("command", [[], *([name] for name in sorted(cli.commands))])
    def test_help_shows_no_raw_markup(self, command: list[str]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0
        assert "``" not in result.stdout
