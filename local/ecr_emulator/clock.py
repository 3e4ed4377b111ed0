"""The emulator clock: frozen or running, and settable and advanceable either way.

Every archive-era time in the emulator (push and pull times, restores, previews) reads this
clock instead of the wall clock; only fault latency uses real time, because benchmarks measure it.

*Frozen* (the default in process: ``emulated_aws()``, the pytest fixtures, the demo) time moves
only when a test sets or advances it, so time-based behaviour is deterministic. *Running* (the
default of the server, ``make emulator`` / ``python -m ecr_emulator``; ``--frozen-clock`` turns it
off) time follows the wall clock from wherever it was last set, so two pushes a second apart get
distinct, ordered ``imagePushedAt`` values. ``POST /_emulator/clock {"mode": ...}`` switches.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum


def _aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; everything leaves the clock tz-aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ClockMode(StrEnum):
    FROZEN = "frozen"
    RUNNING = "running"


class EmulatorClock:
    """A settable, advanceable UTC clock starting at the real time of its creation (or reset).

    Internally ``_now`` is the reading at monotonic instant ``_since``; a running clock adds the
    monotonic time elapsed since, a frozen one does not.
    """

    def __init__(self, mode: ClockMode = ClockMode.FROZEN) -> None:
        self._lock = threading.Lock()
        self._mode = mode
        self._now = self._real_now()
        self._since = time.monotonic()

    @property
    def mode(self) -> ClockMode:
        return self._mode

    def set_mode(self, mode: ClockMode | str) -> ClockMode:
        """Freeze at, or start running from, the current reading."""
        with self._lock:
            self._rebase()
            self._mode = ClockMode(mode)
            return self._mode

    def _rebase(self) -> None:
        """Fold the elapsed running time into ``_now`` (caller holds the lock)."""
        moment = time.monotonic()
        if self._mode is ClockMode.RUNNING:
            self._now += timedelta(seconds=moment - self._since)
        self._since = moment

    @staticmethod
    def _real_now() -> datetime:
        # Whole milliseconds: ECR timestamps round-trip through JSON epoch floats.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def now(self) -> datetime:
        with self._lock:
            if self._mode is ClockMode.FROZEN:
                return self._now
            reading = self._now + timedelta(seconds=time.monotonic() - self._since)
        # Whole milliseconds, like the real clock's readings.
        return reading.replace(microsecond=reading.microsecond // 1000 * 1000)

    def set(self, value: datetime) -> datetime:
        with self._lock:
            self._now, self._since = _aware(value), time.monotonic()
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._rebase()
            self._now = self._now + step
            return self._now

    def reset(self) -> None:
        """Back to the real time; the mode is the process's and stays."""
        with self._lock:
            self._now, self._since = self._real_now(), time.monotonic()


def as_utc(value: datetime) -> datetime:
    """Public helper for callers that accept naive datetimes."""
    return _aware(value)
