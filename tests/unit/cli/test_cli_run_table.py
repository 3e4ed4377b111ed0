"""The ``plan``/``archive`` table: totals are computed by a pure function, then rendered."""

from __future__ import annotations

import io

from rich.console import Console

from ecr_archiver.archiving.models import RepositoryStatus
from ecr_archiver.cli.run_table import Counts, render_run, summarize_run
from tests.unit.cli.builders import local_run, repository_run


def rendered(run: object) -> str:
    out = io.StringIO()
    render_run(run, out=Console(file=out, width=200, color_system=None))  # type: ignore[arg-type]
    return out.getvalue()


def test_a_dry_runs_totals_add_up_every_repository():
    # Given two repositories, one with protected images and an unprotected skip
    run = local_run(
        repository_run(
            "team/api",
            images=10,
            candidates=6,
            would_archive=4,
            bytes_would_archive=4096,
            skipped=2,
            protected={"IN_USE_DIGEST": 1},
        ),
        repository_run(
            "team/web",
            images=5,
            candidates=3,
            would_archive=2,
            bytes_would_archive=1024,
            skipped=1,
            protected={"IN_USE_DIGEST": 1},
        ),
    )
    # When it is summarized
    summary = summarize_run(run)
    # Then the totals are the sums, with protected counted by reason
    assert summary.totals == Counts(
        images=15, candidates=9, acted=6, size=5120, protected={"IN_USE_DIGEST": 2}, other=1, failed=0
    )
    assert [line.counts.other for line in summary.lines] == [1, 0]


def test_a_real_run_counts_what_was_archived_not_what_would_be():
    run = local_run(
        repository_run(
            "team/api", images=3, candidates=3, archived=2, bytes_archived=10, would_archive=9, failed=1
        ),
        dry_run=False,
    )
    totals = summarize_run(run).totals
    assert (totals.acted, totals.size, totals.failed) == (2, 10, 1)


def test_reasons_other_than_protection_are_other_skips():
    run = local_run(repository_run("a", images=2, candidates=2, skipped=2, protected={"NOT_STANDARD": 2}))
    counts = summarize_run(run).totals
    assert (dict(counts.protected), counts.other) == ({}, 2)


def test_the_table_shows_other_and_failed_columns_only_when_some_are_nonzero():
    quiet = rendered(local_run(repository_run("team/api", images=1, candidates=1, would_archive=1)))
    assert "other skips" not in quiet
    assert "failed" not in quiet
    noisy = rendered(
        local_run(repository_run("team/api", images=2, candidates=2, skipped=1, failed=1), dry_run=False)
    )
    assert "other skips" in noisy
    assert "failed" in noisy


def test_the_table_names_unfinished_and_capped_repositories_and_those_not_planned():
    text = rendered(
        local_run(
            repository_run("team/api", images=1, candidates=0, status=RepositoryStatus.PREVIEW_FAILED),
            repository_run("team/web", images=1, candidates=1, capped=True),
            skipped={"team/old": "NO_LIFECYCLE_POLICY"},
        )
    )
    assert "team/api (PREVIEW_FAILED)" in text
    assert "team/web (capped)" in text
    assert "not planned: NO_LIFECYCLE_POLICY" in text
    assert "total (2)" in text


def test_the_table_of_a_plan_and_of_an_archive_differ_in_title_and_verb():
    plan = rendered(local_run(repository_run("a", images=1, candidates=1, would_archive=1)))
    archive = rendered(local_run(repository_run("a", images=1, candidates=1, archived=1), dry_run=False))
    assert "plan (dry run)" in plan
    assert "to archive" in plan
    assert "archive · run" in archive
    assert "archived" in archive
