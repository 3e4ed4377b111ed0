"""The demo's registry: 12 repositories with 18 months of push and pull history, and what runs them.

Releases, ``latest``, branch builds, untagged images, multi-arch indexes, signatures and SBOMs,
images run by ECS tasks and a service and by a Lambda function behind an alias. Seeding is
deterministic: the same generator seed gives the same registry.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ecr_emulator.emulator import Emulator

MB = 1024 * 1024
SPAN_DAYS = 540  # 18 months
SEED = 20261127


@dataclass
class Seeded:
    """What the demo later checks: the images that must survive, and the one it restores."""

    repositories: list[str] = field(default_factory=list)
    images: int = 0
    in_use: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (repo, digest)
    protected: dict[str, tuple[str, str]] = field(default_factory=dict)
    restore_target: tuple[str, str] = ("", "")  # (repo, tag)
    restore_digest: str = ""
    host: str = ""


@dataclass(frozen=True)
class RepoShape:
    name: str
    releases: int
    branches: int
    untagged: int
    size_mb: tuple[int, int]
    multi_arch: bool = False
    signed: int = 0  # newest N releases get a cosign signature and an SBOM
    hot: int = 3  # newest N releases are still pulled every day
    legacy: bool = False  # nothing pulled for a year


SHAPES = (
    RepoShape("payments/api", 36, 12, 6, (180, 260), signed=4),
    RepoShape("payments/worker", 30, 10, 6, (150, 220)),
    RepoShape("web/frontend", 14, 8, 0, (40, 90), multi_arch=True),
    RepoShape("web/admin", 24, 8, 4, (60, 120)),
    RepoShape("data/etl", 28, 6, 10, (400, 700)),
    RepoShape("data/notebooks", 20, 14, 6, (900, 1500)),
    RepoShape("platform/base-images", 12, 0, 0, (30, 80), multi_arch=True, signed=6),
    RepoShape("platform/ci-runner", 30, 20, 6, (500, 800)),
    RepoShape("ml/inference", 18, 6, 4, (2000, 5000)),
    RepoShape("tools/migrations", 26, 4, 4, (20, 40)),
    RepoShape("legacy/monolith", 40, 0, 12, (700, 1100), hot=0, legacy=True),
    RepoShape("notifier", 16, 4, 0, (90, 140)),  # a Lambda image function's repository (flat name)
)
BRANCHES = ("feature-login", "feature-search", "fix-timeouts", "spike-grpc", "renovate-deps", "perf")

#: A pushed release: (tag, digest, age in days).
Release = tuple[str, str, int]


def _release_tag(i: int) -> str:
    return f"v{1 + i // 12}.{(i // 4) % 3}.{i % 4}"


class _History:
    """Push and pull times drawn from one seeded generator, counted back from the emulator's now."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now

    def when(self, days: float) -> datetime:
        return self.now - timedelta(days=days, seconds=self.rng.randint(0, 3600))

    def last_pull(self, age: float, shape: RepoShape, hot: bool) -> datetime | None:
        rng = self.rng
        if hot:
            return self.when(rng.uniform(0, 2))
        if shape.legacy:
            return self.when(max(370, age - rng.uniform(0, 20)))
        if rng.random() < 0.15:
            return None  # never pulled since the push
        return self.when(max(0.5, age - rng.uniform(0, 45)))


def seed_registry(emu: Emulator) -> Seeded:
    """Push 18 months of history, deterministically (same seed, same registry)."""
    history = _History(random.Random(SEED), emu.clock.now())
    seeded = Seeded(host=f"{emu.account_id}.dkr.ecr.{emu.region}.amazonaws.com")
    release_tags: dict[str, list[Release]] = {}
    for shape in SHAPES:
        seeded.repositories.append(shape.name)
        tags = _push_releases(emu, history, shape, seeded)
        _push_branches(emu, history, shape, seeded)
        _push_untagged(emu, history, shape, seeded)
        release_tags[shape.name] = tags
    _choose_targets(emu, history, seeded, release_tags)
    return seeded


def _push_releases(emu: Emulator, history: _History, shape: RepoShape, seeded: Seeded) -> list[Release]:
    """Releases oldest first (the newest 3 days ago, tagged ``latest`` too), signed when asked."""
    rng, when = history.rng, history.when
    tags: list[Release] = []
    for i in range(shape.releases):
        age = SPAN_DAYS - (SPAN_DAYS - 3) * i / max(1, shape.releases - 1)
        if shape.legacy:
            age = SPAN_DAYS - 170 * i / shape.releases  # legacy: the last release was a year ago
        tag = _release_tag(i)
        newest = i == shape.releases - 1
        hot = i >= shape.releases - shape.hot
        tag_list = [tag, "latest"] if newest else [tag]
        if shape.multi_arch:
            digest, children = emu.push_index(shape.name, tag_list, pushed_at=when(age))
            seeded.images += len(children) + 1
            for child in children:
                emu.set_image_times(shape.name, child, last_pulled_at=history.last_pull(age, shape, hot))
        else:
            digest = emu.push_image(
                shape.name,
                tag_list,
                pushed_at=when(age),
                size_bytes=rng.randint(*shape.size_mb) * MB,
                last_pulled_at=history.last_pull(age, shape, hot),
            )
            seeded.images += 1
        emu.set_image_times(shape.name, digest, last_pulled_at=history.last_pull(age, shape, hot))
        tags.append((tag, digest, int(age)))
        if i >= shape.releases - shape.signed:
            for artifact in (emu.push_signature(shape.name, digest), emu.push_sbom(shape.name, digest)):
                emu.set_image_times(shape.name, artifact, pushed_at=when(age), last_pulled_at=None)
                seeded.images += 1
    return tags


