"""AccountRate: workers that share one lease schedule stay at the account's rate together.

Workers are simulated on virtual clocks: each has its own clock that its ``sleep`` advances, and
the simulation always steps the worker whose clock is earliest, so the schedule sees leases in
time order, as DynamoDB would.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass, field

import pytest

from ecr_archiver.archiving.limiter import AccountRate

RATE = 100.0


class MemorySchedule:
    """The three schedule writes of ``StateTable``, atomic, in memory."""

    def __init__(self) -> None:
        self.tat: float | None = None
        self.calls = 0
        self._lock = threading.Lock()

    def lease_busy(self, key: str, *, seconds: float) -> float:
        with self._lock:
            self.calls += 1
            self.tat = (self.tat or 0.0) + seconds
            return self.tat

    def lease_idle(self, key: str, *, now: float, seconds: float, at_most: float) -> float | None:
        with self._lock:
            self.calls += 1
            if self.tat is not None and self.tat > at_most:
                return None
            self.tat = now + seconds
            return self.tat

    def move_end(self, key: str, *, end: float, until: float) -> bool:
        with self._lock:
            self.calls += 1
            if self.tat != end:
                return False
            self.tat = until
            return True


@dataclass
class Worker:
    schedule: MemorySchedule
    now: float = 0.0
    #: Seconds between a call's start and the next acquire (the pool refills instantly).
    gap: float = 0.0
    #: The burst tolerance; 0 unless a test is about it, so the others see the bare schedule.
    burst: float = 0.0
    calls: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rate = AccountRate(
            self.schedule,
            registry_id="123456789012",
            rate=RATE,
            burst_seconds=self.burst,
            clock=lambda: self.now,
            sleep=self._sleep,
        )

    def _sleep(self, seconds: float) -> None:
        self.now += seconds

    def call(self) -> None:
        self.rate.acquire()
        self.calls.append(self.now)
        self.now += self.gap


def simulate(workers: list[Worker], until: float, *, demand: int = 100) -> list[float]:
    """Step the earliest worker until every clock passes ``until``; every worker always has work."""
    for worker in workers:
        worker.rate.reserve(demand)
    while True:
        worker = min(workers, key=lambda w: w.now)
        if worker.now >= until:
            break
        if worker.rate._demand == 0:
            worker.rate.reserve(demand)
        worker.call()
    return sorted(t for w in workers for t in w.calls if t < until)


def busiest(times: list[float], window: float) -> int:
    return max(bisect_left(times, t + window) - i for i, t in enumerate(times))


@pytest.mark.parametrize("count", [1, 2, 5])
def test_workers_together_stay_at_the_rate_and_use_all_of_it(count: int) -> None:
    schedule = MemorySchedule()
    workers = [Worker(schedule, gap=0.001 * n) for n in range(count)]
    times = simulate(workers, until=30.0)
    assert busiest(times, 10.0) <= RATE * 10 * 1.05
    assert busiest(times, 1.0) <= RATE + count  # at most one extra call per window edge
    assert len(times) >= RATE * 30 * 0.97  # the schedule stays full
    assert schedule.calls <= len(times) * 0.02  # about one write per lease of 100 calls


def test_a_lease_is_sized_by_the_calls_announced() -> None:
    schedule = MemorySchedule()
    worker = Worker(schedule)
    worker.rate.reserve(5)
    for _ in range(5):
        worker.call()
    assert schedule.tat == pytest.approx(0.05)
    assert worker.calls == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])
    assert worker.rate.stats.leases == 1


def test_a_lease_never_takes_more_than_lease_seconds() -> None:
    schedule = MemorySchedule()
    worker = Worker(schedule)
    worker.rate.reserve(10_000)
    worker.call()
    assert schedule.tat == pytest.approx(1.0)


def test_a_worker_that_dies_holding_a_lease_delays_the_others_by_at_most_that_lease() -> None:
    schedule = MemorySchedule()
    dead, alive = Worker(schedule), Worker(schedule)
    dead.rate.reserve(100)
    dead.call()  # leases [0, 1) and dies after its first call
    alive.rate.reserve(100)
    alive.call()
    assert alive.calls == [pytest.approx(1.0)]
    times = simulate([alive], until=5.0)
    assert busiest(sorted(times + dead.calls), 1.0) <= RATE + 1


def test_a_worker_that_finishes_early_gives_the_rest_of_its_lease_back() -> None:
    schedule = MemorySchedule()
    first, second = Worker(schedule), Worker(schedule)
    first.rate.reserve(100)
    for _ in range(10):
        first.call()
    first.rate.release()
    assert schedule.tat == pytest.approx(0.1)
    second.now = 0.1
    second.rate.reserve(10)
    second.call()
    assert second.calls == [pytest.approx(0.1)]  # not at 1.0, the end of first's lease


def test_a_lease_given_back_after_someone_else_leased_is_kept_off_the_schedule() -> None:
    schedule = MemorySchedule()
    first, second = Worker(schedule), Worker(schedule)
    first.rate.reserve(100)
    first.call()
    second.rate.reserve(100)
    second.call()  # leases [1, 2)
    first.rate.release()
    assert schedule.tat == pytest.approx(2.0)  # first's unused time is lost, never reissued


def test_a_late_caller_skips_the_slots_it_missed_instead_of_bunching_calls() -> None:
    schedule = MemorySchedule()
    worker = Worker(schedule)
    worker.rate.reserve(100)
    worker.call()
    worker.now = 0.5  # stalled half a second (a slow DescribeImages, a GC pause)
    worker.call()
    worker.call()
    assert worker.calls[1:] == pytest.approx([0.5, 0.51])


def test_an_idle_schedule_starts_now_instead_of_handing_out_the_past() -> None:
    schedule = MemorySchedule()
    schedule.tat = 100.0
    worker = Worker(schedule, now=200.0)
    worker.rate._contended = True  # it guesses busy first
    worker.rate.reserve(10)
    for _ in range(10):
        worker.call()
    assert worker.calls[0] == pytest.approx(200.0)
    assert busiest(worker.calls, 0.1) <= 10


def test_a_schedule_implausibly_far_ahead_is_reset() -> None:
    schedule = MemorySchedule()
    schedule.tat = 10_000.0  # a clock jump, a hand edit
    worker = Worker(schedule)
    worker.rate._contended = True
    worker.rate.reserve(1)
    worker.call()
    assert worker.calls == [pytest.approx(0.0)]
    assert worker.rate.stats.resets == 1


def test_rate_and_lease_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate"):
        AccountRate(MemorySchedule(), registry_id="1", rate=0)
    with pytest.raises(ValueError, match="lease_seconds"):
        AccountRate(MemorySchedule(), registry_id="1", rate=1, lease_seconds=0)


def test_a_busy_guess_on_a_schedule_gone_idle_gets_the_whole_window_from_now() -> None:
    schedule = MemorySchedule()
    schedule.tat = 9.7  # the last lease ended 0.3 s ago
    worker = Worker(schedule, now=10.0)
    worker.rate._contended = True
    worker.rate.reserve(100)
    for _ in range(100):
        worker.call()
    assert worker.rate.stats.leases == 1  # not 70 calls now and a remainder behind the others
    assert worker.calls[0] == pytest.approx(10.0)
    assert worker.calls[-1] == pytest.approx(10.99)
    assert schedule.tat == pytest.approx(11.0)


def test_a_window_is_not_moved_when_someone_leased_after_it() -> None:
    schedule = MemorySchedule()
    schedule.tat = 9.7
    worker = Worker(schedule, now=10.0)
    worker.rate._contended = True
    original = schedule.lease_busy

    def someone_else_leases_right_after(key: str, *, seconds: float) -> float:
        end = original(key, seconds=seconds)
        original(key, seconds=1.0)
        return end

    schedule.lease_busy = someone_else_leases_right_after  # type: ignore[method-assign]
    worker.rate.reserve(100)
    worker.call()
    assert schedule.tat == pytest.approx(11.7)  # nobody's window was overwritten
    assert worker.rate._window.end == pytest.approx(10.7)  # what is left of its own


# -- burst tolerance -----------------------------------------------------------------------------
BURST = 0.25


def within_the_burst_bound(times: list[float], burst: float) -> bool:
    """Over any interval T: at most rate * (T + burst) calls, plus one per window edge."""
    return all(busiest(times, t) <= RATE * (t + burst) + 2 for t in (0.1, 0.5, 1.0, 10.0))


def test_an_idle_schedule_hands_out_at_most_the_burst_of_unused_time() -> None:
    schedule = MemorySchedule()
    schedule.tat = 100.0  # idle for 100 s
    worker = Worker(schedule, now=200.0, burst=BURST)
    worker.rate.reserve(100)
    for _ in range(100):
        worker.call()
    saved = int(RATE * BURST) + 1  # the quarter second's points, and the one due now
    assert worker.calls[:saved] == pytest.approx([200.0] * saved)
    assert worker.calls[saved] == pytest.approx(200.01)  # then one every 1 / rate
    assert within_the_burst_bound(worker.calls, BURST)


def test_a_late_caller_catches_up_on_at_most_the_burst_and_drops_the_rest() -> None:
    schedule = MemorySchedule()
    worker = Worker(schedule, burst=BURST)
    worker.rate.reserve(100)
    worker.call()  # the window starts a quarter second back: this call is its first point
    worker.now = 0.6  # stalled (a slow DescribeImages)
    for _ in range(30):
        worker.call()
    assert worker.calls[1 : 1 + int(RATE * BURST)] == pytest.approx([0.6] * int(RATE * BURST))
    assert worker.rate.stats.dropped_seconds == pytest.approx(0.6 - BURST - (-BURST + 0.01))
    assert within_the_burst_bound(worker.calls, BURST)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_workers_that_pause_between_repositories_keep_the_rate_within_the_burst(count: int) -> None:
    """Each worker archives a repository of 100 images, then reads the next one's preview for
    0.15 s: alone, a worker without the tolerance runs at 100 / 1.15 of the rate."""
    schedule = MemorySchedule()
    workers = [Worker(schedule, burst=BURST, now=0.003 * n) for n in range(count)]
    done = {id(w): 0 for w in workers}
    for w in workers:
        w.rate.reserve(100)
    until = 30.0
    while True:
        worker = min(workers, key=lambda w: w.now)
        if worker.now >= until:
            break
        worker.call()
        done[id(worker)] += 1
        if done[id(worker)] % 100 == 0:
            worker.rate.release()
            worker.now += 0.15
            worker.rate.reserve(100)
    times = sorted(t for w in workers for t in w.calls if t < until)
    assert within_the_burst_bound(times, BURST)
    assert busiest(times, 10.0) <= RATE * 10 * 1.05
    assert len(times) >= RATE * until * 0.97


def last_call_of_ten_repositories(burst: float) -> float:
    """One worker alone: ten repositories of 100 calls, 0.15 s between them (the next preview)."""
    worker = Worker(MemorySchedule(), burst=burst)
    for _ in range(10):
        worker.rate.reserve(100)
        for _ in range(100):
            worker.call()
        worker.rate.release()
        worker.now += 0.15
    return worker.calls[-1]


def test_a_worker_alone_keeps_the_rate_across_its_pauses_only_with_the_tolerance() -> None:
    assert last_call_of_ten_repositories(0.0) == pytest.approx(10 * 0.99 + 9 * 0.15)  # 88 % of the rate
    assert last_call_of_ten_repositories(BURST) <= 9.99 + 0.15  # the pauses are caught up on


def test_the_burst_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="burst_seconds"):
        AccountRate(MemorySchedule(), registry_id="1", rate=1, burst_seconds=-0.1)
