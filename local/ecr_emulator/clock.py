"""The emulator clock: frozen unless a test moves it, so time-based behaviour is deterministic.

Every archive-era time in the emulator (push and pull times, restores, previews) reads this
clock instead of the wall clock; only fault latency uses real time, because benchmarks measure it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def _aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; everything leaves the clock tz-aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EmulatorClock:
    """A settable, advanceable UTC clock starting at the real time of its creation (or reset)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = self._real_now()

    @staticmethod
    def _real_now() -> datetime:
        # Whole milliseconds: ECR timestamps round-trip through JSON epoch floats.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, value: datetime) -> datetime:
        with self._lock:
            self._now = _aware(value)
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now = self._now + step
            return self._now

    def reset(self) -> None:
        with self._lock:
            self._now = self._real_now()


def as_utc(value: datetime) -> datetime:
    """Public helper for callers that accept naive datetimes."""
    return _aware(value)
