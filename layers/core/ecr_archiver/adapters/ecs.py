"""Amazon ECS adapter: images that tasks run (by digest and tag) and that services will run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors
from ecr_archiver.archiving.inuse import ImageUse

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class EcsInventory:
    """RUNNING and PENDING tasks in every cluster, plus the task definitions of services' deployments."""

    def __init__(
        self, client: ECSClient | None = None, *, region: str | None = None, label: str = "ecs"
    ) -> None:
        self._client: ECSClient = client or clients.client("ecs", region=region)
        self._label = label

    def image_uses(self) -> Iterator[ImageUse]:
        task_definitions: set[str] = set()
        for cluster in self._clusters():
            for task in self._tasks(cluster):
                task_definitions.add(task["taskDefinitionArn"])
                for container in task.get("containers", []):
                    if container.get("image"):
                        yield ImageUse(
                            uri=container["image"],
                            digest=container.get("imageDigest"),
                            source=f"{self._label}:task:{task.get('taskArn', '')}",
                        )
            task_definitions.update(self._service_task_definitions(cluster))
        for arn in sorted(task_definitions):
            yield from self._task_definition_images(arn)

    def _clusters(self) -> Iterator[str]:
        with aws_errors():
            for page in self._client.get_paginator("list_clusters").paginate():
                yield from page["clusterArns"]

    def _tasks(self, cluster: str) -> Iterator[dict[str, Any]]:
        arns: set[str] = set()
        with aws_errors():
            for status in ("RUNNING", "PENDING"):
                for page in self._client.get_paginator("list_tasks").paginate(
                    cluster=cluster,
                    desiredStatus=status,
                ):
                    arns.update(page["taskArns"])
            for chunk in _chunks(sorted(arns), 100):
                resp = self._client.describe_tasks(cluster=cluster, tasks=chunk)
                yield from resp["tasks"]  # type: ignore[misc]

    def _service_task_definitions(self, cluster: str) -> set[str]:
        out: set[str] = set()
        with aws_errors():
            services: list[str] = []
            for page in self._client.get_paginator("list_services").paginate(cluster=cluster):
                services.extend(page["serviceArns"])
            for chunk in _chunks(services, 10):
                resp = self._client.describe_services(cluster=cluster, services=chunk)
                for service in resp["services"]:
                    if service.get("taskDefinition"):
                        out.add(service["taskDefinition"])
                    for deployment in service.get("deployments", []):
                        if deployment.get("taskDefinition"):
                            out.add(deployment["taskDefinition"])
        return out

    def _task_definition_images(self, arn: str) -> Iterator[ImageUse]:
        with aws_errors():
            resp = self._client.describe_task_definition(taskDefinition=arn)
        for container in resp["taskDefinition"].get("containerDefinitions", []):
            if container.get("image"):
                yield ImageUse(uri=container["image"], source=f"{self._label}:taskdef:{arn}")


class TaskDefinitions:
    """The container images a task definition names (``ecr-archiver ensure-active --task-definition``)."""

    def __init__(self, client: ECSClient | None = None) -> None:
        self._client: ECSClient = client or clients.client("ecs")

    def container_images(self, task_definition: str) -> list[tuple[str, str]]:
        """``(container name, image)`` for every container of ``task_definition`` (an ARN, or
        ``family[:revision]``). ECS answers an unknown one with ``ClientException`` ("Unable to
        describe task definition."), raised as ``AwsServiceError``."""
        with aws_errors():
            resp = self._client.describe_task_definition(taskDefinition=task_definition)
        return [
            (str(c.get("name", "")), str(c["image"]))
            for c in resp["taskDefinition"].get("containerDefinitions", [])
            if c.get("image")
        ]
