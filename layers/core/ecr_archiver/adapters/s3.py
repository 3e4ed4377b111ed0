"""Amazon S3 adapter: the report bucket (JSON and JSON Lines objects, SSE by bucket default)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectStore:
    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self._client: S3Client = client or clients.client("s3")

    def put_text(self, key: str, text: str, *, content_type: str = "application/json") -> None:
        with aws_errors():
            self._client.put_object(Bucket=self.bucket, Key=key, Body=text.encode(), ContentType=content_type)

    def put_json(self, key: str, document: Any) -> None:
        self.put_text(key, json.dumps(document, default=str, separators=(",", ":")))

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_text(key))

    def get_text(self, key: str) -> str:
        with aws_errors():
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body.decode()

    def list_keys(self, prefix: str) -> Iterator[str]:
        with aws_errors():
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                for obj in page.get("Contents", []):
                    yield obj["Key"]