def _push_branches(emu: Emulator, history: _History, shape: RepoShape, seeded: Seeded) -> None:
    rng, when = history.rng, history.when
    for b in range(shape.branches):
        age = rng.uniform(1, SPAN_DAYS)
        emu.push_image(
            shape.name,
            f"{BRANCHES[b % len(BRANCHES)]}-{b:02d}",
            pushed_at=when(age),
            size_bytes=rng.randint(*shape.size_mb) * MB,
            last_pulled_at=when(max(0.2, age - rng.uniform(0, 3))),
        )
        seeded.images += 1


def _push_untagged(emu: Emulator, history: _History, shape: RepoShape, seeded: Seeded) -> None:
    rng, when = history.rng, history.when
    for _ in range(shape.untagged):
        age = rng.uniform(30, SPAN_DAYS)
        emu.push_image(
            shape.name,
            None,
            pushed_at=when(age),
            size_bytes=rng.randint(*shape.size_mb) * MB,
            last_pulled_at=None if rng.random() < 0.5 else when(max(1, age - 10)),
        )
        seeded.images += 1


def _choose_targets(
    emu: Emulator, history: _History, seeded: Seeded, release_tags: dict[str, list[Release]]
) -> None:
    """The images the workloads run, the protected ones, and the restore target; then the workloads."""
    when = history.when
    # An untagged build that a worker task runs by digest only (tags moved on long ago).
    pinned = emu.push_image(
        "payments/worker", None, pushed_at=when(300), size_bytes=190 * MB, last_pulled_at=when(290)
    )
    seeded.images += 1
    seeded.in_use["payments/worker by digest (ECS task)"] = ("payments/worker", pinned)

    def release(repo: str, age_at_least: int) -> tuple[str, str]:
        tag, digest, _ = next(t for t in reversed(release_tags[repo]) if t[2] >= age_at_least)
        return tag, digest

    api_tag, api_digest = release("payments/api", 200)
    seeded.in_use[f"payments/api:{api_tag} (ECS task, by tag)"] = ("payments/api", api_digest)
    _, etl_digest = release("data/etl", 250)
    seeded.in_use[f"data/etl@{etl_digest[:15]}… (ECS task, by digest)"] = ("data/etl", etl_digest)
    web_tag, web_digest = release("web/frontend", 200)
    seeded.in_use[f"web/frontend:{web_tag} (ECS service, multi-arch index)"] = ("web/frontend", web_digest)
    fn_tag, fn_digest = release("notifier", 150)
    seeded.in_use[f"notifier:{fn_tag} (Lambda alias live)"] = ("notifier", fn_digest)
    legacy_tag, legacy_digest = release("legacy/monolith", 400)
    seeded.protected[f"legacy/monolith:{legacy_tag} (protect.images)"] = ("legacy/monolith", legacy_digest)
    for repo in seeded.repositories:  # every newest release carries ``latest``
        _, digest, _ = release_tags[repo][-1]
        seeded.protected[f"{repo}:latest"] = (repo, digest)
    restore_tag, restore_digest = release("payments/api", 400)
    seeded.restore_target = ("payments/api", restore_tag)
    seeded.restore_digest = restore_digest

    _run_in_ecs(emu, seeded, api_tag, pinned, etl_digest, web_tag)
    _run_in_lambda(emu, seeded, fn_tag, release_tags["notifier"][-1][0])


def _run_in_ecs(emu: Emulator, seeded: Seeded, api_tag: str, pinned: str, etl: str, web_tag: str) -> None:
    import boto3
    from moto.ec2.utils import generate_instance_identity_document

    ecs = boto3.client("ecs", region_name=emu.region)
    ecs.create_cluster(clusterName="prod")
    instance = boto3.resource("ec2", region_name=emu.region).create_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1
    )[0]
    ecs.register_container_instance(
        cluster="prod", instanceIdentityDocument=json.dumps(generate_instance_identity_document(instance))
    )
    host = seeded.host
    tasks = {
        "payments-api": f"{host}/payments/api:{api_tag}",
        "payments-worker": f"{host}/payments/worker@{pinned}",
        "etl-nightly": f"{host}/data/etl@{etl}",
    }
    for family, image in tasks.items():
        ecs.register_task_definition(
            family=family, containerDefinitions=[{"name": family, "image": image, "memory": 256}]
        )
        ecs.run_task(cluster="prod", taskDefinition=family, launchType="EC2")
    ecs.register_task_definition(
        family="web",
        containerDefinitions=[{"name": "web", "image": f"{host}/web/frontend:{web_tag}", "memory": 256}],
    )
    ecs.create_service(cluster="prod", serviceName="web", taskDefinition="web", desiredCount=0)


def _run_in_lambda(emu: Emulator, seeded: Seeded, alias_tag: str, latest_tag: str) -> None:
    """``notifier``: alias ``live`` → version 1 (an old image), ``$LATEST`` → the newest one."""
    import boto3

    iam = boto3.client("iam", region_name=emu.region)
    role = iam.create_role(
        RoleName="notifier", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=emu.region)
    lam.create_function(
        FunctionName="notifier",
        Role=role,
        PackageType="Image",
        Code={"ImageUri": f"{seeded.host}/notifier:{alias_tag}"},
    )
    version = lam.publish_version(FunctionName="notifier")["Version"]
    lam.create_alias(FunctionName="notifier", Name="live", FunctionVersion=version)
    lam.update_function_code(FunctionName="notifier", ImageUri=f"{seeded.host}/notifier:{latest_tag}")
