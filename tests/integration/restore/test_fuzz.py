"""Fuzz POST /restores bodies and GET /images query strings against the emulator.

Whatever arrives, the API never answers 5xx, and input it rejects (400/415/422) never reaches
ECR, let alone mutates it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_emulator import Emulator
from tests.integration.restore.conftest import Invoke, archive
from tests.unit.restore.support import get_images, post_restores

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
    database=None,
)
REJECTED = {400, 415, 422}

# Values that are nearly right are the interesting ones: valid names and tags, near-miss digests.
near_values = st.sampled_from(
    [
        "team/app",
        "Team/App",
        "team//app",
        "v1",
        "v" * 300,
        "v" * 301,
        "sha256:" + "a" * 64,
        "sha256:" + "a" * 63,
        "sha256:" + "A" * 64,
        "",
        " ",
        "../../etc/passwd",
        "\x00",
        "💥",
    ]
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | near_values
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
keys = st.sampled_from(["repository", "tag", "digest", "includeReferrers"]) | st.text(max_size=12)
repositories = st.sampled_from(["team/app", "team/ghost", "infra/base"]) | near_values | st.text(max_size=20)
tags = st.sampled_from(["v1", "v2", "latest"]) | near_values | st.text(max_size=20)
digests = st.sampled_from(["sha256:" + "0" * 64]) | near_values | st.text(max_size=20)
# Shaped like a request, so a fair share is valid and goes on to ECR (404s, 202s, 200s).
shaped = (
    st.fixed_dictionaries(
        {"repository": repositories, "tag": tags}, optional={"includeReferrers": json_scalars}
    )
    | st.fixed_dictionaries({"repository": repositories, "digest": digests})
    | st.fixed_dictionaries(
        {"repository": repositories},
        optional={"tag": tags, "digest": digests, "includeReferrers": st.booleans() | json_scalars},
    )
)
bodies = shaped | st.dictionaries(keys, json_values, max_size=5)
raw_bodies = bodies.map(json.dumps) | st.text(max_size=60) | json_values.map(json.dumps)
queries = (
    st.none()
    | st.fixed_dictionaries({"repository": repositories, "tag": tags})
    | st.fixed_dictionaries({"repository": repositories}, optional={"tag": tags, "digest": digests})
    | st.dictionaries(
        st.sampled_from(["repository", "tag", "digest"]) | st.text(min_size=1, max_size=12),
        near_values | st.text(max_size=40),
        max_size=4,
    )
)


@pytest.fixture
def archived(emulator: Emulator, ecr: Any) -> str:
    """One archived image, ``team/app:v1``, so that valid-looking input can reach ECR."""
    digest = emulator.push_image("team/app", "v1")
    archive(ecr, "team/app", digest)
    return digest


@FUZZ
@given(raw=raw_bodies)
def test_post_restores_never_5xx_and_rejected_bodies_never_reach_ecr(
    emulator: Emulator, invoke: Invoke, archived: str, raw: str
) -> None:
    emulator.reset_calls()
    response = invoke(post_restores(raw=raw))
    assert response["statusCode"] < 500, response["body"]
    if response["statusCode"] in REJECTED:
        assert emulator.calls["UpdateImageStorageClass"] == 0
        assert sum(emulator.calls.values()) == 0, emulator.calls


@FUZZ
@given(query=queries)
def test_get_images_never_5xx_and_never_mutates(
    emulator: Emulator, invoke: Invoke, archived: str, query: dict[str, str] | None
) -> None:
    emulator.reset_calls()
    response = invoke(get_images(query))
    assert response["statusCode"] < 500, response["body"]
    assert emulator.calls["UpdateImageStorageClass"] == 0
    if response["statusCode"] in REJECTED:
        assert sum(emulator.calls.values()) == 0, emulator.calls
