"""What every CLI command needs: an AWS session and its clients, the output mode, and a clock to wait on.

Against AWS the CLI waits in wall time. A tool that runs a stand-in for AWS behind
``--endpoint-url`` (the local emulator) may offer its own clock through the
``ecr_archiver.wait_clocks`` entry-point group: each entry names a factory that is given the
endpoint URL and returns a :class:`WaitClock`, or ``None`` when the endpoint is not its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from ecr_archiver.adapters.session import AwsSession

#: The entry-point group of wait clock factories, ``(endpoint_url: str) -> WaitClock | None``.
WAIT_CLOCK_ENTRY_POINTS = "ecr_archiver.wait_clocks"


@dataclass(frozen=True)
class WaitClock:
    """Seconds-valued ``now`` and ``sleep`` used while polling (restores, previews).

    Against AWS this is wall time. Against the emulator it is the emulator's clock, which stands
    still unless moved, so waiting advances it instead of sleeping.
    """

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    simulated: bool = False


WaitClockFactory = Callable[[str], WaitClock | None]


def wait_clock_factories() -> list[WaitClockFactory]:
    """The installed wait clock factories, in name order; one that cannot be imported is left out."""
    factories: list[WaitClockFactory] = []
    for entry in sorted(entry_points(group=WAIT_CLOCK_ENTRY_POINTS), key=lambda e: e.name):
        try:
            factories.append(entry.load())
        except ImportError:
            continue
    return factories


def discover_wait_clock(
    endpoint_url: str, factories: Callable[[], list[WaitClockFactory]] = wait_clock_factories
) -> WaitClock | None:
    """The first clock a factory offers for ``endpoint_url``; ``None`` when none does."""
    for factory in factories():
        clock = factory(endpoint_url)
        if clock is not None:
            return clock
    return None


@dataclass
class CliContext:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    output_json: bool = False
    verbose: bool = False
    #: How to wait; ``None`` picks a discovered clock for ``endpoint_url``, else wall time.
    wait_clock: WaitClock | None = None
    _session: AwsSession | None = field(default=None, repr=False)

    @property
    def session(self) -> AwsSession:
        if self._session is None:
            self._session = AwsSession(profile=self.profile, region=self.region)
        return self._session

    @property
    def effective_region(self) -> str:
        return self.session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        """A client on the chosen credentials; ``--endpoint-url`` targets the emulator."""
        return self.session.client(
            service, region=region or self.effective_region, endpoint_url=self.endpoint_url
        )

    @property
    def clock(self) -> WaitClock:
        if self.wait_clock is None:
            found = discover_wait_clock(self.endpoint_url) if self.endpoint_url else None
            self.wait_clock = found or WaitClock()
        return self.wait_clock
