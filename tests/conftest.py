"""Shared pytest configuration: the ECR emulator fixtures (``emulator``, ``emulator_server``).

The product caches boto3 clients per process (``ecr_archiver.adapters.clients``); a client made before the
emulator starts would talk to the wrong endpoint, so the cache is cleared around each emulator.
The emulator's plugin knows nothing of the product: the clearing lives here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ecr_archiver.adapters.clients import clear_client_cache

pytest_plugins = ["ecr_emulator.pytest_plugin"]


@pytest.fixture
def emulator(emulator: Any) -> Iterator[Any]:
    clear_client_cache()
    yield emulator
    clear_client_cache()


@pytest.fixture
def emulator_server(emulator_server: Any) -> Iterator[Any]:
    clear_client_cache()
    yield emulator_server
    clear_client_cache()
