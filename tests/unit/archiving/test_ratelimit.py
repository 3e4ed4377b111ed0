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
