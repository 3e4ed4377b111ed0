"""pytest fixtures: ``emulator`` (in-process) and ``emulator_server`` (HTTP on 127.0.0.1).

Registered from ``tests/conftest.py`` with ``pytest_plugins = ["ecr_emulator.pytest_plugin"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ecr_emulator.emulator import DUMMY_CREDENTIALS, Emulator, emulated_aws

REGION = "us-east-1"


def _test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for key, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ENDPOINT_URL_ECR"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A fresh in-process emulated AWS; plain ``boto3.client("ecr")`` calls reach it."""
    _test_environment(monkeypatch)
    with emulated_aws(region=REGION) as emu:
        yield emu


@dataclass(frozen=True)
class EmulatorServer:
    url: str
    emulator: Emulator


@pytest.fixture
def emulator_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """The emulator served over HTTP on a free 127.0.0.1 port; ``.emulator`` controls it directly
    (same process). Clients need ``endpoint_url=server.url``; ``AWS_ENDPOINT_URL`` is not set."""
    from ecr_emulator.server import start_in_thread

    _test_environment(monkeypatch)
    emu = Emulator(REGION)
    emu.reset()
    url, stop = start_in_thread(0)
    try:
        yield EmulatorServer(url=url, emulator=emu)
    finally:
        stop()
        emu.reset()
