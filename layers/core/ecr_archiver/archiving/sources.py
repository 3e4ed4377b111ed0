"""Which in-use inventories a configuration asks for: ECS and Lambda, here and behind roles.

Shared by the ``plan_archive`` function (default clients) and the CLI (clients on the caller's
profile, region and endpoint), so both discover in-use images the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecr_archiver.adapters.ecs import EcsInventory
from ecr_archiver.adapters.lambda_ import LambdaInventory
from ecr_archiver.adapters.sts import RoleSessions
from ecr_archiver.archiving.config import ArchiveConfig
from ecr_archiver.archiving.inuse import ImageUseSource

#: ``service name -> boto3 client``; ``None`` means the adapters' default clients.
ClientFactory = Callable[[str], Any]


def in_use_sources(config: ArchiveConfig, *, clients: ClientFactory | None = None) -> list[ImageUseSource]:
    """ECS and Lambda inventories in this account, and in every role the configuration names."""

    def client(service: str) -> Any:
        return clients(service) if clients is not None else None

    in_use = config.protect.in_use
    sources: list[ImageUseSource] = []
    if in_use.ecs:
        sources.append(EcsInventory(client("ecs")))
    if in_use.lambda_:
        sources.append(LambdaInventory(client("lambda")))
    if in_use.role_arns:
        sessions = RoleSessions(client("sts"))
        for arn in in_use.role_arns:
            if in_use.ecs:
                sources.append(EcsInventory(sessions.client_for(arn, "ecs"), label=f"ecs[{arn}]"))
            if in_use.lambda_:
                sources.append(LambdaInventory(sessions.client_for(arn, "lambda"), label=f"lambda[{arn}]"))
    return sources
