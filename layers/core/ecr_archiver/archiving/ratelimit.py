"""A thread-safe token bucket: the client-side cap on UpdateImageStorageClass calls per second.

botocore's adaptive retry mode backs off once ECR throttles; the bucket keeps us from getting
there, so a large run settles at ``ARCHIVE_MAX_TPS`` instead of oscillating around ECR's limit.

The deployed worker paces itself with the account-wide schedule of
:mod:`~ecr_archiver.archiving.limiter`; this bucket serves runs without a state table (the
local CLI, tests), where one process is the only archiver.

A handler that uses it keeps one bucket per execution environment with a small burst
(a quarter second of calls) that starts at one token: while the worker is between repositories
(reading the preview, writing the report, receiving the next message) the bucket saves up what
ECR's own bucket refills meanwhile, and the next repository spends it. Over any window the calls
stay within ``rate * window + burst``; the sustained rate is unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        initial: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # Default burst of one token: smooth pacing, so a fresh bucket never exceeds the rate
        # within its first second (ECR counts per second, not per bucket lifetime).
        self.capacity = max(1.0, burst if burst is not None else 1.0)
        self._tokens = self.capacity if initial is None else min(self.capacity, max(0.0, initial))
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self, calls: int) -> None:
        """A token bucket refills on its own: nothing to size (``CallPacer`` hint)."""

    def release(self) -> None:
        """Nothing is held between calls (``CallPacer``)."""

    def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0 - 1e-9:  # float dust must not spin forever
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)
