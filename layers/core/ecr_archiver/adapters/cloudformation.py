"""CloudFormation adapter: what a deployed stack says about itself (status, parameters, outputs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ecr_archiver.adapters.errors import aws_errors
from ecr_archiver.errors import AwsServiceError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


class DeployedStack(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    status: str
    parameters: dict[str, str]
    outputs: dict[str, str]


class StackReader:
    #: Only the CLI reads stacks, so the client is always handed in (the Lambda layer has no model).
    def __init__(self, client: CloudFormationClient) -> None:
        self._client = client

    def describe(self, stack_name: str) -> DeployedStack | None:
        """The stack, or ``None`` when no stack of that name exists (CloudFormation says ValidationError)."""
        try:
            with aws_errors():
                stacks = self._client.describe_stacks(StackName=stack_name)["Stacks"]
        except AwsServiceError as exc:
            if "does not exist" in exc.message:
                return None
            raise
        stack = stacks[0]
        return DeployedStack(
            name=stack["StackName"],
            status=stack["StackStatus"],
            parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
            outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
        )
