"""AWS STS adapter: clients in other accounts or regions, through roles the configuration names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

SESSION_NAME = "ecr-archiver-inuse"


class RoleSessions:
    def __init__(self, client: STSClient | None = None) -> None:
        self._client: STSClient = client or clients.client("sts")

    def account_id(self) -> str:
        with aws_errors():
            return self._client.get_caller_identity()["Account"]

    def client_for(self, role_arn: str, service: str, *, region: str | None = None) -> Any:
        """A boto3 client for ``service`` with the role's temporary credentials (read-only use)."""
        with aws_errors():
            creds = self._client.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
        import boto3.session

        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )
        return session.client(service, config=clients.retry_config())  # type: ignore[call-overload]


class CallerIdentity:
    """Who the credentials are: the first thing to know when nothing else answers."""

    def __init__(self, client: STSClient | None = None) -> None:
        self._client: STSClient = client or clients.client("sts")

    def principal_arn(self) -> str:
        """The IAM principal behind the credentials, as the pull-time exclusion list names it: an
        assumed-role session ``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`` becomes the role
        ``arn:aws:iam::ACCOUNT:role/NAME`` (STS does not report the role's path)."""
        _, arn = self.describe()
        head, _, rest = arn.partition(":assumed-role/")
        if not rest:
            return arn
        return f"{head.replace(':sts:', ':iam:', 1)}:role/{rest.split('/', 1)[0]}"

    def describe(self) -> tuple[str, str]:
        """``(account id, caller ARN)``."""
        with aws_errors():
            identity = self._client.get_caller_identity()
        return identity["Account"], identity["Arn"]
