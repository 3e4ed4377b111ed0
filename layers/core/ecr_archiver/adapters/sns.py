"""Amazon SNS adapter: publish a notice (a JSON message) on a topic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

#: SNS limits a subject to 100 printable ASCII characters.
SUBJECT_MAX = 100


def _subject(text: str) -> str:
    printable = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return printable if len(printable) <= SUBJECT_MAX else printable[: SUBJECT_MAX - 1] + "~"


class NoticeTopic:
    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self.topic_arn = topic_arn
        self._client: SNSClient = client or clients.client("sns")

    def publish(self, subject: str, message: Mapping[str, Any], *, event: str) -> str:
        """Publish ``message`` as JSON; ``event`` becomes the ``event`` message attribute (for filter
        policies). Returns the SNS message id."""
        with aws_errors():
            resp = self._client.publish(
                TopicArn=self.topic_arn,
                Subject=_subject(subject),
                Message=json.dumps(message, default=str),
                MessageAttributes={"event": {"DataType": "String", "StringValue": event}},
            )
        return str(resp["MessageId"])
