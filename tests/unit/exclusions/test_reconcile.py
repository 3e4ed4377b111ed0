"""reconcile_exclusions against in-memory fakes: plan, apply, safety refusals, retries."""

from __future__ import annotations

import pytest

from ecr_archiver.errors import AwsServiceError, Throttled
from ecr_archiver.exclusions.logic import (
    MAX_ATTEMPTS,
    NOT_ATTEMPTED,
    call_with_retries,
    plan_exclusions,
    reconcile_exclusions,
)
from ecr_archiver.exclusions.models import ChangeAction, RefusalReason, SyncResult

from .builders import PATH, FakeParameterStore, FakeRegistry, no_sleep, options, role


def sync(store: FakeParameterStore, registry: FakeRegistry, **overrides: object) -> SyncResult:
    return reconcile_exclusions(options(**overrides), store=store, registry=registry, sleep=no_sleep)


class TestPlan:
    def test_splits_into_add_remove_and_unchanged(self) -> None:
        plan = plan_exclusions(desired=[role("a"), role("b")], current=[role("b"), role("c")])

        assert (plan.to_add, plan.to_remove, plan.unchanged) == ((role("a"),), (role("c"),), (role("b"),))


class TestConverge:
    def test_registers_missing_and_deregisters_extra_principals(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"), role("trivy"))
        registry = FakeRegistry(role("trivy"), role("retired"))

        result = sync(store, registry)

        assert registry.principals == {role("snyk"), role("trivy")}
        assert result.added == (role("snyk"),)
        assert result.removed == (role("retired"),)
        assert result.unchanged == (role("trivy"),)
        assert result.failed == ()
        assert result.refused is None

    def test_reads_the_configured_path_recursively(self) -> None:
        store = FakeParameterStore().put(f"{PATH}platform/ci", role("ci"))
        registry = FakeRegistry()

        sync(store, registry)

        assert store.reads == [PATH]
        assert registry.principals == {role("ci")}

    def test_extra_principals_are_registered(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"))
        registry = FakeRegistry()

        sync(store, registry, extra_principals=(role("archiver"),))

        assert registry.principals == {role("snyk"), role("archiver")}

    def test_a_second_run_changes_nothing(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"), role("trivy"))
        registry = FakeRegistry(role("retired"))
        sync(store, registry)
        registry.calls.clear()

        result = sync(store, registry)

        assert registry.changes == 0
        assert (result.added, result.removed) == ((), ())
        assert result.unchanged == (role("snyk"), role("trivy"))

    def test_already_registered_counts_as_success(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"))

        class RacingRegistry(FakeRegistry):
            def list_pull_time_exclusions(self) -> list[str]:
                listed = super().list_pull_time_exclusions()
                self.principals.add(role("snyk"))  # someone registers it right after our list
                return listed

        registry = RacingRegistry()

        result = sync(store, registry)

        assert result.added == (role("snyk"),)
        assert result.failed == ()

    def test_already_deregistered_counts_as_success(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"))

        class RacingRegistry(FakeRegistry):
            def list_pull_time_exclusions(self) -> list[str]:
                listed = super().list_pull_time_exclusions()
                self.principals.discard(role("gone"))
                return listed

        registry = RacingRegistry(role("snyk"), role("gone"))

        result = sync(store, registry)

        assert result.removed == (role("gone"),)
        assert result.failed == ()

    def test_deregisters_before_registering_so_a_full_registry_can_rotate(self) -> None:
        old = [role(f"old-{i:03}") for i in range(100)]
        new = [role(f"new-{i:03}") for i in range(100)]
        store = FakeParameterStore().team("all", *new)
        registry = FakeRegistry(*old)

        result = sync(store, registry)

        assert result.failed == ()
        assert registry.principals == set(new)


class TestDryRun:
    def test_plans_without_changing_anything(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"))
        registry = FakeRegistry(role("retired"))

        result = sync(store, registry, dry_run=True)

        assert registry.changes == 0
        assert registry.principals == {role("retired")}
        assert (result.to_add, result.to_remove) == ((role("snyk"),), (role("retired"),))
        assert (result.added, result.removed) == ((), ())
        assert result.dry_run is True


class TestInvalidPrincipalsRefusal:
    def test_one_invalid_value_refuses_the_whole_sync(self) -> None:
        store = FakeParameterStore().team(
            "scanners", role("snyk"), "arn:aws:sts::123456789012:assumed-role/x/y"
        )
        registry = FakeRegistry(role("retired"))

        result = sync(store, registry)

        assert result.refused is RefusalReason.INVALID_PRINCIPALS
        assert registry.changes == 0
        assert registry.principals == {role("retired")}

    def test_the_reason_names_each_bad_value_and_its_parameter(self) -> None:
        store = (
            FakeParameterStore()
            .team("team-a", role("ok"), "arn:aws:iam::123456789012:root")
            .team("team-b", "snyk")
        )

        result = sync(store, FakeRegistry())

        assert result.reason is not None
        assert f"'arn:aws:iam::123456789012:root' in {PATH}team-a" in result.reason
        assert f"'snyk' in {PATH}team-b" in result.reason
        assert "Nothing was changed" in result.reason
        assert [(i.value, i.source) for i in result.invalid] == [
            ("arn:aws:iam::123456789012:root", f"{PATH}team-a"),
            ("snyk", f"{PATH}team-b"),
        ]


class TestLimitRefusal:
    def test_more_than_100_principals_is_refused(self) -> None:
        store = FakeParameterStore().team("a", *[role(f"r{i}") for i in range(60)])
        store.team("b", *[role(f"r{i}") for i in range(50, 101)])  # 101 distinct in total
        registry = FakeRegistry(role("retired"))

        result = sync(store, registry)

        assert result.refused is RefusalReason.TOO_MANY_PRINCIPALS
        assert result.desired_count == 101
        assert "at most 100" in (result.reason or "")
        assert registry.changes == 0

    def test_exactly_100_principals_is_synced(self) -> None:
        store = FakeParameterStore().team("a", *[role(f"r{i}") for i in range(100)])
        registry = FakeRegistry()

        result = sync(store, registry)

        assert result.refused is None
        assert len(registry.principals) == 100


class TestEmptySetGuard:
    def test_an_empty_path_does_not_wipe_the_list(self) -> None:
        registry = FakeRegistry(role("snyk"), role("trivy"))

        result = sync(FakeParameterStore(), registry)

        assert result.refused is RefusalReason.EMPTY_DESIRED_SET
        assert registry.principals == {role("snyk"), role("trivy")}
        assert registry.changes == 0
        assert "ALLOW_EMPTY_SYNC" in (result.reason or "")

    def test_extra_principals_alone_do_not_defeat_the_guard(self) -> None:
        registry = FakeRegistry(role("snyk"), role("archiver"))

        result = sync(FakeParameterStore(), registry, extra_principals=(role("archiver"),))

        assert result.refused is RefusalReason.EMPTY_DESIRED_SET
        assert registry.principals == {role("snyk"), role("archiver")}

    def test_allow_empty_deregisters_everything(self) -> None:
        registry = FakeRegistry(role("snyk"), role("trivy"))

        result = sync(FakeParameterStore(), registry, allow_empty=True)

        assert result.refused is None
        assert registry.principals == set()
        assert result.removed == (role("snyk"), role("trivy"))

    def test_empty_path_and_empty_registry_is_not_a_refusal(self) -> None:
        result = sync(FakeParameterStore(), FakeRegistry())

        assert result.refused is None


class TestFailures:
    def test_server_errors_are_retried_until_the_call_succeeds(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"))
        registry = FakeRegistry().fail("register", "ServerException", times=MAX_ATTEMPTS - 1)

        result = sync(store, registry)

        assert result.added == (role("snyk"),)
        assert registry.calls["register"] == MAX_ATTEMPTS

    def test_throttling_is_retried(self) -> None:
        store = FakeParameterStore().team("scanners", role("snyk"))
        registry = FakeRegistry().fail("deregister", "ThrottlingException", times=2)
        registry.principals.add(role("retired"))

        result = sync(store, registry)

        assert result.removed == (role("retired"),)

    def test_a_change_still_failing_after_retries_is_reported_and_the_rest_applied(self) -> None:
        store = FakeParameterStore().team("scanners", role("a"), role("b"))
        registry = FakeRegistry().fail("register", "ServerException", times=MAX_ATTEMPTS)

        result = sync(store, registry)

        (failure,) = result.failed
        assert (failure.principal_arn, failure.action) == (role("a"), ChangeAction.REGISTER)
        assert (failure.error_code, failure.attempts) == ("ServerException", MAX_ATTEMPTS)
        assert result.added == (role("b"),)

    def test_errors_that_retrying_cannot_fix_are_not_retried(self) -> None:
        store = FakeParameterStore().team("scanners", role("a"))
        registry = FakeRegistry().fail("register", "AccessDeniedException", times=1)

        result = sync(store, registry)

        assert registry.calls["register"] == 1
        assert result.failed[0].error_code == "AccessDeniedException"

    def test_the_next_run_converges_after_a_partial_failure(self) -> None:
        store = FakeParameterStore().team("scanners", role("a"), role("b"), role("c"))
        registry = FakeRegistry(role("old")).fail("register", "ServerException", times=MAX_ATTEMPTS * 2)
        first = sync(store, registry)
        assert len(first.failed) == 2

        second = sync(store, registry)

        assert second.failed == ()
        assert second.added == (role("a"), role("b"))
        assert registry.principals == {role("a"), role("b"), role("c")}

    def test_changes_left_when_time_runs_out_are_reported_as_not_attempted(self) -> None:
        store = FakeParameterStore().team("scanners", role("a"), role("b"), role("c"))
        registry = FakeRegistry()
        budget = iter([60_000, 60_000, 1_000])

        result = reconcile_exclusions(
            options(), store=store, registry=registry, sleep=no_sleep, remaining_ms=lambda: next(budget)
        )

        assert result.added == (role("a"), role("b"))
        assert [(f.principal_arn, f.error_code) for f in result.failed] == [(role("c"), NOT_ATTEMPTED)]

    def test_an_unreadable_exclusion_list_raises_before_any_change(self) -> None:
        store = FakeParameterStore().team("scanners", role("a"))
        registry = FakeRegistry().fail("list", "AccessDeniedException")

        with pytest.raises(AwsServiceError):
            sync(store, registry)
        assert registry.changes == 0


class TestCallWithRetries:
    def test_stops_retrying_when_the_invocation_is_out_of_time(self) -> None:
        calls: list[int] = []

        def call() -> None:
            calls.append(1)
            raise Throttled("slow down")

        with pytest.raises(Throttled):
            call_with_retries(call, sleep=no_sleep, out_of_time=lambda: True)
        assert len(calls) == 1

    def test_backs_off_exponentially_between_attempts(self) -> None:
        delays: list[float] = []
        outcomes = iter([Throttled("slow down"), Throttled("slow down"), None])

        def call() -> str:
            error = next(outcomes)
            if error:
                raise error
            return "ok"

        assert call_with_retries(call, sleep=delays.append) == "ok"
        assert delays == [0.25, 0.5]
