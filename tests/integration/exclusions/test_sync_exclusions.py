"""sync_exclusions end to end: the handler in-process, Parameter Store and ECR emulated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecr_archiver.exclusions.logic import MAX_ATTEMPTS

from .conftest import PATH, emf_metrics, outcome_logs, role, sample_event

Sync = Callable[..., dict[str, Any]]
Declare = Callable[..., None]
Registered = Callable[[], set[str]]
Logs = Callable[[], list[dict[str, Any]]]
CHANGES = ("RegisterPullTimeUpdateExclusion", "DeregisterPullTimeUpdateExclusion")


@pytest.fixture
def preregister(ecr: Any, emulator: Any) -> Callable[..., None]:
    def register(*arns: str) -> None:
        for arn in arns:
            ecr.register_pull_time_update_exclusion(principalArn=arn)
        emulator.reset_calls()

    return register


def changes(emulator: Any) -> int:
    return sum(emulator.calls[op] for op in CHANGES)


class TestConverge:
    def test_registers_declared_and_deregisters_undeclared_principals(
        self, sync: Sync, declare: Declare, preregister: Callable[..., None], registered: Registered
    ) -> None:
        # Given two teams' declarations and a stale exclusion nobody declares any more
        declare("security", role("snyk"), role("trivy"))
        declare("platform", role("ci-health"))
        preregister(role("trivy"), role("retired-scanner"))

        # When the sync runs
        result = sync()

        # Then ECR lists exactly the declared principals
        assert registered() == {role("snyk"), role("trivy"), role("ci-health")}
        assert result["added"] == [role("ci-health"), role("snyk")]
        assert result["removed"] == [role("retired-scanner")]
        assert result["unchanged"] == [role("trivy")]
        assert result["failed"] == []

    def test_a_second_run_makes_no_change(
        self, sync: Sync, declare: Declare, preregister: Callable[..., None], emulator: Any
    ) -> None:
        declare("security", role("snyk"), role("trivy"))
        preregister(role("retired-scanner"))
        sync()
        emulator.reset_calls()

        result = sync()

        assert changes(emulator) == 0
        assert (result["added"], result["removed"]) == ([], [])
        assert result["unchanged"] == [role("snyk"), role("trivy")]

    def test_string_list_and_newline_separated_string_values_are_parsed(
        self, sync: Sync, declare: Declare, registered: Registered
    ) -> None:
        declare("security", raw=f" {role('snyk')} , {role('trivy')},", type_="StringList")
        declare("platform", raw=f"{role('ci')}\n  {role('bot')}\n\n{role('snyk')}", type_="String")

        sync()

        assert registered() == {role("snyk"), role("trivy"), role("ci"), role("bot")}

    def test_nested_parameters_under_the_path_count(
        self, sync: Sync, declare: Declare, registered: Registered
    ) -> None:
        declare("org/security/scanners", role("crowdstrike"))

        sync()

        assert registered() == {role("crowdstrike")}

    def test_extra_principals_from_the_template_are_registered(
        self, sync: Sync, declare: Declare, registered: Registered
    ) -> None:
        declare("security", role("snyk"))

        sync(EXTRA_EXCLUDED_PRINCIPALS=f"{role('archiver')},{role('restore')}")

        assert registered() == {role("snyk"), role("archiver"), role("restore")}

    def test_dry_run_reports_the_plan_and_changes_nothing(
        self,
        sync: Sync,
        declare: Declare,
        preregister: Callable[..., None],
        registered: Registered,
        emulator: Any,
    ) -> None:
        declare("security", role("snyk"))
        preregister(role("retired-scanner"))

        result = sync(DRY_RUN="true")

        assert changes(emulator) == 0
        assert registered() == {role("retired-scanner")}
        assert (result["to_add"], result["to_remove"]) == ([role("snyk")], [role("retired-scanner")])
        assert result["dry_run"] is True


class TestRefusals:
    def test_invalid_arns_change_nothing_and_each_is_named_with_its_parameter(
        self,
        sync: Sync,
        declare: Declare,
        preregister: Callable[..., None],
        registered: Registered,
        emulator: Any,
    ) -> None:
        assumed = "arn:aws:sts::123456789012:assumed-role/snyk/session-42"
        declare("security", role("snyk"), assumed)
        declare("platform", raw="arn:aws:iam::123456789012:root")
        preregister(role("retired-scanner"))

        result = sync()

        assert changes(emulator) == 0
        assert registered() == {role("retired-scanner")}
        assert result["refused"] == "InvalidPrincipals"
        assert [(i["value"], i["source"]) for i in result["invalid"]] == [
            ("arn:aws:iam::123456789012:root", f"{PATH}platform"),
            (assumed, f"{PATH}security"),
        ]
        assert f"{assumed!r} in {PATH}security" in result["reason"]
        assert f"'arn:aws:iam::123456789012:root' in {PATH}platform" in result["reason"]

    def test_a_secure_string_parameter_refuses_the_sync(
        self, sync: Sync, declare: Declare, emulator: Any
    ) -> None:
        declare("security", raw=role("snyk"), type_="SecureString")

        result = sync()

        assert result["refused"] == "InvalidPrincipals"
        assert result["invalid"][0]["source"] == f"{PATH}security"
        assert changes(emulator) == 0

    def test_more_than_100_principals_is_refused(self, sync: Sync, declare: Declare, emulator: Any) -> None:
        # Standard parameters hold 4 KB, so 101 principals take three parameters.
        principals = [role(f"scanner-{i:03}") for i in range(101)]
        for n, start in enumerate(range(0, 101, 40)):
            declare(f"team-{n}", *principals[start : start + 40])

        result = sync()

        assert result["refused"] == "TooManyPrincipals"
        assert "101 distinct principals" in result["reason"]
        assert changes(emulator) == 0

    def test_an_empty_path_does_not_wipe_the_registry(
        self, sync: Sync, preregister: Callable[..., None], registered: Registered, emulator: Any
    ) -> None:
        preregister(role("snyk"), role("trivy"))

        result = sync()

        assert result["refused"] == "EmptyDesiredSet"
        assert registered() == {role("snyk"), role("trivy")}
        assert changes(emulator) == 0

    def test_allow_empty_sync_empties_the_registry(
        self, sync: Sync, preregister: Callable[..., None], registered: Registered
    ) -> None:
        preregister(role("snyk"), role("trivy"))

        result = sync(ALLOW_EMPTY_SYNC="true")

        assert result["refused"] is None
        assert registered() == set()


class TestPartialFailure:
    def test_a_change_failing_past_retries_is_reported_and_the_next_run_converges(
        self, sync: Sync, declare: Declare, registered: Registered, emulator: Any
    ) -> None:
        # Given ECR failing the first principal's every attempt
        declare("security", role("a-first"), role("b-second"), role("c-third"))
        emulator.faults.set(
            "RegisterPullTimeUpdateExclusion", error_code="ServerException", count=MAX_ATTEMPTS
        )

        # When the sync runs, the failure is reported and everything else applied
        first = sync()
        assert [(f["principal_arn"], f["error_code"]) for f in first["failed"]] == [
            (role("a-first"), "ServerException")
        ]
        assert registered() == {role("b-second"), role("c-third")}

        # Then the next run converges
        second = sync()
        assert second["failed"] == []
        assert second["added"] == [role("a-first")]
        assert registered() == {role("a-first"), role("b-second"), role("c-third")}

    def test_transient_throttling_is_retried_within_the_run(
        self, sync: Sync, declare: Declare, registered: Registered, emulator: Any
    ) -> None:
        declare("security", role("snyk"))
        emulator.faults.set(
            "RegisterPullTimeUpdateExclusion", error_code="ThrottlingException", count=MAX_ATTEMPTS - 1
        )

        result = sync()

        assert result["failed"] == []
        assert registered() == {role("snyk")}
        assert emulator.calls["RegisterPullTimeUpdateExclusion"] == MAX_ATTEMPTS

    @pytest.mark.filterwarnings("ignore:No application metrics to publish")
    def test_an_unreadable_exclusion_list_fails_the_invocation_without_changes(
        self, sync: Sync, declare: Declare, emulator: Any
    ) -> None:
        declare("security", role("snyk"))
        emulator.faults.set("ListPullTimeUpdateExclusions", error_code="AccessDeniedException", count=1)

        with pytest.raises(Exception, match=r"AccessDenied|Injected"):
            sync()
        assert changes(emulator) == 0


class TestTriggers:
    def test_the_parameter_store_change_event_runs_a_sync(
        self, sync: Sync, declare: Declare, registered: Registered, logs: Logs
    ) -> None:
        declare("security-scanners", role("snyk"))

        result = sync(sample_event("sync_exclusions_parameter_change.json"))

        assert result["added"] == [role("snyk")]
        (log,) = outcome_logs(logs())
        assert log["trigger"]["kind"] == "parameter-change"
        assert log["trigger"]["parameter_name"] == f"{PATH}security-scanners"
        assert log["correlation_id"] == "6a7e4feb-b491-4cf7-a9f1-bf3703497718"

    def test_the_schedule_event_runs_a_sync(
        self, sync: Sync, declare: Declare, registered: Registered, logs: Logs
    ) -> None:
        declare("security", role("snyk"))

        sync(sample_event("sync_exclusions_schedule.json"))

        assert registered() == {role("snyk")}
        assert outcome_logs(logs())[0]["trigger"]["kind"] == "schedule"

    @pytest.mark.filterwarnings("ignore:No application metrics to publish")
    def test_an_unknown_event_is_rejected_before_anything_is_read(self, sync: Sync, emulator: Any) -> None:
        with pytest.raises(Exception, match="validation error"):
            sync({"source": "aws.ecr", "detail-type": "ECR Image Action"})
        assert emulator.calls["ListPullTimeUpdateExclusions"] == 0


class TestObservability:
    def test_changes_are_counted_in_metrics(
        self, sync: Sync, declare: Declare, preregister: Callable[..., None], stdout: Callable[[], str]
    ) -> None:
        declare("security", role("snyk"), role("trivy"))
        preregister(role("retired-scanner"))

        sync()

        metrics = emf_metrics(stdout())
        assert metrics["ExclusionsAdded"] == 2
        assert metrics["ExclusionsRemoved"] == 1
        assert metrics["ExclusionSyncRefused"] == 0

    def test_a_refusal_is_counted_and_logged_as_an_error(
        self, sync: Sync, declare: Declare, stdout: Callable[[], str], logs: Logs
    ) -> None:
        declare("security", raw="not-an-arn")

        sync()

        out = stdout()
        assert emf_metrics(out)["ExclusionSyncRefused"] == 1
        (log,) = outcome_logs(logs())
        assert log["level"] == "ERROR"
        assert "'not-an-arn' in /ecr-archiver/pull-time-exclusions/security" in log["message"]

    def test_the_outcome_is_one_structured_log_line(self, sync: Sync, declare: Declare, logs: Logs) -> None:
        declare("security", role("snyk"))

        sync()

        (log,) = outcome_logs(logs())
        assert log["exclusion_sync"]["added"] == [role("snyk")]
        assert log["exclusion_sync"]["dry_run"] is False
