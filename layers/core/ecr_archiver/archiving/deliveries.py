"""At most one run per SQS delivery of a work message, even when two deliveries arrive at once.

SQS delivers at least once: a lost delete or an expired visibility timeout hands the same message
to a second worker, possibly while the first is still archiving. Powertools Idempotency, on the
shared state table (ids ``archive-delivery#<hash of the message id>``), writes an INPROGRESS
record with a conditional put before the run starts:

- a concurrent delivery finds it and raises :class:`DeliveryInProgress`; the handler hands the
  message back to SQS with a short visibility timeout, and by the next receive the first run has
  finished;
- a later delivery gets the first run's stored :class:`RepositoryResult`, which carries another
  attempt's id, and does nothing;
- a run that raises (preview not ready, a read that failed before any progress) deletes the
  record, so SQS's retry runs again. A worker that dies mid-run leaves INPROGRESS only until the
  Lambda timeout it registered, so the redelivery after the visibility timeout runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from ecr_archiver.archiving.models import RepositoryResult
from ecr_archiver.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

IDEMPOTENCY_PREFIX = "archive-delivery"
#: How long a finished delivery is remembered (duplicates come within minutes; SQS keeps a
#: message for at most 14 days, and the work queue's redrive moves it on long before).
REMEMBER_SECONDS = 24 * 3600

Work = Callable[[], RepositoryResult]


class DeliveryInProgress(Exception):
    """Another worker is running this very delivery right now."""


class Delivery(BaseModel):
    """The idempotency key: the SQS message id (a redelivery keeps it)."""

    model_config = ConfigDict(frozen=True)
    message_id: str


class DeliveryOutcome(BaseModel):
    attempt_id: str
    result: RepositoryResult


class DeliveredOnce(Protocol):
    def __call__(self, message_id: str, work: Work) -> RepositoryResult: ...


class PowertoolsDeliveries:
    """:class:`DeliveredOnce` with Powertools Idempotency (``idempotent_function``).

    ``store`` makes the persistence layer; it and Powertools Idempotency are loaded on the first
    delivery, not when the handler module is imported (cold start).
    """

    def __init__(
        self, store: Callable[[], BasePersistenceLayer], *, expires_after_seconds: int = REMEMBER_SECONDS
    ) -> None:
        self._store = store
        self._expires_after_seconds = expires_after_seconds
        self._once: Callable[..., DeliveryOutcome] | None = None
        self._config: Any = None

    def _build(self) -> Callable[..., DeliveryOutcome]:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

        self._config = IdempotencyConfig(
            expires_after_seconds=self._expires_after_seconds, raise_on_no_idempotency_key=True
        )

        @idempotent_function(  # type: ignore[untyped-decorator,unused-ignore]
            data_keyword_argument="delivery",
            persistence_store=self._store(),
            config=self._config,
            output_serializer=PydanticSerializer(model=DeliveryOutcome),
            key_prefix=IDEMPOTENCY_PREFIX,
        )
        def once(delivery: Delivery, attempt_id: str, work: Work) -> DeliveryOutcome:
            return DeliveryOutcome(attempt_id=attempt_id, result=work())

        return once  # type: ignore[no-any-return,unused-ignore]

    def _ready(self) -> Callable[..., DeliveryOutcome]:
        if self._once is None:
            self._once = self._build()
        return self._once

    def register_lambda_context(self, context: Any) -> None:
        """Lets Powertools expire an INPROGRESS record when the invocation times out."""
        self._ready()
        self._config.register_lambda_context(context)

    def __call__(self, message_id: str, work: Work) -> RepositoryResult:
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        once = self._ready()
        attempt_id = uuid.uuid4().hex
        try:
            outcome: DeliveryOutcome = once(
                delivery=Delivery(message_id=message_id), attempt_id=attempt_id, work=work
            )
        except IdempotencyAlreadyInProgressError:
            raise DeliveryInProgress(f"message {message_id} is being handled by another worker") from None
        if outcome.attempt_id != attempt_id:
            logger.info(
                "duplicate delivery; already handled",
                extra={"message_id": message_id, "repository": outcome.result.repository},
            )
        return outcome.result
