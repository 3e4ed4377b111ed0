"""The SDK client factory: one configuration, and one parsed copy of the service data per process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecr_archiver.adapters import clients


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients.clear_client_cache()
    yield
    clients.clear_client_cache()


def test_a_client_is_cached_per_service_and_region() -> None:
    assert clients.client("ecr", region="us-east-1") is clients.client("ecr", region="us-east-1")
    assert clients.client("ecr", region="us-east-1") is not clients.client("ecr", region="eu-west-1")


def test_every_client_shares_one_data_loader() -> None:
    ecr = clients.client("ecr", region="us-east-1")
    s3 = clients.client("s3", region="us-east-1")
    assert ecr._loader is s3._loader is clients._data_loader()


def test_clients_retry_adaptively_with_the_product_user_agent() -> None:
    config = clients.client("ecr", region="us-east-1").meta.config
    assert config.retries["mode"] == "adaptive"
    assert clients.USER_AGENT in config.user_agent_extra
