"""Amazon SQS adapter: send work messages (in batches of ten) and shorten a message's visibility."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors
from ecr_archiver.errors import AwsServiceError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH = 10


class WorkQueue:
    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client: SQSClient = client or clients.client("sqs")

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        with aws_errors():
            self._client.send_message(QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=delay_seconds)

    def send_many(self, bodies: Sequence[str], *, delay_seconds: int = 0) -> None:
        """Send every body; raises if SQS rejects any (the caller's run then fails loudly)."""
        for start in range(0, len(bodies), MAX_BATCH):
            chunk = bodies[start : start + MAX_BATCH]
            with aws_errors():
                resp = self._client.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "MessageBody": body, "DelaySeconds": delay_seconds}
                        for i, body in enumerate(chunk)
                    ],
                )
            failed = resp.get("Failed", [])
            if failed:
                codes = sorted({f.get("Code", "?") for f in failed})
                raise AwsServiceError(
                    f"SQS rejected {len(failed)} message(s): {codes}", code="SendMessageFailed"
                )

    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        with aws_errors():
            self._client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
