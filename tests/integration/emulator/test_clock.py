"""The emulator clock: frozen in process (deterministic tests), running in server mode."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from ecr_emulator import Emulator
from ecr_emulator.clock import ClockMode, EmulatorClock

from .helpers import describe_all


def test_a_frozen_clock_moves_only_when_told(emulator: Emulator) -> None:
    before = emulator.clock.now()
    time.sleep(0.01)
    assert emulator.clock.now() == before
    assert emulator.clock.advance(timedelta(days=1)) == before + timedelta(days=1)


def test_a_running_clock_follows_real_time_and_can_still_be_set_and_advanced() -> None:
    clock = EmulatorClock(ClockMode.RUNNING)
    start = clock.now()
    time.sleep(0.05)
    assert clock.now() >= start + timedelta(milliseconds=40)
    moved = clock.advance(timedelta(days=3))
    assert moved >= start + timedelta(days=3)
    clock.set_mode(ClockMode.FROZEN)
    frozen = clock.now()
    time.sleep(0.01)
    assert clock.now() == frozen


def test_pushes_a_second_apart_on_a_running_clock_get_distinct_ordered_times(
    emulator: Emulator, ecr: Any, repo: str
) -> None:
    # Given the clock of server mode
    emulator.clock.set_mode(ClockMode.RUNNING)
    try:
        # When two images are pushed a second apart
        first = emulator.push_image(repo, "v1")
        time.sleep(1.0)
        second = emulator.push_image(repo, "v2")
    finally:
        emulator.clock.set_mode(ClockMode.FROZEN)
    # Then imagePushedAt tells them apart, in push order
    details = describe_all(ecr, repo)
    assert details[first]["imagePushedAt"] < details[second]["imagePushedAt"]
    assert (details[second]["imagePushedAt"] - details[first]["imagePushedAt"]).total_seconds() >= 0.9


def test_the_server_runs_its_clock_by_default_and_freezes_it_on_request(
    emulator: Emulator, monkeypatch: Any
) -> None:
    import ecr_emulator.__main__ as entry

    monkeypatch.setattr(entry, "serve", lambda *args: None)
    try:
        entry.main([])
        assert emulator.clock.mode is ClockMode.RUNNING
        entry.main(["--frozen-clock"])
        assert emulator.clock.mode is ClockMode.FROZEN
    finally:
        emulator.clock.set_mode(ClockMode.FROZEN)


def test_the_control_route_switches_the_clock_mode(emulator: Emulator) -> None:
    from ecr_emulator.control import ControlRoutes

    routes = ControlRoutes()
    try:
        assert routes.post_clock({"mode": "running"})["mode"] == "running"
        assert routes.get_clock({})["mode"] == "running"
    finally:
        routes.post_clock({"mode": "frozen"})
    assert emulator.clock.mode is ClockMode.FROZEN
