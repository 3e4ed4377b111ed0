"""auto_restore's decision with fakes: the brakes (once, cap) and what it asks ECR for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ecr_archiver.models import ImageStatus
from ecr_archiver.restore.auto.guards import DuplicateRestore, HourlyCap, Work
from ecr_archiver.restore.auto.logic import AutoRestorePolicy, AutoRestoreServices, auto_restore
from ecr_archiver.restore.auto.models import (
    Action,
    RequestedImage,
    RestoreAttempt,
    RestoreKey,
    SkipReason,
    Workload,
    WorkloadDemand,
    WorkloadKind,
)
from ecr_archiver.restore.models import RepositoryAllowList
from ecr_archiver.restore.references import LocalRegistry, parse_image_uri
from tests.unit.restore.support import FakeRegistry

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
NOW = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)


@dataclass
class AlwaysOnce:
    """Runs the work for a key the first time only (the Powertools record, in memory)."""

    seen: set[RestoreKey] = field(default_factory=set)

    def __call__(self, key: RestoreKey, work: Work) -> RestoreAttempt:
        if key in self.seen:
            raise DuplicateRestore("restored moments ago")
        self.seen.add(key)
        return work("attempt-1")


@dataclass
class Counter:
    counts: dict[str, int] = field(default_factory=dict)

    def take(self, key: str, *, limit: int, expires_at: int) -> bool:
        if self.counts.get(key, 0) >= limit:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        return True


@dataclass
class Notices:
    sent: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def publish(self, subject: str, message: dict[str, object], *, event: str) -> str:
        self.sent.append((subject, message))
        return "message-id"


def services(
    registry: FakeRegistry, *, limit: int = 50, counter: Counter | None = None
) -> AutoRestoreServices:
    return AutoRestoreServices(
        policy=AutoRestorePolicy(
            enabled=True,
            allowed=RepositoryAllowList(patterns=("*",)),
            registry=LocalRegistry(registry_id="123456789012", region="us-east-1"),
        ),
        registry=registry,
        once=AlwaysOnce(),
        budget=HourlyCap(counter or Counter(), limit=limit),
        notices=Notices(),
        now=lambda: NOW,
    )


def demand(*refs: str) -> WorkloadDemand:
    return WorkloadDemand(
        workload=Workload(kind=WorkloadKind.ECS_TASK, cluster="prod", service="api"),
        images=tuple(
            RequestedImage(written=f"{HOST}/{r}", image=parse_image_uri(f"{HOST}/{r}")) for r in refs
        ),
    )


def test_it_only_ever_asks_ecr_for_standard() -> None:
    registry = FakeRegistry()
    image = registry.add_image("team/api", ("v1",), status=ImageStatus.ARCHIVED)
    registry.add_referrer("team/api", image, artifact_type="application/vnd.dev.cosign.artifact.sig.v1+json")

    report = auto_restore(demand("team/api:v1"), services(registry))

    assert report.started == 1
    assert registry.updates
    assert {target for _, target in registry.updates} == {"STANDARD"}


def test_the_hourly_cap_counts_only_restores_started() -> None:
    registry = FakeRegistry()
    registry.add_image("team/a", ("v1",), status=ImageStatus.ACTIVE)
    registry.add_image("team/b", ("v1",), status=ImageStatus.ARCHIVED)
    counter = Counter()

    report = auto_restore(demand("team/a:v1", "team/b:v1"), services(registry, limit=1, counter=counter))

    assert [d.action for d in report.decisions] == [Action.SKIPPED, Action.RESTORE_STARTED]
    assert counter.counts == {"auto-restore-cap#2026-05-12T09": 1}


def test_over_the_cap_nothing_is_asked_of_ecr() -> None:
    registry = FakeRegistry()
    registry.add_image("team/a", ("v1",), status=ImageStatus.ARCHIVED)
    registry.add_image("team/b", ("v1",), status=ImageStatus.ARCHIVED)

    report = auto_restore(demand("team/a:v1", "team/b:v1"), services(registry, limit=1))

    assert [d.reason for d in report.decisions] == [None, SkipReason.CAPPED]
    assert [ref.repository for ref, _ in registry.updates] == ["team/a"]


def test_the_same_image_twice_in_one_event_is_restored_once() -> None:
    registry = FakeRegistry()
    digest = registry.add_image("team/a", ("v1",), status=ImageStatus.ARCHIVED)

    report = auto_restore(demand("team/a:v1", f"team/a@{digest}"), services(registry))

    assert report.started == 1
    assert len(registry.updates) == 1
