"""API Gateway adapter: the account-wide settings (the CloudWatch Logs role for access logs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecr_archiver.adapters.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_apigateway import APIGatewayClient


class ApiGatewayAccount:
    #: Only the CLI asks, so the client is always handed in (the Lambda layer has no model).
    def __init__(self, client: APIGatewayClient) -> None:
        self._client = client

    def cloudwatch_role_arn(self) -> str | None:
        """The role API Gateway uses to write logs in this region (``None`` when never set)."""
        with aws_errors():
            account = self._client.get_account()
        return account.get("cloudwatchRoleArn") or None
