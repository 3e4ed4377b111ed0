"""One archive rate for the whole account, shared by every worker: a lease schedule in DynamoDB.

ECR's UpdateImageStorageClass limit is per account and region, but the archive workers cannot
see each other. Giving each worker ``ArchiveMaxTps / WorkerMaxConcurrency`` keeps the account
under the limit, but a repository that one worker handles alone (the monorepo holding most
candidates, the tail of every run) then runs at a fraction of the rate.

Instead the workers share one *schedule* (a generic cell rate algorithm). A single item in the
state table, ``archive-rate#<registry>``, holds ``tat``: the moment the account's schedule is
next free, in epoch seconds. A worker that needs ``n`` calls leases ``n / rate`` seconds of it in
one UpdateItem, and gets a window that no other worker holds:

- busy schedule (``tat`` in the future): ``ADD tat :d`` returns the new end; the window is
  ``[end - d, end)``;
- idle schedule (``tat`` more than ``burst_seconds`` in the past): a conditional
  ``SET tat = :start + :d`` starts the window at ``start = now - burst_seconds``.

``burst_seconds`` is the generic cell rate algorithm's burst tolerance: schedule time nobody used
stays usable for that long, so the calls a worker could not make while it read its next
repository's preview are made when it comes back (ECR's own token bucket refilled meanwhile),
and one worker on its own keeps the whole rate. Older unused time is dropped, never handed out
late all at once. Every call is made no earlier than ``burst_seconds`` before its point on the
schedule and points are ``1 / rate`` apart, so over any interval ``T`` the account makes at most
``rate * (T + burst_seconds)`` calls, plus one per window edge: with the default quarter second,
2.5 % over a 10-second window.

Inside its window the worker spaces its calls ``1 / rate`` apart; a call that comes late takes
the next free point, so calls come closer than ``1 / rate`` only while catching up on the last
``burst_seconds`` of its own window. Leases are sized by
demand (the calls a page is about to make, at most ``lease_seconds`` of the schedule), so a
lease costs one DynamoDB write per ~100 archive calls at the usual rates.

Failure modes:

- a worker that dies (or runs out of time) with part of a window unused leaves only that time
  unused: the schedule moves on, nothing waits for it, and no other worker can overrun;
- a worker that finishes early gives the rest of its window back if nobody leased after it
  (``move_end``: a conditional SET on ``tat == our end``);
- a busy-guess lease that finds the schedule had gone idle (its window would start more than
  ``burst_seconds`` in the past) moves its window to start ``burst_seconds`` before now, with the
  same conditional SET, so it gets the whole window it
  asked for instead of a stub, and no worker has to lease a remainder behind the others (which
  would make workers finish, and wait, in step);
- a ``tat`` implausibly far ahead (a clock jump, a hand edit) is reset after ``max_wait``
  instead of putting every worker to sleep.

Clocks: windows are wall-clock (Lambda hosts keep NTP time; milliseconds of skew cost
milliseconds of rate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ecr_archiver.observability import logger

KEY_PREFIX = "archive-rate"
#: Unused schedule time still usable this long after its moment (the burst tolerance).
DEFAULT_BURST_SECONDS = 0.25
#: Calls this close to a window's end still fit (float dust from leases summed in DynamoDB).
_EPSILON = 1e-6


class CallPacer(Protocol):
    """What the worker needs from a rate limiter (:class:`AccountRate` or ``TokenBucket``)."""

    def reserve(self, calls: int) -> None:
        """Announce how many calls are about to be made (a sizing hint; may be ignored)."""

    def acquire(self) -> None:
        """Block until this caller may make one call."""

    def release(self) -> None:
        """No more calls for now: hand back what was reserved and not used."""


class LeaseSchedule(Protocol):
    """The account's schedule item (``ecr_archiver.adapters.dynamodb.StateTable`` in production)."""

    def lease_busy(self, key: str, *, seconds: float) -> float:
        """``ADD tat :seconds``; returns the new ``tat``."""

    def lease_idle(self, key: str, *, now: float, seconds: float, at_most: float) -> float | None:
        """``SET tat = now + seconds`` if ``tat`` is missing or ``<= at_most``; ``None`` if not."""

    def move_end(self, key: str, *, end: float, until: float) -> bool:
        """``SET tat = until`` if ``tat == end`` (nobody leased after us); ``False`` if not."""


@dataclass
class _Window:
    next_at: float = 0.0
    end: float = 0.0


