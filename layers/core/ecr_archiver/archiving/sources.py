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

#: ``(service name, region or None) -> boto3 client`` (tests); without one the adapters make their own.
ClientFactory = Callable[[str, str | None], Any]


def in_use_sources(config: ArchiveConfig, *, clients: ClientFactory | None = None) -> list[ImageUseSource]:
    """ECS and Lambda inventories in this account and every configured role, in every configured region.

    Images of one registry often run in other accounts and regions (a registry shared across accounts):
    each (identity, region) pair is inventoried, and everything found protects the image.
    """

    def client(service: str, region: str | None) -> Any:
        # None: the adapter makes its own client (in ``region``, or the function's own)
        return clients(service, region) if clients is not None else None

    in_use = config.protect.in_use
    regions: list[str | None] = list(dict.fromkeys(in_use.regions)) or [None]
    sources: list[ImageUseSource] = []
    for region in regions:
        where = f"@{region}" if region else ""
        if in_use.ecs:
            sources.append(EcsInventory(client("ecs", region), region=region, label=f"ecs{where}"))
        if in_use.lambda_:
            sources.append(LambdaInventory(client("lambda", region), region=region, label=f"lambda{where}"))
        if in_use.role_arns:
            sessions = RoleSessions(client("sts", None))
            for arn in in_use.role_arns:
                if in_use.ecs:
                    ecs = sessions.client_for(arn, "ecs", region=region)
                    sources.append(EcsInventory(ecs, label=f"ecs[{arn}]{where}"))
                if in_use.lambda_:
                    lam = sessions.client_for(arn, "lambda", region=region)
                    sources.append(LambdaInventory(lam, label=f"lambda[{arn}]{where}"))
    return sources
