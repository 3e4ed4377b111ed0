"""The account-wide rate schedule on DynamoDB (the emulator's): atomic leases, shared by threads."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from typing import Any

import boto3
import pytest

from ecr_archiver.adapters.dynamodb import StateTable
from ecr_archiver.archiving.limiter import DEFAULT_BURST_SECONDS, AccountRate

KEY = "archive-rate#123456789012"


@pytest.fixture
def table(emulator: Any) -> StateTable:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="state",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return StateTable("state", client=client)


def test_an_idle_lease_starts_the_schedule_and_a_busy_one_extends_it(table: StateTable) -> None:
    assert table.lease_idle(KEY, now=100.0, seconds=1.0, at_most=100.0) == 101.0
    assert table.lease_idle(KEY, now=100.5, seconds=1.0, at_most=100.5) is None  # busy until 101
    assert table.lease_busy(KEY, seconds=0.25) == 101.25
    assert table.lease_busy(KEY, seconds=0.25) == 101.5


def test_a_lease_is_given_back_only_while_nobody_leased_after_it(table: StateTable) -> None:
    table.lease_idle(KEY, now=0.0, seconds=1.0, at_most=0.0)
    assert table.move_end(KEY, end=1.0, until=0.4)
    table.lease_busy(KEY, seconds=1.0)  # someone leases [0.4, 1.4)
    assert not table.move_end(KEY, end=0.4, until=0.2)
    assert table.lease_busy(KEY, seconds=0.1) == pytest.approx(1.5)


def test_concurrent_busy_leases_never_overlap(table: StateTable) -> None:
    table.lease_idle(KEY, now=0.0, seconds=0.01, at_most=0.0)
    ends: list[float] = []
    lock = threading.Lock()

    def lease() -> None:
        for _ in range(25):
            end = table.lease_busy(KEY, seconds=0.01)
            with lock:
                ends.append(end)

    threads = [threading.Thread(target=lease) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(e, 6) for e in ends) == [round(0.01 * n, 6) for n in range(2, 102)]


def test_workers_on_separate_threads_share_one_rate(table: StateTable) -> None:
    rate, seconds = 200.0, 1.5
    times: list[float] = []
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker() -> None:
        pacer = AccountRate(table, registry_id="123456789012", rate=rate, lease_seconds=0.25)
        while time.time() < stop:
            pacer.reserve(50)
            pacer.acquire()
            with lock:
                times.append(time.time())
        pacer.release()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    busiest = max(bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
    # Three workers together stay at the rate (an equal share each would be a third of it): the
    # idle schedule's first lease may catch up on its burst tolerance, nothing more ...
    assert busiest <= rate * (1.0 + DEFAULT_BURST_SECONDS) + 3
    # ... and one schedule is not three shares: the whole rate is used, not a third of it
    assert len(times) >= rate * seconds * 0.6