@dataclass
class LeaseStats:
    leases: int = 0
    schedule_calls: int = 0
    given_back: float = 0.0
    resets: int = 0
    #: Leased time this worker was too late to use (it never reaches another worker).
    dropped_seconds: float = 0.0


class AccountRate:
    """A :class:`CallPacer` whose windows come from the account-wide :class:`LeaseSchedule`.

    Thread-safe: one instance per execution environment, shared by the archive threads.
    """

    def __init__(
        self,
        schedule: LeaseSchedule,
        *,
        registry_id: str,
        rate: float,
        lease_seconds: float = 1.0,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        if burst_seconds < 0:
            raise ValueError("burst_seconds must be >= 0")
        self.key = f"{KEY_PREFIX}#{registry_id}"
        self.rate = rate
        self.interval = 1.0 / rate
        self.lease_seconds = lease_seconds
        self.max_wait = max_wait
        #: A call this late still takes its own point (sleep overshoot, a thread switch): the
        #: window's count holds, and only calls within this interval come closer than 1 / rate.
        self.late_tolerance = min(0.05, lease_seconds / 10)
        self.burst_seconds = burst_seconds
        #: Points of a window further back than this are dropped.
        self._catch_up = max(self.late_tolerance, burst_seconds)
        self._schedule = schedule
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._window = _Window()
        self._demand = 0
        #: Did the last lease find the schedule busy? Decides which write to try first.
        self._contended = False
        self.stats = LeaseStats()

    # -- CallPacer ---------------------------------------------------------------------
    def reserve(self, calls: int) -> None:
        with self._lock:
            self._demand = max(0, calls)

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            at = self._window.next_at
            if at < now - self._catch_up:
                floor = now - self.burst_seconds
                self.stats.dropped_seconds += min(floor, self._window.end) - at
                at = floor  # older points are dropped: at most burst_seconds of calls at once
            if at + self.interval > self._window.end + _EPSILON:
                self._lease(now)
                at = self._window.next_at
            self._window.next_at = at + self.interval
            self._demand = max(0, self._demand - 1)
        wait = at - self._clock()
        if wait > 0:
            self._sleep(wait)

    def release(self) -> None:
        with self._lock:
            self._demand = 0
            window = self._window
            start = max(window.next_at, self._clock())
            if window.end - start < self.interval:
                return
            self.stats.schedule_calls += 1
            if self._schedule.move_end(self.key, end=window.end, until=start):
                self.stats.given_back += window.end - start
            self._window = _Window()

    # -- leasing (under the lock) ----------------------------------------------------------
    def _lease_length(self) -> float:
        wanted = max(1, self._demand) * self.interval
        return min(self.lease_seconds, max(self.interval, wanted))

    def _lease(self, now: float) -> None:
        seconds = self._lease_length()
        start, end = self._busy(seconds) if self._contended else self._idle(now, seconds)
        floor = now - self.burst_seconds
        if start < floor - self.late_tolerance:
            # Busy guessed, but nobody held the schedule since ``start``: take the whole window
            # from ``floor`` on instead of what is left of it (if nobody leased after us meanwhile).
            self.stats.schedule_calls += 1
            if self._schedule.move_end(self.key, end=end, until=floor + seconds):
                start, end = floor, floor + seconds
            elif end - now < self.interval - _EPSILON:
                start, end = self._idle(now, seconds)
        if start - now > self.max_wait:
            start, end = self._reset(now, seconds, start)
        self.stats.leases += 1
        # Waiting for the schedule means other workers hold it: lease with ADD first next time.
        self._contended = start > now + self.interval
        self._window = _Window(next_at=max(start, floor), end=end)

    def _busy(self, seconds: float) -> tuple[float, float]:
        self.stats.schedule_calls += 1
        end = self._schedule.lease_busy(self.key, seconds=seconds)
        return end - seconds, end

    def _idle(self, now: float, seconds: float) -> tuple[float, float]:
        self.stats.schedule_calls += 1
        start = now - self.burst_seconds
        end = self._schedule.lease_idle(self.key, now=start, seconds=seconds, at_most=start)
        if end is not None:
            return start, end
        return self._busy(seconds)

    def _reset(self, now: float, seconds: float, start: float) -> tuple[float, float]:
        logger.warning(
            "archive rate schedule is implausibly far ahead; resetting it",
            extra={"key": self.key, "ahead_seconds": round(start - now, 3)},
        )
        self.stats.resets += 1
        self.stats.schedule_calls += 1
        end = self._schedule.lease_idle(self.key, now=now, seconds=seconds, at_most=start + seconds)
        return (now, end) if end is not None else self._busy(seconds)
