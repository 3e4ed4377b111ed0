"""``make demo`` cannot rot: its core runs here, on the same emulator, and its outcomes are checked."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from ecr_emulator import Emulator
from ecr_harness.demo import main, run_demo
from ecr_harness.outcome import DemoOutcome
from ecr_harness.stack import EXCLUSION_DECLARATIONS, HAND_ADDED_EXCLUSION, WORKER_ROLE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo() -> tuple[DemoOutcome, str]:
    """One run for every assertion below (it seeds 500+ images)."""
    from ecr_archiver.adapters.clients import clear_client_cache
    from ecr_emulator.emulator import emulated_aws

    out = io.StringIO()
    clear_client_cache()
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            mp.delenv(key, raising=False)
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with emulated_aws() as emu:
            outcome = run_demo(emu, Console(file=out, width=120))
    clear_client_cache()
    return outcome, out.getvalue()


def test_the_registry_is_as_big_as_promised(demo: tuple[DemoOutcome, str]):
    outcome, _ = demo
    assert len(outcome.seeded.repositories) >= 10
    assert outcome.seeded.images >= 500


def test_the_plan_step_ran_the_cli(demo: tuple[DemoOutcome, str]):
    outcome, text = demo
    assert outcome.plan_exit_code == 0
    assert "plan (dry run)" in text
    assert "to archive" in text


def test_the_scheduled_run_archived_and_never_touched_in_use_or_protected_images(
    demo: tuple[DemoOutcome, str],
):
    outcome, _ = demo
    assert outcome.archived > 300
    assert outcome.archived_bytes > 0
    assert outcome.failed == 0
    # the real run does what the dry-run plan said: multi-arch children included, none refused
    assert outcome.archived == outcome.plan_would_archive
    assert outcome.other_skips.get("UPDATE_NOT_SUPPORTED", 0) == 0
    in_use_and_protected = [*outcome.seeded.in_use.values(), *outcome.seeded.protected.values()]
    assert {outcome.statuses[key] for key in in_use_and_protected} == {"ACTIVE"}
    # every kind of protection the seed sets up shows up in the reports
    assert {"IN_USE_DIGEST", "IN_USE_TAG", "PROTECTED_TAG", "PROTECTED_IMAGE", "REFERRER_ARTIFACT"} <= set(
        outcome.protected
    )


def test_the_restored_image_goes_activating_then_active(demo: tuple[DemoOutcome, str]):
    outcome, text = demo
    statuses = [status for _, status in outcome.restore_timeline]
    assert statuses[0] == "ACTIVATING"
    assert statuses[-1] == "ACTIVE"
    assert "ACTIVATING" in statuses[1:-1]  # it took emulator time
    assert "POST /restores" in text


def test_the_exclusion_sync_makes_the_list_equal_the_declarations(demo: tuple[DemoOutcome, str]):
    outcome, _ = demo
    values = [value.replace("\n", ",") for _, value in EXCLUSION_DECLARATIONS.values()]
    declared = {arn.strip() for value in values for arn in value.split(",")}
    assert set(outcome.exclusions) == declared | {WORKER_ROLE}  # the stack's own roles stay
    assert outcome.exclusion_changes["removed"] == [HAND_ADDED_EXCLUSION]


def test_it_fits_the_time_budget(demo: tuple[DemoOutcome, str]):
    outcome, text = demo
    assert outcome.seconds < 60
    assert "summary" in text


def test_main_exits_non_zero_when_a_step_fails(monkeypatch: pytest.MonkeyPatch, emulator: Emulator):
    from ecr_harness import demo as module

    def broken(*args: object, **kwargs: object) -> None:
        raise module.DemoFailure("the scheduled run archived nothing")

    monkeypatch.setattr(module, "step_scheduled_run", broken)
    assert main([]) == 1


def test_a_task_failing_on_an_archived_image_gets_it_restored_automatically(demo: tuple[DemoOutcome, str]):
    outcome, text = demo
    statuses = [status for _, status in outcome.auto_restore_timeline]
    assert statuses[0] == "ACTIVATING"
    assert statuses[-1] == "ACTIVE"
    assert "CannotPullContainerError" in text
    assert "auto-restored" in text
