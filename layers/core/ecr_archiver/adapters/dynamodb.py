"""Amazon DynamoDB adapter: the stack's shared state table (partition key ``id``, TTL ``expiration``).

Two kinds of items live there, told apart by their ``id`` prefix:

- Powertools Idempotency records (``auto-restore#<hash>``), written by the persistence layer this
  module builds on the product's own client (retries, timeouts, user agent);
- fixed-window counters (``auto-restore-cap#<hour>``): :meth:`StateTable.take` adds one to a
  counter only while it is below a limit, in one conditional UpdateItem, so concurrent
  invocations can never take more than the limit between them;
- the account's archive rate schedule (``archive-rate#<registry>``, attribute ``tat``), leased
  by :class:`~ecr_archiver.archiving.limiter.AccountRate` with one UpdateItem per lease.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors
from ecr_archiver.errors import AwsServiceError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_ATTR = "id"
EXPIRY_ATTR = "expiration"
CONDITION_FAILED = "ConditionalCheckFailedException"
TAT_ATTR = "tat"


def _number(seconds: float) -> str:
    """Epoch seconds as a DynamoDB number, to the microsecond (sums stay exact decimals)."""
    return f"{seconds:.6f}"


class StateTable:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._given = client

    @property
    def _client(self) -> DynamoDBClient:
        """Made on first use, so a handler can build its StateTable at import (cold start)."""
        if self._given is None:
            self._given = clients.client("dynamodb")
        return self._given

    def _update_if(self, key: str, **request: Any) -> bool:
        """One conditional UpdateItem on item ``key``; ``False`` when its condition did not hold."""
        try:
            with aws_errors():
                self._client.update_item(TableName=self.table_name, Key={KEY_ATTR: {"S": key}}, **request)
        except AwsServiceError as exc:
            if exc.code == CONDITION_FAILED:
                return False
            raise
        return True

    def take(self, key: str, *, limit: int, expires_at: int) -> bool:
        """Add one to counter ``key`` if it is below ``limit``; ``False`` (nothing written) if not.

        ``expires_at`` (epoch seconds) is set when the counter is created; DynamoDB's TTL removes it.
        """
        return self._update_if(
            key,
            UpdateExpression="ADD #count :one SET #expiration = if_not_exists(#expiration, :expires)",
            ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames={"#count": "count", "#expiration": EXPIRY_ATTR},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
                ":expires": {"N": str(expires_at)},
            },
        )

    # -- the archive rate schedule (see archiving/limiter.py) -------------------------------
    def lease_busy(self, key: str, *, seconds: float) -> float:
        with aws_errors():
            response = self._client.update_item(
                TableName=self.table_name,
                Key={KEY_ATTR: {"S": key}},
                UpdateExpression="ADD #tat :d",
                ExpressionAttributeNames={"#tat": TAT_ATTR},
                ExpressionAttributeValues={":d": {"N": _number(seconds)}},
                ReturnValues="UPDATED_NEW",
            )
        return float(response["Attributes"][TAT_ATTR]["N"])

    def lease_idle(self, key: str, *, now: float, seconds: float, at_most: float) -> float | None:
        end = _number(now + seconds)
        started = self._update_if(
            key,
            UpdateExpression="SET #tat = :end",
            ConditionExpression="attribute_not_exists(#tat) OR #tat <= :at_most",
            ExpressionAttributeNames={"#tat": TAT_ATTR},
            ExpressionAttributeValues={":end": {"N": end}, ":at_most": {"N": _number(at_most)}},
        )
        return float(end) if started else None

    def move_end(self, key: str, *, end: float, until: float) -> bool:
        return self._update_if(
            key,
            UpdateExpression="SET #tat = :until",
            ConditionExpression="#tat = :end",
            ExpressionAttributeNames={"#tat": TAT_ATTR},
            ExpressionAttributeValues={":until": {"N": _number(until)}, ":end": {"N": _number(end)}},
        )

    def count(self, key: str) -> int:
        """The counter's current value (0 when it does not exist); a consistent read."""
        with aws_errors():
            item = self._client.get_item(
                TableName=self.table_name, Key={KEY_ATTR: {"S": key}}, ConsistentRead=True
            ).get("Item", {})
        return int(item.get("count", {}).get("N", "0"))

    def idempotency_store(self) -> DynamoDBPersistenceLayer:
        """A Powertools Idempotency persistence layer on this table (its default attribute names)."""
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(
            table_name=self.table_name,
            key_attr=KEY_ATTR,
            expiry_attr=EXPIRY_ATTR,
            boto3_client=self._client,
        )
