"""The token bucket caps UpdateImageStorageClass calls per second."""

from __future__ import annotations

from ecr_archiver.archiving.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_acquisitions_are_paced_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(20, clock=clock, sleep=clock.sleep)
    for _ in range(101):
        bucket.acquire()
    # the first token is free; the next 100 take 100 / 20 = 5 seconds
    assert abs(clock.now - 5.0) < 1e-6


def test_an_idle_bucket_does_not_save_up_more_than_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    clock.now = 100.0
    for _ in range(11):
        bucket.acquire()
    assert abs(clock.now - 101.0) < 1e-6


def test_a_burst_bucket_starts_with_one_token_and_saves_up_idle_time_up_to_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(20, burst=5, initial=1, clock=clock, sleep=clock.sleep)
    # a fresh bucket paces from the first call: 1 free token, then 20 per second
    for _ in range(21):
        bucket.acquire()
    assert abs(clock.now - 1.0) < 1e-6
    # 0.1 s idle saves 2 tokens, spent without waiting; the next one waits for the rate
    clock.now += 0.1
    bucket.acquire()
    bucket.acquire()
    assert abs(clock.now - 1.1) < 1e-6
    bucket.acquire()
    assert abs(clock.now - 1.15) < 1e-6
    # a long idle saves no more than the burst
    clock.now += 60
    start = clock.now
    for _ in range(6):
        bucket.acquire()
    assert abs(clock.now - start - 0.05) < 1e-6
