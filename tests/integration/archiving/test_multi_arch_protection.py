"""Multi-arch indexes end to end: plan_archive → SQS → archive_images, on the emulator.

The scenario of the product's first promise: ``stable-*`` is protected, ``stable-2025`` is a
multi-arch index with three untagged children. No child of a protected index may appear as
WOULD_ARCHIVE or receive an archive call, in either manifest-read mode, and no run may leave ECR a
call to refuse (asserted with the emulator's call counts). Pull times never change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.archiving.conftest import ACCOUNT, Stack

WORKER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-archiver-ArchiveImagesRole-TEST"
REPO = "team-a/app"


def act_as_worker(stack: Stack, *, excluded: bool) -> None:
    """The functions' credentials are the worker's role; it is (or is not) excluded."""
    stack.monkeypatch.setenv("WORKER_ROLE_ARN", WORKER_ROLE)
    stack.emulator.principals["testing"] = WORKER_ROLE
    if excluded:
        stack.ecr.register_pull_time_update_exclusion(principalArn=WORKER_ROLE)


def old_index(stack: Stack, tags: Any, platforms: int = 3) -> tuple[str, list[str]]:
    return stack.emulator.push_index(  # type: ignore[no-any-return]
        REPO,
        tags,
        platforms=[f"linux/p{n}" for n in range(platforms)],
        pushed_at=stack.emulator.clock.now() - timedelta(days=200),
    )


def pull_times(stack: Stack) -> dict[str, Any]:
    pages = stack.ecr.get_paginator("describe_images").paginate(
        repositoryName=REPO, filter={"imageStatus": "ANY"}
    )
    return {d["imageDigest"]: d.get("lastRecordedPullTime") for p in pages for d in p["imageDetails"]}


_runs = iter(range(1, 1000))


def run(stack: Stack, *, dry_run: bool) -> tuple[dict[str, Any], dict[str, tuple[str, str | None]]]:
    """One scheduled run (its own run id); returns the plan and the repository's outcomes."""
    stack.config(dryRun=dry_run, protect={"tagPatterns": ["latest", "stable-*"]})
    stack.emulator.reset_calls()
    plan = stack.plan({"id": f"run{next(_runs):04d}-0000", "time": "2026-01-01T00:00:00Z"})
    stack.work_all()
    records = stack.records(REPO, plan["runId"])
    return plan, {r["digest"]: (r["outcome"], r.get("reason")) for r in records}


@pytest.mark.parametrize("excluded", [True, False], ids=["exact", "conservative"])
def test_children_of_a_protected_index_are_never_planned_or_archived(stack: Stack, excluded: bool):
    # Given stable-2025, a protected multi-arch index with three untagged children
    act_as_worker(stack, excluded=excluded)
    stable, stable_children = old_index(stack, "stable-2025")
    before = pull_times(stack)
    # When a dry run is planned and worked
    plan, dry = run(stack, dry_run=True)
    assert plan["manifestReads"] == ("exact" if excluded else "conservative")
    # Then no child is WOULD_ARCHIVE, the index is protected by its tag
    assert dry[stable] == ("SKIPPED", "PROTECTED_TAG")
    expected = "INDEX_CHILD" if excluded else "POSSIBLE_INDEX_CHILD"
    assert {dry[c] for c in stable_children} == {("SKIPPED", expected)}
    # And when the real run follows, no archive call is made at all and nothing changes
    _, real = run(stack, dry_run=False)
    assert real == dry
    assert stack.emulator.calls["UpdateImageStorageClass"] == 0
    assert {stack.emulator.image_status(REPO, d) for d in [stable, *stable_children]} == {"ACTIVE"}
    assert pull_times(stack) == before


def test_exact_mode_archives_the_children_of_an_unprotected_index_in_one_run(stack: Stack):
    # Given a protected index and an unprotected one, each with three children
    act_as_worker(stack, excluded=True)
    stable, stable_children = old_index(stack, "stable-2025")
    old, old_children = old_index(stack, "v1")
    before = pull_times(stack)
    # When a dry run and then a real run are worked
    _, dry = run(stack, dry_run=True)
    _, real = run(stack, dry_run=False)
    # Then the real run archived exactly what the dry run said it would
    would = {d for d, (outcome, _) in dry.items() if outcome == "WOULD_ARCHIVE"}
    archived = {d for d, (outcome, _) in real.items() if outcome == "ARCHIVED"}
    assert would == archived == {old, *old_children}
    # And every archive call succeeded: one call per archived image, none left for ECR to refuse
    assert stack.emulator.calls["UpdateImageStorageClass"] == len(archived)
    assert {stack.emulator.image_status(REPO, d) for d in [stable, *stable_children]} == {"ACTIVE"}
    # And the manifests were read without touching a pull time
    assert stack.emulator.calls["BatchGetImage"] >= 1
    assert pull_times(stack) == before


def test_a_multi_arch_latest_keeps_its_children_under_the_default_configuration(stack: Stack):
    act_as_worker(stack, excluded=True)
    latest, children = old_index(stack, "latest")
    stack.config(dryRun=False)
    stack.emulator.reset_calls()
    stack.plan()
    stack.work_all()
    assert {stack.outcome(REPO, c) for c in children} == {("SKIPPED", "INDEX_CHILD")}
    assert stack.outcome(REPO, latest) == ("SKIPPED", "PROTECTED_TAG")
    assert stack.emulator.calls["UpdateImageStorageClass"] == 0


def test_a_worker_that_is_not_excluded_never_pulls(stack: Stack):
    # Given the worker's role missing from the exclusion list
    act_as_worker(stack, excluded=False)
    old_index(stack, "v1")
    stack.config(dryRun=False)
    stack.emulator.reset_calls()
    stack.plan()
    stack.work_all()
    # Then not one BatchGetImage is made (a pull would refresh lastRecordedPullTime)
    assert stack.emulator.calls["BatchGetImage"] == 0
