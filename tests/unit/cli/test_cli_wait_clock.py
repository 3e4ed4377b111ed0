"""The CLI finds the clock it waits on through the ``ecr_archiver.wait_clocks`` entry points."""

from __future__ import annotations

import time

import pytest

from ecr_archiver.cli import context
from ecr_archiver.cli.context import (
    WAIT_CLOCK_ENTRY_POINTS,
    CliContext,
    WaitClock,
    discover_wait_clock,
    wait_clock_factories,
)

SIMULATED = WaitClock(now=lambda: 0.0, sleep=lambda _: None, simulated=True)


def test_the_first_clock_a_factory_offers_wins():
    asked: list[str] = []

    def declines(url: str) -> WaitClock | None:
        asked.append(f"declines {url}")
        return None

    def offers(url: str) -> WaitClock | None:
        asked.append(f"offers {url}")
        return SIMULATED

    def never(url: str) -> WaitClock | None:  # pragma: no cover - must not be reached
        raise AssertionError("asked after a clock was found")

    found = discover_wait_clock("http://127.0.0.1:4566", lambda: [declines, offers, never])
    assert found is SIMULATED
    assert asked == ["declines http://127.0.0.1:4566", "offers http://127.0.0.1:4566"]


def test_no_factory_offering_a_clock_means_none():
    assert discover_wait_clock("https://ecr.eu-west-1.amazonaws.com", lambda: [lambda _: None]) is None


def test_the_emulator_factory_is_installed_under_the_entry_point_group():
    from ecr_harness.wait_clock import discover

    assert WAIT_CLOCK_ENTRY_POINTS == "ecr_archiver.wait_clocks"
    assert discover in wait_clock_factories()


def test_the_emulator_factory_never_probes_a_remote_endpoint(monkeypatch: pytest.MonkeyPatch):
    from ecr_harness import wait_clock

    def no_network(*args: object, **kwargs: object) -> None:  # pragma: no cover - must not be called
        raise AssertionError("probed a remote endpoint")

    monkeypatch.setattr(wait_clock.urllib.request, "urlopen", no_network)
    assert wait_clock.discover("https://ecr.eu-west-1.amazonaws.com") is None


def test_without_an_endpoint_the_cli_waits_in_wall_time_and_asks_no_factory(monkeypatch: pytest.MonkeyPatch):
    def no_discovery(*args: object, **kwargs: object) -> None:  # pragma: no cover - must not be called
        raise AssertionError("discovery without an endpoint")

    monkeypatch.setattr(context, "discover_wait_clock", no_discovery)
    clock = CliContext().clock
    assert (clock.now, clock.sleep, clock.simulated) == (time.monotonic, time.sleep, False)


def test_behind_an_endpoint_the_cli_waits_on_the_discovered_clock(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        context, "discover_wait_clock", lambda url: SIMULATED if url.startswith("http") else None
    )
    ctx = CliContext(endpoint_url="http://127.0.0.1:4566")
    assert ctx.clock is SIMULATED
    assert ctx.clock is SIMULATED  # asked once, then kept


def test_a_clock_handed_in_is_used_as_is(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(context, "discover_wait_clock", lambda url: None)
    assert CliContext(endpoint_url="http://127.0.0.1:4566", wait_clock=SIMULATED).clock is SIMULATED
