"""Builders for the CLI's unit tests: local runs and report records without any AWS."""

from __future__ import annotations

from ecr_archiver.archiving.models import (
    ImageRecord,
    Outcome,
    PlanResult,
    RepositoryResult,
    RepositoryStatus,
    Totals,
)
from ecr_archiver.cli.local_run import LocalRun, RepositoryRun

RUN_ID = "cli-20260101T000000Z"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def record(n: int, outcome: Outcome = Outcome.ARCHIVED, **fields: object) -> ImageRecord:
    return ImageRecord.model_validate({"digest": digest(n), "outcome": outcome, **fields})


def repository_run(
    repository: str,
    *,
    images: int,
    candidates: int,
    status: RepositoryStatus = RepositoryStatus.COMPLETE,
    capped: bool = False,
    **totals: object,
) -> RepositoryRun:
    result = RepositoryResult(
        run_id=RUN_ID,
        repository=repository,
        status=status,
        dry_run=True,
        totals=Totals.model_validate(totals),
        capped=capped,
    )
    records = [record(n, Outcome.WOULD_ARCHIVE) for n in range(candidates)]
    return RepositoryRun(result=result, records=records, images=images)


def local_run(
    *repositories: RepositoryRun, dry_run: bool = True, skipped: dict[str, str] | None = None
) -> LocalRun:
    plan = PlanResult.model_validate({"runId": RUN_ID, "dryRun": dry_run, "skipped": skipped or {}})
    return LocalRun(run_id=RUN_ID, dry_run=dry_run, plan=plan, messages=[], repositories=list(repositories))
