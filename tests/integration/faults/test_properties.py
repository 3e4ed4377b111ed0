"""Properties of a whole run (plan_archive -> SQS -> archive_images), for random registries.

Hypothesis draws a repository (tags, push and pull ages), a lifecycle policy, protect rules and
an in-use set (ECS services deploying images by tag or by digest). Whatever it draws:

- a real run archives exactly the preview's TRANSITION-to-ARCHIVE candidates that nothing
  protects: a subset of the candidates, disjoint from the protected set;
- a dry run (asked for by the configuration or forced by the template) makes no mutating call.

The restore API's "no 5xx for any body or query" property lives in
``tests/integration/restore/test_fuzz.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ecr_archiver.archiving.config import parse_config
from tests.integration.archiving.conftest import HOST, REGION
from tests.integration.faults.conftest import REPO, Run

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
#: Every ECR call that changes an image, a policy or the exclusion list.
MUTATING_CALLS = (
    "UpdateImageStorageClass",
    "PutLifecyclePolicy",
    "DeleteLifecyclePolicy",
    "BatchDeleteImage",
    "PutImage",
    "PutImageTagMutability",
    "RegisterPullTimeUpdateExclusion",
    "DeregisterPullTimeUpdateExclusion",
    "StartImageScan",
)
TAGS = ["latest", "prod-1", "prod-2", "v1", "v1.1", "v2", "dev-a", "dev-b", "feature-x"]


# -- what Hypothesis draws ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Image:
    tags: tuple[str, ...]
    pushed_days_ago: int
    pulled_days_ago: int | None


@dataclass(frozen=True)
class Scenario:
    images: tuple[Image, ...]
    rules: tuple[dict[str, Any], ...]
    tag_patterns: tuple[str, ...]
    listed: tuple[tuple[int, str], ...]  # (image index, "digest" | "tag")
    in_use: tuple[tuple[int, str], ...]


def _transition(selection: dict[str, Any]) -> dict[str, Any]:
    return {"selection": selection, "action": {"type": "transition", "targetStorageClass": "archive"}}


selections = st.one_of(
    st.builds(
        lambda n: {
            "tagStatus": "any",
            "countType": "sinceImagePulled",
            "countUnit": "days",
            "countNumber": n,
        },
        st.integers(1, 120),
    ),
    st.builds(
        lambda n: {
            "tagStatus": "any",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": n,
        },
        st.integers(1, 120),
    ),
    st.builds(
        lambda n: {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": n}, st.integers(1, 3)
    ),
    st.builds(
        lambda prefix, n: {
            "tagStatus": "tagged",
            "tagPrefixList": [prefix],
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": n,
        },
        st.sampled_from(["v", "dev", "prod"]),
        st.integers(1, 120),
    ),
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    count = draw(st.integers(2, 7))
    tag_pool = draw(st.permutations(TAGS))
    images = []
    for i in range(count):
        tags = tuple(t for t in tag_pool[i::count][: draw(st.integers(0, 2))])
        pushed = draw(st.integers(0, 400) | st.integers(150, 400))  # mostly old enough
        pulled = draw(st.none() | st.integers(0, pushed))
        images.append(Image(tags, pushed, pulled))
    # A tagged rule first (tagStatus "any" must come last), then optionally an "any" rule.
    first = draw(selections)
    rules = [{"rulePriority": 1, **_transition(first)}]
    if first["tagStatus"] == "tagged" and draw(st.booleans()):
        rules.append(
            {"rulePriority": 2, **_transition(draw(selections.filter(lambda s: s["tagStatus"] == "any")))}
        )
    refs = st.tuples(st.integers(0, count - 1), st.sampled_from(["digest", "tag"]))
    return Scenario(
        images=tuple(images),
        rules=tuple(rules),
        tag_patterns=tuple(
            draw(st.lists(st.sampled_from(["latest", "prod-*", "v1*", "feature-?"]), unique=True))
        ),
        listed=tuple(draw(st.lists(refs, max_size=2, unique=True))),
        in_use=tuple(draw(st.lists(refs, max_size=2, unique=True))),
    )


# -- building it on the emulator ---------------------------------------------------------------------
def reference(repo: str, digest: str, tags: tuple[str, ...], how: str) -> tuple[str, str | None]:
    """``("repo@sha256:...", None)`` or ``("repo:tag", tag)``; untagged images fall back to the digest."""
    if how == "tag" and tags:
        return f"{repo}:{tags[0]}", tags[0]
    return f"{repo}@{digest}", None


def build(run: Run, scenario: Scenario, *, dry_run: bool) -> dict[str, set[str]]:
    """Push the images, write the configuration, deploy the in-use services; returns the digests
    by role: ``all`` and ``protected`` (what the configuration and the in-use set protect)."""
    now = run.emulator.clock.now()
    digests, tags_of = [], {}
    for image in scenario.images:
        digest = run.emulator.push_image(
            REPO,
            list(image.tags) or None,
            pushed_at=now - timedelta(days=image.pushed_days_ago),
            last_pulled_at=None
            if image.pulled_days_ago is None
            else now - timedelta(days=image.pulled_days_ago),
        )
        digests.append(digest)
        tags_of[digest] = image.tags
    protected = {
        d for d in digests if any(fnmatchcase(t, p) for t in tags_of[d] for p in scenario.tag_patterns)
    }
    listed = []
    for index, how in scenario.listed:
        ref, _ = reference(REPO, digests[index], tags_of[digests[index]], how)
        listed.append(ref)
        protected.add(digests[index])
    ecs = boto3.client("ecs", region_name=REGION)
    for n, (index, how) in enumerate(scenario.in_use):
        ref, _ = reference(REPO, digests[index], tags_of[digests[index]], how)
        uri = f"{HOST}/{ref}"
        ecs.register_task_definition(
            family=f"svc{n}", containerDefinitions=[{"name": "c", "image": uri, "memory": 128}]
        )
        ecs.create_cluster(clusterName="prod")
        ecs.create_service(cluster="prod", serviceName=f"svc{n}", taskDefinition=f"svc{n}", desiredCount=0)
        protected.add(digests[index])
    config = {
        "dryRun": dry_run,
        "repositories": [{"include": ["*"], "lifecyclePolicy": {"rules": list(scenario.rules)}}],
        "protect": {
            "tagPatterns": list(scenario.tag_patterns),
            "inUse": {"ecs": True, "lambda": False, "roleArns": []},
            "images": listed,
        },
    }
    parse_config(json.dumps(config))  # the generator only draws configurations ECR would accept
    run.set_config(config)
    return {"all": set(digests), "protected": protected}


def transition_candidates(run: Run) -> set[str]:
    """The preview's TRANSITION-to-ARCHIVE results that were in STANDARD storage, read from ECR."""
    out: set[str] = set()
    for page in run.ecr.get_paginator("get_lifecycle_policy_preview").paginate(repositoryName=REPO):
        assert page["status"] == "COMPLETE"
        out.update(
            r["imageDigest"]
            for r in page["previewResults"]
            if r["action"] == {"type": "TRANSITION", "targetStorageClass": "ARCHIVE"}
            and r["storageClass"] == "STANDARD"
        )
    return out


