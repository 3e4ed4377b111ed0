"""The auto_restore handler, in-process, against the emulator (ECR, DynamoDB and SNS from moto)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecr_emulator import Emulator
from ecr_harness.runner import FakeLambdaContext, load_handler

EVENTS = Path(__file__).resolve().parents[3] / "events"
ECS_EVENT = "auto_restore_ecs_task_stopped.json"
LAMBDA_EVENT = "auto_restore_lambda_update_failed.json"
PULL_EVENT = "auto_restore_ecr_batch_get_image.json"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


def ecs_event(*images: str) -> dict[str, Any]:
    """The sample stopped task, its containers pointing at ``images`` (``repo:tag`` or ``repo@digest``)."""
    event = sample(ECS_EVENT)
    template = event["detail"]["containers"][0]
    event["detail"]["containers"] = [
        {**template, "name": f"c{i}", "image": f"{REGISTRY}/{image}"} for i, image in enumerate(images)
    ]
    for container in event["detail"]["containers"]:
        container.pop("imageDigest", None)
    return event


def lambda_event(image: str) -> dict[str, Any]:
    event = sample(LAMBDA_EVENT)
    event["detail"]["requestParameters"]["imageUri"] = f"{REGISTRY}/{image}"
    return event


def pull_event(repository: str, tag: str) -> dict[str, Any]:
    event = sample(PULL_EVENT)
    event["detail"]["requestParameters"]["repositoryName"] = repository
    event["detail"]["requestParameters"]["imageIds"] = [{"imageTag": tag}]
    return event


@dataclass
class Stack:
    """What the template gives the function: its table and topic, plus the handler module."""

    ecr: Any
    dynamodb: Any
    sqs: Any
    table: str
    queue_url: str
    env: dict[str, str]

    def handler(self, **overrides: str) -> Callable[[Any], dict[str, Any]]:
        """A cold start of the function with the template's environment (plus ``overrides``)."""
        app = load_handler("auto_restore", {**self.env, **overrides})

        def call(event: Any) -> dict[str, Any]:
            return app.lambda_handler(event, FakeLambdaContext(function_name="auto-restore"))  # type: ignore[no-any-return]

        return call

    def invoke(self, event: Any, **overrides: str) -> dict[str, Any]:
        return self.handler(**overrides)(event)

    def notices(self) -> list[dict[str, Any]]:
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            if not got.get("Messages"):
                return out
            for message in got["Messages"]:
                out.append(json.loads(json.loads(message["Body"])["Message"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def archive(self, repository: str, digest: str) -> None:
        self.ecr.update_image_storage_class(
            repositoryName=repository, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
        )

    def status(self, repository: str, digest: str) -> str:
        found = self.ecr.describe_images(
            repositoryName=repository, imageIds=[{"imageDigest": digest}], filter={"imageStatus": "ANY"}
        )
        return str(found["imageDetails"][0]["imageStatus"])


@pytest.fixture
def stack(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Stack:
    import boto3

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="state",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic = sns.create_topic(Name="restore-notices")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    env = {
        "AUTO_RESTORE_ENABLED": "true",
        "AUTO_RESTORE_REPOSITORIES": "*",
        "AUTO_RESTORE_MAX_PER_HOUR": "50",
        "STATE_TABLE_NAME": "state",
        "RESTORE_NOTICE_TOPIC_ARN": topic,
        "REGISTRY_ID": "123456789012",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "ecr-archiver",
        "POWERTOOLS_METRICS_NAMESPACE": "ECRArchiver",
    }
    return Stack(
        ecr=boto3.client("ecr"), dynamodb=dynamodb, sqs=sqs, table="state", queue_url=queue_url, env=env
    )
