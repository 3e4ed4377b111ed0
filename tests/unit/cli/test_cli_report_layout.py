"""The report layout has one reader, next to its writer: keys, image parts and ``report.json``.

``restore --from-report s3://...`` and the local run read what ``ReportWriter`` wrote through it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecr_archiver.adapters.memory import MemoryStore
from ecr_archiver.archiving.models import Outcome, RepositoryResult, RepositoryStatus, Totals
from ecr_archiver.archiving.report import (
    ReportWriter,
    image_parts,
    parse_image_part_key,
    read_image_records,
    read_repository_report,
    run_prefix,
)
from ecr_archiver.cli.reports import archived_images
from ecr_archiver.errors import ConfigInvalid
from ecr_archiver.models import ImageRef
from tests.unit.cli.builders import RUN_ID, digest, record


def write(store: MemoryStore, repository: str, *outcomes: Outcome, chunk_size: int = 2) -> ReportWriter:
    writer = ReportWriter(store, RUN_ID, repository, invocation=1, chunk_size=chunk_size, attempt="a1")
    for n, outcome in enumerate(outcomes):
        writer.add(record(n, outcome))
    writer.flush()
    return writer


def result(repository: str) -> RepositoryResult:
    return RepositoryResult(
        run_id=RUN_ID, repository=repository, status=RepositoryStatus.COMPLETE, dry_run=False, totals=Totals()
    )


def from_store(store: MemoryStore) -> Any:
    return lambda bucket: store


@pytest.mark.parametrize("repository", ["api", "team/api", "team/images/api", "images"])
def test_an_image_part_key_names_its_run_and_repository(repository: str):
    store = MemoryStore()
    write(store, repository, Outcome.ARCHIVED)
    (key,) = store.objects
    part = parse_image_part_key(key)
    assert part is not None
    assert (part.run_id, part.repository) == (RUN_ID, repository)


@pytest.mark.parametrize(
    "key",
    [
        f"reports/{RUN_ID}/api/report.json",
        f"reports/{RUN_ID}/api/deliveries/m-1.json",
        f"reports/{RUN_ID}/api/protected.json",
        f"reports/{RUN_ID}/images/00001-a1-0001.jsonl",  # no repository
        "elsewhere/r/api/images/00001-a1-0001.jsonl",
        f"reports/{RUN_ID}/api/images/.jsonl",
    ],
)
def test_other_keys_are_not_image_parts(key: str):
    assert parse_image_part_key(key) is None


def test_records_read_back_are_the_records_written_in_order_across_chunks():
    store = MemoryStore()
    write(store, "team/api", Outcome.ARCHIVED, Outcome.SKIPPED, Outcome.ARCHIVED, Outcome.FAILED)
    assert len(store.objects) == 2  # two chunks of two
    records = read_image_records(store, RUN_ID, "team/api")
    assert [(r.digest, r.outcome) for r in records] == [
        (digest(0), Outcome.ARCHIVED),
        (digest(1), Outcome.SKIPPED),
        (digest(2), Outcome.ARCHIVED),
        (digest(3), Outcome.FAILED),
    ]


def test_a_repository_never_reads_the_parts_of_one_nested_below_its_images_folder():
    # Given "team" and "team/images/api" in the same run: the second one's parts sit below
    # reports/<run>/team/images/ too
    store = MemoryStore()
    write(store, "team", Outcome.ARCHIVED)
    write(store, "team/images/api", Outcome.SKIPPED, Outcome.SKIPPED)
    assert [r.outcome for r in read_image_records(store, RUN_ID, "team")] == [Outcome.ARCHIVED]
    assert len(read_image_records(store, RUN_ID, "team/images/api")) == 2
    assert {p.repository for p in image_parts(store, run_prefix(RUN_ID))} == {"team", "team/images/api"}


def test_report_json_reads_back_the_result_the_policy_and_the_parts():
    store = MemoryStore()
    writer = write(store, "team/api", Outcome.ARCHIVED, Outcome.ARCHIVED, Outcome.SKIPPED)
    key = writer.finish(result("team/api"), policy_hash="abc123", extra={"note": "kept"})
    report = read_repository_report(store, RUN_ID, "team/api")
    assert key == f"reports/{RUN_ID}/team/api/report.json"
    assert report.result == result("team/api")
    assert report.policy_hash == "abc123"
    assert report.image_parts == sorted(k for k in store.objects if k.endswith(".jsonl"))
    assert report.document["note"] == "kept"


def test_report_json_lists_only_its_own_repositorys_parts():
    store = MemoryStore()
    write(store, "team/images/api", Outcome.SKIPPED)
    writer = write(store, "team", Outcome.ARCHIVED)
    writer.finish(result("team"), policy_hash="h")
    (part,) = read_repository_report(store, RUN_ID, "team").image_parts
    assert parse_image_part_key(part).repository == "team"  # type: ignore[union-attr]


def test_a_rollback_from_s3_restores_only_archived_images_with_the_repository_from_the_key():
    store = MemoryStore()
    write(store, "team/api", Outcome.ARCHIVED, Outcome.SKIPPED, Outcome.ARCHIVED)
    write(store, "team/images/web", Outcome.ARCHIVED)
    refs = archived_images(f"s3://reports-bucket/reports/{RUN_ID}/", from_store(store))
    assert refs == [
        ImageRef(repository="team/api", digest=digest(0)),
        ImageRef(repository="team/api", digest=digest(2)),
        ImageRef(repository="team/images/web", digest=digest(0)),
    ]


def test_a_rollback_from_one_repositorys_prefix_reads_only_that_repository():
    store = MemoryStore()
    write(store, "team/api", Outcome.ARCHIVED)
    write(store, "team/web", Outcome.ARCHIVED)
    refs = archived_images(f"s3://b/reports/{RUN_ID}/team/web/", from_store(store))
    assert refs == [ImageRef(repository="team/web", digest=digest(0))]


def test_a_part_that_is_not_a_report_part_is_refused_with_its_key():
    store = MemoryStore()
    key = f"reports/{RUN_ID}/team/api/images/00001-a1-0001.jsonl"
    store.put_text(key, '{"digest": "sha256:1"}\n')
    with pytest.raises(ConfigInvalid, match=f"s3://b/{key}: not a report part"):
        archived_images(f"s3://b/reports/{RUN_ID}/", from_store(store))