def fresh_run(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Run:
    """A clean emulator and stack for one example (function-scoped fixtures outlive examples)."""
    emulator.reset()
    return Run(emulator, monkeypatch)


# -- the properties ------------------------------------------------------------------------------------
@PROPERTY
@given(scenario=scenarios())
def test_a_run_archives_exactly_the_unprotected_transition_candidates(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, fast_retries: None, scenario: Scenario
) -> None:
    run = fresh_run(emulator, monkeypatch)
    images = build(run, scenario, dry_run=False)
    run.plan()
    run.drain()
    archived = {d for d in images["all"] if emulator.image_status(REPO, d) == "ARCHIVED"}
    candidates = transition_candidates(run)
    event(f"archived {len(archived)}, protected candidates {len(candidates & images['protected'])}")
    assert archived <= candidates
    assert archived.isdisjoint(images["protected"])
    assert archived == candidates - images["protected"]  # and nothing safe is left behind


@PROPERTY
@given(scenario=scenarios(), forced_by=st.sampled_from(["configuration", "template"]))
def test_a_dry_run_makes_no_mutating_call(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, fast_retries: None, scenario: Scenario, forced_by: str
) -> None:
    run = fresh_run(emulator, monkeypatch)
    images = build(run, scenario, dry_run=forced_by == "configuration")
    monkeypatch.setenv("DRY_RUN", "true" if forced_by == "template" else "false")
    emulator.reset_calls()
    run.plan()
    run.drain()
    assert {op: emulator.calls[op] for op in MUTATING_CALLS} == dict.fromkeys(MUTATING_CALLS, 0)
    assert emulator.calls["BatchGetImage"] == 0  # not a mutation, but a pull would skew sinceImagePulled
    assert {emulator.image_status(REPO, d) for d in images["all"]} == {"ACTIVE"}
    would = {d for d, records in run.by_digest().items() if records[-1]["outcome"] == "WOULD_ARCHIVE"}
    assert would == transition_candidates(run) - images["protected"]
