"""The benchmark harness at a tiny size: correctness only (speed targets live in benchmarks/).

50 candidates across 2 repositories, archived by the real planner and worker handlers in
subprocesses against the emulator server, with a scaled Lambda timeout short enough that every
repository continues in a second invocation. Timings are not asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.archive import Scenario, page_floor, run_scenario, split

pytestmark = pytest.mark.slow


def test_split_and_the_call_floor() -> None:
    assert split(1000, 10) == [100] * 10
    assert split(7, 3) == [3, 2, 2]
    assert page_floor([100] * 10) == pytest.approx(1.03)
    assert page_floor([150]) == pytest.approx(155 / 150)


def test_the_harness_archives_every_candidate_exactly_once_across_continuations(tmp_path: Path) -> None:
    # Given 50 candidates over 2 repositories, 20 TPS, and a 0.9 s invocation budget (60 ms margin):
    # 25 images take 1.25 s, so each repository needs a continuation
    scenario = Scenario(50, 2, tps=20, latency=0.0, time_scale=0.001)
    # When the harness plans and works the run
    result = run_scenario(scenario, tmp_path, log=lambda *_: None)
    # Then every candidate was archived once, by one successful call, with one report record
    checks = result["checks"]
    assert checks["all_archived"], result
    assert checks["successful_updates_equal_candidates"], result
    assert checks["one_record_per_candidate"], result
    assert checks["no_failures"], result
    assert result["archived"] == 50
    # And the time budget did split the work: more invocations than repositories, one continuation each
    assert result["work"]["continuations"] >= 2
    assert result["work"]["invocations"] == 2 + result["work"]["continuations"]
    # And the ECR calls are the archive calls plus reads, none per image beyond the archive call
    calls = result["work"]["ecr_calls"]
    assert calls["UpdateImageStorageClass"] - result["work"]["ecr_throttled"] == 50
    assert calls["GetLifecyclePolicyPreview"] == result["work"]["invocations"]
    # (at most one DescribeImages per invocation for its page, plus one listing per repository to
    # find its indexes; there are none, so no manifest is read)
    assert calls["DescribeImages"] <= result["work"]["invocations"] + 2
    assert calls.get("BatchGetImage", 0) == 0
