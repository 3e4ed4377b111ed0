"""The pull-time exclusion sync under faults: a path holding 150 values, throttling storms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.exclusions.conftest import role
from tests.integration.faults.conftest import SDK_ATTEMPTS

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")

Sync = Callable[..., dict[str, Any]]
Declare = Callable[..., None]
Registered = Callable[[], set[str]]
Emf = Callable[[], Counter[str]]
Logs = Callable[[], list[dict[str, Any]]]
CHANGES = ("RegisterPullTimeUpdateExclusion", "DeregisterPullTimeUpdateExclusion")
STORM = SDK_ATTEMPTS - 1


def declare_values(declare: Declare, values: list[str], per_parameter: int) -> None:
    """Spread ``values`` over as many parameters as a standard (4 KB) parameter needs."""
    for n, start in enumerate(range(0, len(values), per_parameter)):
        declare(f"team-{n:02d}", *values[start : start + per_parameter])


def test_a_path_holding_150_principals_is_refused_whole(
    sync: Sync, declare: Declare, registered: Registered, emulator: Any, emf: Emf, logs: Logs, ecr: Any
) -> None:
    # Given 150 distinct principals under the path (ECR allows 100), and the list as it stands
    ecr.register_pull_time_update_exclusion(principalArn=role("existing-scanner"))
    declare_values(declare, [role(f"scanner-{i:03d}") for i in range(150)], per_parameter=40)
    emulator.reset_calls()
    # When the sync runs
    result = sync()
    # Then it changes nothing, says why, and counts the refusal
    assert result["refused"] == "TooManyPrincipals"
    assert sum(emulator.calls[op] for op in CHANGES) == 0
    assert registered() == {role("existing-scanner")}
    assert emf()["ExclusionSyncRefused"] == 1
    (line,) = [entry for entry in logs() if "exclusion_sync" in entry]
    assert line["level"] == "ERROR"
    assert "150 distinct principals" in line["message"]


def test_150_values_naming_90_principals_sync_exactly_through_throttling_storms(
    sync: Sync, declare: Declare, registered: Registered, emulator: Any, emf: Emf
) -> None:
    # Given 15 teams declaring 10 principals each, 150 values naming 90 distinct principals
    principals = [role(f"bot-{i:03d}") for i in range(90)]
    values = principals + principals[:60]
    declare_values(declare, values, per_parameter=10)
    # And a storm on every call the sync makes
    for operation in (
        "ssm:GetParametersByPath",
        "ListPullTimeUpdateExclusions",
        "RegisterPullTimeUpdateExclusion",
    ):
        emulator.faults.set(operation, error_code="ThrottlingException", count=STORM)
    # When it runs
    result = sync()
    # Then each principal is registered once, none is lost, and the metrics say so
    assert registered() == set(principals)
    assert (len(result["added"]), result["failed"], result["refused"]) == (90, [], None)
    assert emulator.calls["RegisterPullTimeUpdateExclusion"] == 90 + STORM
    counted = emf()
    assert (counted["ExclusionsAdded"], counted["ExclusionChangesFailed"]) == (90, 0)
