"""plan_archive_run: config → previews → in-use discovery once → one message per repository."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_archiver import errors
from ecr_archiver.archiving.config import DEFAULT_CONFIG, DEFAULT_LIFECYCLE_POLICY
from ecr_archiver.archiving.inuse import ImageUse
from ecr_archiver.archiving.planner import PlanOptions, plan_archive_run
from ecr_archiver.lifecycle.policy import policy_hash
from tests.unit.archiving.fakes import (
    POLICY,
    POLICY_TEXT,
    FakeQueue,
    FakeRegistry,
    FakeSource,
    FakeStore,
    digest,
)

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def config(**overrides: Any) -> str:
    document = json.loads(json.dumps(DEFAULT_CONFIG))
    document.update(overrides)
    return json.dumps(document)


class Planner:
    def __init__(self, *repositories: str) -> None:
        self.registry = FakeRegistry(repositories[0] if repositories else "team-a/api")
        self.registry.repositories = list(repositories)
        self.queue = FakeQueue()
        self.store = FakeStore()
        self.source = FakeSource()

    def run(self, text: str, **options: Any):  # type: ignore[no-untyped-def]
        return plan_archive_run(
            text,
            run_id="run-1",
            registry=self.registry,
            in_use_sources=lambda cfg: [self.source],
            queue=self.queue,
            store=self.store,
            options=PlanOptions(**{"force_dry_run": False, **options}),
        )

    def message_for(self, repo: str) -> dict[str, Any]:
        (body,) = [b for b in self.queue.bodies() if b["repository"] == repo]
        return body


# -- invalid configuration -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "field"),
    [
        (config(dryrun=True), "dryrun"),
        (config(maxImagesPerRun=0), "maxImagesPerRun"),
        (
            config(protect={"tagPatterns": ["latest"], "inUse": {"ecs": True, "eks": True}}),
            "protect.inUse.eks",
        ),
        (
            config(repositories=[{"include": ["*"], "lifecyclePolicy": {"rules": [{"rulePriority": 1}]}}]),
            "repositories[0].lifecyclePolicy",
        ),
        ("{not json", "not valid JSON"),
    ],
)
def test_invalid_config_stops_the_run_before_any_ecr_call_and_names_the_field(text, field):
    planner = Planner("team-a/api")
    with pytest.raises(errors.ConfigInvalid) as caught:
        planner.run(text)
    assert field in caught.value.message
    assert sum(planner.registry.calls.values()) == 0
    assert planner.queue.sent == []


def test_a_transition_rule_ecr_would_reject_is_invalid_config():
    bad = {"rules": [{**POLICY["rules"][0], "action": {"type": "expire"}}]}  # sinceImagePulled + expire
    planner = Planner("team-a/api")
    with pytest.raises(errors.ConfigInvalid) as caught:
        planner.run(config(repositories=[{"include": ["*"], "lifecyclePolicy": bad}]))
    assert "repositories[0].lifecyclePolicy" in caught.value.message
    assert planner.registry.calls["StartLifecyclePolicyPreview"] == 0


# -- repository selection --------------------------------------------------------------------
def test_the_first_matching_entry_decides_and_exclude_drops_a_repository():
    planner = Planner("team-a/api", "team-a/keep-db", "team-b/web")
    planner.registry.policies["team-b/web"] = POLICY_TEXT
    result = planner.run(
        config(
            repositories=[
                {"include": ["team-a/*"], "exclude": ["team-a/keep-*"], "lifecyclePolicy": POLICY},
                {"include": ["team-b/*"]},
            ]
        )
    )
    assert [p.repository for p in result.planned] == ["team-a/api", "team-b/web"]
    assert planner.registry.calls["GetLifecyclePolicy"] == 1  # only the entry without a policy


def test_an_entry_without_a_policy_previews_the_repositorys_own_policy():
    planner = Planner("team-b/web")
    own = POLICY_TEXT.replace('"countNumber":90', '"countNumber":45')
    planner.registry.policies["team-b/web"] = own
    planner.run(config(repositories=[{"include": ["*"]}]))
    assert planner.message_for("team-b/web")["policyText"] == own
    assert planner.registry.preview is not None
    assert planner.registry.preview.policy_text == own


def test_a_repository_without_a_policy_of_its_own_is_skipped():
    planner = Planner("team-b/web")
    result = planner.run(config(repositories=[{"include": ["*"]}]))
    assert result.skipped == {"team-b/web": "NO_LIFECYCLE_POLICY"}
    assert planner.queue.sent == []


# -- previews and messages -------------------------------------------------------------------
def test_each_selected_repository_gets_a_preview_and_one_delayed_message():
    planner = Planner("a1", "b1")
    planner.run(config(), delay_seconds=90)
    assert planner.registry.calls["StartLifecyclePolicyPreview"] == 2
    assert [delay for _, delay in planner.queue.sent] == [90, 90]
    body = planner.message_for("a1")
    assert body["policyHash"] == policy_hash(DEFAULT_LIFECYCLE_POLICY)
    assert body["runId"] == "run-1"
    assert body["maxImages"] == 5000


def test_a_preview_already_in_progress_is_recorded_and_the_repository_still_enqueued():
    planner = Planner("a1")
    planner.registry.start_raises = errors.PreviewInProgress("busy")
    result = planner.run(config())
    assert result.planned[0].preview == "IN_PROGRESS_ELSEWHERE"
    assert len(planner.queue.sent) == 1


@pytest.mark.parametrize(
    ("config_dry_run", "forced", "expected"),
    [(True, False, True), (False, True, True), (False, False, False)],
)
def test_dry_run_is_true_when_either_the_config_or_the_template_says_so(config_dry_run, forced, expected):
    planner = Planner("a1")
    planner.run(config(dryRun=config_dry_run), force_dry_run=forced)
    assert planner.message_for("a1")["dryRun"] is expected


# -- protection ------------------------------------------------------------------------------
def test_in_use_images_are_discovered_once_and_each_repository_gets_its_own_share():
    planner = Planner("a1", "b1")
    planner.source.uses = [
        ImageUse(uri=f"{HOST}/a1@{digest(1)}"),
        ImageUse(uri=f"{HOST}/b1:v2", digest=digest(2)),
    ]
    planner.run(config(protect={"images": ["a1:1.2.3"]}))
    assert planner.source.calls == 1
    a1, b1 = planner.message_for("a1")["protected"], planner.message_for("b1")["protected"]
    assert a1["inUseDigests"] == [digest(1)]
    assert a1["listedTags"] == ["1.2.3"]
    assert b1["inUseDigests"] == [digest(2)]
    assert b1["inUseTags"] == ["v2"]


WORKER_ROLE = "arn:aws:iam::123456789012:role/ecr-archiver-ArchiveImagesRole-X"


def test_a_run_reads_manifests_exactly_when_the_workers_role_is_excluded():
    # Given the worker's role in the pull-time update exclusion list
    planner = Planner("a1")
    planner.registry.exclusions = ["arn:aws:iam::123456789012:role/scanner", WORKER_ROLE]
    # When a run is planned
    result = planner.run(config(), worker_role_arn=WORKER_ROLE)
    # Then the plan and every work message say "exact"
    assert result.manifest_reads == "exact"
    assert planner.message_for("a1")["manifestReads"] == "exact"


@pytest.mark.parametrize(
    ("exclusions", "role", "why"),
    [
        (
            ["arn:aws:iam::123456789012:role/scanner"],
            WORKER_ROLE,
            "is not in the pull-time update exclusion list",
        ),
        ([f"arn:aws:iam::123456789012:role/r{n}" for n in range(100)], WORKER_ROLE, "the list is full"),
        (
            errors.AwsServiceError("no", code="AccessDeniedException"),
            WORKER_ROLE,
            "unreadable (AccessDeniedException)",
        ),
        ([WORKER_ROLE], None, "not configured"),
    ],
    ids=["not-excluded", "list-full", "access-denied", "role-unknown"],
)
def test_a_run_is_conservative_unless_the_workers_role_is_known_to_be_excluded(exclusions, role, why):
    planner = Planner("a1")
    planner.registry.exclusions = exclusions
    result = planner.run(config(), worker_role_arn=role)
    assert result.manifest_reads == "conservative"
    assert why in result.manifest_reads_reason
    assert planner.message_for("a1")["manifestReads"] == "conservative"


def test_the_manifest_read_mode_is_a_metric(capsys):
    planner = Planner("a1")
    planner.registry.exclusions = [WORKER_ROLE]
    planner.run(config(), worker_role_arn=WORKER_ROLE)
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [b["ManifestReadsExact"] for b in blobs if "ManifestReadsExact" in b] == [[1.0]]


def test_a_protected_set_too_large_for_sqs_goes_to_s3_and_the_message_points_at_it():
    planner = Planner("a1")
    planner.source.uses = [ImageUse(uri=f"{HOST}/a1@{digest(n)}") for n in range(4000)]
    result = planner.run(config())
    body = planner.message_for("a1")
    assert "protected" not in body
    pointer = body["protectedRef"]
    assert len(planner.store.get_json(pointer["key"])["inUseDigests"]) == 4000
    assert len(planner.queue.sent[0][0].encode()) < 256 * 1024
    assert result.planned[0].protected_in_s3 is True
