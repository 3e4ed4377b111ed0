"""Process-wide emulator state that is not part of any moto backend.

moto's backends are per account and region and are wiped by ``reset``; the clock, settings,
fault rules, call counters and the access-key table belong to the emulator as a whole, so they
live here, in one object that ``reset()`` restores to its defaults.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from ecr_emulator.clock import EmulatorClock
from ecr_emulator.faults import FaultInjector

DEFAULT_ACCOUNT_ID = "123456789012"
#: A caller whose access key is neither in ``principals`` nor one of moto's is this IAM role.
DEFAULT_PRINCIPAL = "arn:aws:iam::123456789012:role/ecr-emulator-default"


@dataclass
class EmulatorSettings:
    """Tunable timings, on the emulator clock."""

    #: ACTIVATING -> ACTIVE after this long (AWS: "typically up to 20 minutes").
    restore_delay: timedelta = field(default_factory=lambda: timedelta(minutes=10))
    #: A preview reports IN_PROGRESS this long after Start; 0 means COMPLETE on the next Get.
    preview_in_progress_for: timedelta = field(default_factory=lambda: timedelta(0))
    #: COMPLETE -> EXPIRED after this long (AWS does not document retention).
    preview_expires_after: timedelta = field(default_factory=lambda: timedelta(hours=1))


class EmulatorState:
    """The singleton behind every :class:`~ecr_emulator.Emulator` handle in this process."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = EmulatorClock()
        self.settings = EmulatorSettings()
        self.faults = FaultInjector()
        self.calls: Counter[str] = Counter()
        #: When each call arrived (``time.monotonic``), per counted operation: the per-second log.
        self.call_times: dict[str, list[float]] = defaultdict(list)
        self.principals: dict[str, str] = {}
        #: Repositories (account, region, name) whose next preview ends FAILED.
        self.failing_previews: set[tuple[str, str, str]] = set()

    @property
    def throttled(self) -> Counter[str]:
        return self.faults.throttled

    def count_call(self, key: str) -> None:
        with self.lock:
            self.calls[key] += 1
            self.call_times[key].append(time.monotonic())

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()
            self.call_times.clear()
            self.faults.throttled.clear()

    def reset(self) -> None:
        with self.lock:
            self.clock.reset()
            self.settings.restore_delay = timedelta(minutes=10)
            self.settings.preview_in_progress_for = timedelta(0)
            self.settings.preview_expires_after = timedelta(hours=1)
            self.faults.reset()
            self.calls.clear()
            self.call_times.clear()
            self.principals.clear()
            self.failing_previews.clear()


STATE = EmulatorState()
