"""SSM Parameter Store adapter: the configuration parameter, through Powertools Parameters (cached)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors
from ecr_archiver.errors import ConfigInvalid

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from mypy_boto3_ssm import SSMClient


class ConfigParameter:
    """The configuration text; cached for ``POWERTOOLS_PARAMETERS_MAX_AGE`` seconds across warm starts.

    The Powertools provider (and its SSM client, and boto3) is made on the first read, so a
    handler that builds this at import does not pay for the SDK during the import.
    """

    def __init__(self, name: str, client: SSMClient | None = None) -> None:
        self.name = name
        self._client = client
        self._provider: SSMProvider | None = None

    @property
    def provider(self) -> SSMProvider:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            self._provider = SSMProvider(boto3_client=self._client or clients.client("ssm"))
        return self._provider

    def text(self) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self.provider.get(self.name)
        except GetParameterError as exc:
            from botocore.exceptions import BotoCoreError

            # Powertools wraps every failure; one that never reached SSM (no credentials, no
            # connection) is not a configuration problem, so it keeps its own type.
            if isinstance(exc.__context__, BotoCoreError):
                raise exc.__context__ from None
            raise ConfigInvalid(f"configuration parameter {self.name!r} cannot be read: {exc}") from None
        return str(value)

    def clear_cache(self) -> None:
        if self._provider is not None:
            self._provider.clear_cache()  # type: ignore[no-untyped-call]


# -- parameters by path (pull-time exclusion sync) ---------------------------------------------
# Plain boto3 here, not Powertools Parameters: the sync needs each value's parameter NAME (to say
# which parameter holds a bad value) and TYPE (to refuse SecureString), and must not read a cached
# value right after a Parameter Store Change event. ``get_parameters(path, recursive=True)``
# returns only ``{relative_name: value}`` and caches for POWERTOOLS_PARAMETERS_MAX_AGE.

#: GetParametersByPath's MaxResults upper bound (botocore model: 1..10).
PATH_PAGE_SIZE = 10


class StoredParameter(BaseModel):
    """One Parameter Store parameter as read (SecureString values stay encrypted)."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str
    value: str


class ParameterStore:
    """Uncached reads of every parameter under a path."""

    def __init__(self, client: SSMClient | None = None) -> None:
        self._client: SSMClient = client or clients.client("ssm")

    def get_parameters_by_path(self, path: str, *, recursive: bool = True) -> list[StoredParameter]:
        """Every parameter under ``path`` (all pages), sorted by name, read with ``WithDecryption=False``.

        ``path`` is passed as given: IAM authorises GetParametersByPath against the requested path,
        which is what the template's ``parameter${Path}*`` resource covers. Without decryption the
        role needs no ``kms:Decrypt``.
        """
        paginator = self._client.get_paginator("get_parameters_by_path")
        out: list[StoredParameter] = []
        with aws_errors():
            for page in paginator.paginate(
                Path=path,
                Recursive=recursive,
                WithDecryption=False,
                PaginationConfig={"PageSize": PATH_PAGE_SIZE},
            ):
                out.extend(
                    StoredParameter(name=p["Name"], type=p["Type"], value=p["Value"])
                    for p in page.get("Parameters", [])
                )
        return sorted(out, key=lambda p: p.name)
