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


def test_in_use_sources_cover_every_configured_region_for_this_account_and_each_role(monkeypatch):
    from ecr_archiver.archiving.config import ArchiveConfig
    from ecr_archiver.archiving.sources import in_use_sources

    asked: list[tuple[str, str | None]] = []
    assumed: list[tuple[str, str, str | None]] = []

    class Sessions:
        def __init__(self, client):  # type: ignore[no-untyped-def]
            pass

        def client_for(self, arn, service, *, region=None):  # type: ignore[no-untyped-def]
            assumed.append((arn, service, region))
            return object()

    monkeypatch.setattr("ecr_archiver.archiving.sources.RoleSessions", Sessions)
    role = "arn:aws:iam::111122223333:role/ecr-archiver-inuse-reader"
    config = ArchiveConfig.model_validate(
        {"protect": {"inUse": {"roleArns": [role], "regions": ["eu-west-1", "us-east-1"]}}}
    )

    def clients(service: str, region: str | None) -> object:
        asked.append((service, region))
        return object()

    sources = in_use_sources(config, clients=clients)
    assert ("ecs", "eu-west-1") in asked
    assert ("lambda", "us-east-1") in asked
    assert sorted(assumed) == sorted(
        (role, svc, region) for svc in ("ecs", "lambda") for region in ("eu-west-1", "us-east-1")
    )
    assert len(sources) == 8  # (this account + one role) x (ECS, Lambda) x two regions


def test_an_invalid_region_is_a_config_error_naming_the_field():
    from pydantic import ValidationError

    from ecr_archiver.archiving.config import ArchiveConfig

    with pytest.raises(ValidationError, match="regions"):
        ArchiveConfig.model_validate({"protect": {"inUse": {"regions": ["Europe"]}}})
