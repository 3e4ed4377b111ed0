"""The Python control plane: ``emulated_aws()`` and the ``Emulator`` handle.

The same ``Emulator`` object drives the in-process mock and a server running in this process
(both share moto's global backends); for a server in another process use the ``/_emulator/``
HTTP routes instead.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from moto.core.base_backend import BackendDict
from moto.ecr.models import ECRBackend, Repository, ecr_backends

from ecr_emulator import manifests, registry
from ecr_emulator.clock import EmulatorClock, as_utc
from ecr_emulator.faults import FaultInjector
from ecr_emulator.install import install
from ecr_emulator.state import DEFAULT_ACCOUNT_ID, STATE, EmulatorSettings

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}

_seeds = itertools.count(1)


class Emulator:
    """Control handle for the emulated ECR of one region (moto's default account)."""

    def __init__(self, region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        install()
        self.region = region
        self.account_id = account_id

    # -- process-wide controls --------------------------------------------------------
    @property
    def clock(self) -> EmulatorClock:
        return STATE.clock

    @property
    def settings(self) -> EmulatorSettings:
        return STATE.settings

    @property
    def faults(self) -> FaultInjector:
        return STATE.faults

    @property
    def calls(self) -> Counter[str]:
        return STATE.calls

    @property
    def throttled(self) -> Counter[str]:
        return STATE.throttled

    def call_times(self, operation: str) -> list[float]:
        """When each ``operation`` call arrived since the last reset (``time.monotonic``, sorted)."""
        with STATE.lock:
            return sorted(STATE.call_times.get(operation, ()))

    def calls_per_second(self, operation: str) -> list[int]:
        """The per-second call log: ``operation`` calls in each whole second since the first one."""
        times = self.call_times(operation)
        if not times:
            return []
        counts = [0] * (int(times[-1] - times[0]) + 1)
        for t in times:
            counts[int(t - times[0])] += 1
        return counts

    def busiest_window(self, operation: str, seconds: float) -> int:
        """The most ``operation`` calls that arrived within any ``seconds``-long sliding window."""
        times = self.call_times(operation)
        most, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= seconds:
                start += 1
            most = max(most, end - start + 1)
        return most

    @property
    def principals(self) -> dict[str, str]:
        return STATE.principals

    def reset_calls(self) -> None:
        STATE.reset_calls()

    def reset(self) -> None:
        """Wipe every moto backend and all emulator state (clock, faults, counters, settings)."""
        BackendDict.reset()
        STATE.reset()

    def fail_next_preview(self, repo: str) -> None:
        STATE.failing_previews.add((self.account_id, self.region, repo))

    # -- repositories and images ------------------------------------------------------
    @property
    def backend(self) -> ECRBackend:
        return ecr_backends[self.account_id][self.region]

    def create_repository(self, name: str) -> None:
        self.backend.create_repository(
            repository_name=name,
            registry_id=None,
            encryption_config=None,  # type: ignore[arg-type]
            image_scan_config=None,
            image_tag_mutability=None,  # type: ignore[arg-type]
            tags=[],
        )

    def _repo(self, name: str, *, create: bool = False) -> Repository:
        if create and name not in self.backend.repositories:
            self.create_repository(name)
        return registry.get_repository(self.backend, name)

    def _push(self, repo: str, manifest: str, tags: list[str], **kwargs: Any) -> str:
        # Under the lock ECR calls take, so a server in this process never sees a half push.
        with STATE.lock:
            image = registry.push(self.backend, self._repo(repo, create=True), manifest, tags=tags, **kwargs)
        return str(image.get_image_digest())

    @staticmethod
    def _tags(tags: str | list[str] | tuple[str, ...] | None) -> list[str]:
        if tags is None:
            return []
        return [tags] if isinstance(tags, str) else list(tags)

    def push_image(
        self,
        repo: str,
        tags: str | list[str] | None = None,
        *,
        pushed_at: datetime | None = None,
        size_bytes: int | None = None,
        last_pulled_at: datetime | None = None,
        artifact_type: str | None = None,
        subject: str | None = None,
        seed: str | None = None,
    ) -> str:
        """Push a new single-platform image (a fresh manifest every call, unless ``seed`` repeats);
        with ``subject`` it is an OCI referrer of that digest. Creates the repository if needed."""
        seed = seed or f"{repo}#{next(_seeds)}"
        if subject:
            manifest = manifests.referrer_manifest(
                seed,
                subject,
                self._manifest_size(repo, subject),
                artifact_type=artifact_type or manifests.COSIGN_SIGNATURE,
                payload_size=size_bytes if size_bytes is not None else 4096,
            )
        else:
            manifest = manifests.image_manifest(seed, size_bytes=size_bytes)
            if artifact_type:
                manifest = manifest[:-1] + f',"artifactType":"{artifact_type}"}}'
        return self._push(
            repo,
            manifest,
            self._tags(tags),
            pushed_at=as_utc(pushed_at) if pushed_at else None,
            last_pulled_at=as_utc(last_pulled_at) if last_pulled_at else None,
        )

    def push_index(
        self,
        repo: str,
        tags: str | list[str] | None = None,
        *,
        platforms: tuple[str, ...] | list[str] = ("linux/amd64", "linux/arm64"),
        pushed_at: datetime | None = None,
    ) -> tuple[str, list[str]]:
        """Push one untagged image per platform, then an OCI index over them carrying ``tags``."""
        when = as_utc(pushed_at) if pushed_at else None
        seed = f"{repo}#{next(_seeds)}"
        children: list[tuple[str, int, str]] = []
        for platform in platforms:
            manifest = manifests.image_manifest(f"{seed}/{platform}", platform=platform)
            digest = self._push(repo, manifest, [], pushed_at=when)
            children.append((digest, len(manifest.encode()), platform))
        index_digest = self._push(repo, manifests.index_manifest(children), self._tags(tags), pushed_at=when)
        return index_digest, [digest for digest, _, _ in children]

    def push_referrer(
        self,
        repo: str,
        subject_digest: str,
        *,
        artifact_type: str = manifests.COSIGN_SIGNATURE,
        pushed_at: datetime | None = None,
    ) -> str:
        return self.push_image(
            repo, None, pushed_at=pushed_at, artifact_type=artifact_type, subject=subject_digest
        )

    def push_signature(self, repo: str, subject_digest: str) -> str:
        return self.push_referrer(repo, subject_digest, artifact_type=manifests.COSIGN_SIGNATURE)

    def push_sbom(self, repo: str, subject_digest: str) -> str:
        return self.push_referrer(repo, subject_digest, artifact_type=manifests.SPDX_SBOM)

    def _manifest_size(self, repo: str, digest: str) -> int:
        image = registry.index_of(self._repo(repo, create=True)).by_digest.get(digest)
        return len(image.image_manifest.encode()) if image is not None else 0

    def _image(self, repo: str, digest: str) -> Any:
        return registry.find_image(self._repo(repo), {"imageDigest": digest})

    def set_image_times(
        self,
        repo: str,
        digest: str,
        *,
        pushed_at: datetime | None = None,
        last_pulled_at: datetime | None = None,
    ) -> None:
        with STATE.lock:
            image = self._image(repo, digest)
            meta = registry.meta_of(image)
            if pushed_at is not None:
                meta.pushed_at = as_utc(pushed_at)
                image.image_pushed_at = int(meta.pushed_at.timestamp())
            if last_pulled_at is not None:
                meta.last_pulled_at = as_utc(last_pulled_at)

    def image_status(self, repo: str, digest: str) -> str:
        return registry.status_of(self._image(repo, digest))


@contextmanager
def emulated_aws(region: str = "us-east-1") -> Iterator[Emulator]:
    """``moto.mock_aws`` with the ECR extension installed and fresh emulator state; dummy
    credentials (and ``AWS_DEFAULT_REGION``) are set for the duration if the environment has none."""
    from moto import mock_aws

    install()
    wanted = {**DUMMY_CREDENTIALS, "AWS_DEFAULT_REGION": region}
    added = {k: v for k, v in wanted.items() if k not in os.environ}
    if "AWS_ACCESS_KEY_ID" in os.environ:
        added.pop("AWS_SESSION_TOKEN", None)
        added.pop("AWS_SECURITY_TOKEN", None)
    os.environ.update(added)
    STATE.reset()
    try:
        # moto swaps every request's credentials for its own unless told not to; the caller's
        # real access key is what decides who pulls (pull-time update exclusions).
        with mock_aws(config={"core": {"mock_credentials": False}}):
            yield Emulator(region)
    finally:
        STATE.reset()
        for key in added:
            os.environ.pop(key, None)
