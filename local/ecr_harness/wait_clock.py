"""The emulator's clock as the CLI's wait clock, found behind ``--endpoint-url``.

Registered in ``pyproject.toml`` under the ``ecr_archiver.wait_clocks`` entry-point group: the
CLI calls :func:`discover` with its endpoint URL before it waits (restores, previews). A local
emulator server answers ``/_emulator/clock``; waiting then advances that clock instead of
sleeping, so a 10-minute restore takes no wall time.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from ecr_archiver.cli.context import WaitClock

#: Only a local emulator has a clock to move: a remote endpoint is never probed.
LOOPBACK_PREFIXES = ("http://127.", "http://localhost", "http://[::1]")


def discover(endpoint_url: str) -> WaitClock | None:
    """The ``ecr_archiver.wait_clocks`` factory: the emulator's clock, or ``None``."""
    return emulator_clock(endpoint_url)


def emulator_clock(endpoint_url: str, *, timeout: float = 2.0) -> WaitClock | None:
    """The emulator server's clock behind ``endpoint_url`` (``/_emulator/clock``), if it is one."""
    base = endpoint_url.rstrip("/")
    if not base.startswith(LOOPBACK_PREFIXES):
        return None

    def call(method: str, body: dict[str, Any] | None = None) -> float:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{base}/_emulator/clock",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            now = json.loads(resp.read())["now"]
        return _iso_seconds(now)

    def now() -> float:
        return call("GET")

    def advance(seconds: float) -> None:
        call("POST", {"advance_seconds": seconds})

    try:
        now()
    except (OSError, urllib.error.URLError, ValueError, KeyError):
        return None
    return WaitClock(now=now, sleep=advance, simulated=True)


def _iso_seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
