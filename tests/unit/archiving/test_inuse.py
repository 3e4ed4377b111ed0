"""In-use discovery: image URIs from ECS and Lambda into per-repository digests and tags."""

from __future__ import annotations

import pytest

from ecr_archiver.archiving.inuse import ImageUse, discover_in_use, parse_image_uri
from tests.unit.archiving.fakes import FakeSource, digest

HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (f"{HOST}/team-a/api:v1", ("team-a/api", "v1", None)),
        (f"{HOST}/team-a/api@{digest(1)}", ("team-a/api", None, digest(1))),
        (f"{HOST}/api:v1@{digest(1)}", ("api", "v1", digest(1))),
        (f"{HOST}/api", ("api", None, None)),
        (f"{HOST}:443/api:v1", ("api", "v1", None)),
    ],
)
def test_ecr_image_uris_are_parsed(uri, expected):
    parsed = parse_image_uri(uri)
    assert parsed is not None
    assert (parsed.repository, parsed.tag, parsed.digest) == expected


@pytest.mark.parametrize("uri", ["nginx:latest", "docker.io/library/nginx:1", "ghcr.io/x/y@sha256:abc"])
def test_images_outside_ecr_protect_nothing(uri):
    assert parse_image_uri(uri) is None


def test_a_resolved_digest_protects_alongside_the_tag():
    found = discover_in_use([FakeSource(ImageUse(uri=f"{HOST}/api:v1", digest=digest(3)))])
    use = found.for_repository("api")
    assert use.tags == {"v1"}
    assert use.digests == {digest(3)}


def test_uses_from_every_source_are_merged():
    found = discover_in_use(
        [
            FakeSource(ImageUse(uri=f"{HOST}/api@{digest(1)}")),
            FakeSource(ImageUse(uri=f"{HOST}/api@{digest(2)}")),
        ]
    )
    assert found.for_repository("api").digests == {digest(1), digest(2)}
    assert found.for_repository("other").digests == set()
