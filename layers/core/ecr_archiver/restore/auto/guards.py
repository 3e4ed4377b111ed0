"""The two brakes on automatic restores, both kept in the shared state table.

- :class:`PowertoolsOnce`: at most one restore per image (registry, repository, digest) per dedupe
  window, however many events ask for it at once. ECS retries a failing service's tasks every few
  seconds, each retry is an event, and several function instances may run them concurrently.
  Powertools Idempotency writes an INPROGRESS record with a conditional put before the restore
  runs; a concurrent call finds it and is told :class:`DuplicateRestore`; a later call gets the
  stored result, which carries another call's ``attempt_id`` and so is a duplicate too.
- :class:`HourlyCap`: at most ``limit`` restores per clock hour (UTC) across every invocation,
  one conditional counter per hour.

Exceptions raised inside the once-per-image work (the cap, a throttled ECR) delete the INPROGRESS
record, so a later event, or Lambda's retry, tries again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ecr_archiver.restore.auto.models import RestoreAttempt, RestoreKey

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

IDEMPOTENCY_PREFIX = "auto-restore"
CAP_PREFIX = "auto-restore-cap"
#: A window's counter outlives its hour by a day, for operators reading the table.
CAP_KEEP = timedelta(hours=25)

Work = Callable[[str], RestoreAttempt]


class DuplicateRestore(Exception):
    """Another invocation is restoring, or has just restored, this image."""


class CapReached(Exception):
    """``AutoRestoreMaxPerHour`` restores have started in this hour already."""


class RestoreOnce(Protocol):
    """Run ``work(attempt_id)`` at most once per ``key`` per dedupe window."""

    def __call__(self, key: RestoreKey, work: Work) -> RestoreAttempt: ...


class RestoreBudget(Protocol):
    """Take one restore from the current window's allowance (``False``: none left)."""

    def take(self, now: datetime) -> bool: ...


class WindowCounter(Protocol):
    """``ecr_archiver.adapters.dynamodb.StateTable`` in production."""

    def take(self, key: str, *, limit: int, expires_at: int) -> bool: ...


@dataclass(frozen=True)
class HourlyCap:
    counter: WindowCounter
    limit: int

    @staticmethod
    def window_key(now: datetime) -> str:
        return f"{CAP_PREFIX}#{now.astimezone(UTC):%Y-%m-%dT%H}"

    def take(self, now: datetime) -> bool:
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return self.counter.take(
            self.window_key(now), limit=self.limit, expires_at=int((hour + CAP_KEEP).timestamp())
        )


class PowertoolsOnce:
    """:class:`RestoreOnce` with Powertools Idempotency (``idempotent_function``) on the state table."""

    def __init__(self, store: BasePersistenceLayer, *, expires_after_seconds: int) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

        self._config = IdempotencyConfig(
            expires_after_seconds=expires_after_seconds, raise_on_no_idempotency_key=True
        )

        @idempotent_function(  # type: ignore[untyped-decorator,unused-ignore]
            data_keyword_argument="key",
            persistence_store=store,
            config=self._config,
            output_serializer=PydanticSerializer(model=RestoreAttempt),
            key_prefix=IDEMPOTENCY_PREFIX,
        )
        def once(key: RestoreKey, attempt_id: str, work: Work) -> RestoreAttempt:
            return work(attempt_id)

        self._once = once

    def register_lambda_context(self, context: Any) -> None:
        """Lets Powertools expire an INPROGRESS record when the invocation times out."""
        self._config.register_lambda_context(context)

    def __call__(self, key: RestoreKey, work: Work) -> RestoreAttempt:
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        attempt_id = uuid.uuid4().hex
        try:
            result: RestoreAttempt = self._once(key=key, attempt_id=attempt_id, work=work)
        except IdempotencyAlreadyInProgressError:
            raise DuplicateRestore("another invocation is restoring this image right now") from None
        if result.attempt_id != attempt_id:
            raise DuplicateRestore("another invocation restored this image moments ago")
        return result
