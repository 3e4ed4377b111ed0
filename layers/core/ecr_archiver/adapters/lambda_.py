"""AWS Lambda adapter: container-image functions, at $LATEST and at every version an alias routes to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors
from ecr_archiver.archiving.inuse import ImageUse

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class LambdaInventory:
    def __init__(
        self, client: LambdaClient | None = None, *, region: str | None = None, label: str = "lambda"
    ) -> None:
        self._client: LambdaClient = client or clients.client("lambda", region=region)
        self._label = label

    def image_uses(self) -> Iterator[ImageUse]:
        with aws_errors():
            for page in self._client.get_paginator("list_functions").paginate():
                for fn in page["Functions"]:
                    if fn.get("PackageType") == "Image":
                        yield from self._function_images(fn["FunctionName"])

    def _qualifiers(self, name: str) -> set[str]:
        """$LATEST plus every version an alias points to (including weighted routing)."""
        out = {"$LATEST"}
        for page in self._client.get_paginator("list_aliases").paginate(FunctionName=name):
            for alias in page["Aliases"]:
                out.add(alias["FunctionVersion"])
                weights = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
                out.update(weights)
        return out

    def _function_images(self, name: str) -> Iterator[ImageUse]:
        with aws_errors():
            for qualifier in sorted(self._qualifiers(name)):
                code = self._client.get_function(FunctionName=name, Qualifier=qualifier).get("Code", {})
                source = f"{self._label}:{name}:{qualifier}"
                resolved = code.get("ResolvedImageUri", "")
                digest = resolved.rsplit("@", 1)[-1] if "@" in resolved else None
                if code.get("ImageUri"):
                    yield ImageUse(uri=code["ImageUri"], digest=digest, source=source)
                if resolved:
                    yield ImageUse(uri=resolved, digest=digest, source=source)
