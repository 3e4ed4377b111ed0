"""Builders and in-memory fakes for the exclusion sync: a Parameter Store and an ECR registry."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable

from ecr_archiver.adapters.ssm import StoredParameter
from ecr_archiver.errors import (
    AwsServiceError,
    ExclusionAlreadyExists,
    ExclusionNotFound,
    LimitExceeded,
    Throttled,
)
from ecr_archiver.exclusions.models import SyncOptions

ACCOUNT = "123456789012"
PATH = "/ecr-archiver/pull-time-exclusions/"


def role(name: str, *, account: str = ACCOUNT, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def user(name: str, *, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def options(**overrides: object) -> SyncOptions:
    values: dict[str, object] = {"parameter_path": PATH, "dry_run": False}
    values.update(overrides)
    return SyncOptions.model_validate(values)


class FakeParameterStore:
    """Parameters by full name; ``get_parameters_by_path`` mimics SSM's recursive read."""

    def __init__(self) -> None:
        self.parameters: dict[str, StoredParameter] = {}
        self.reads: list[str] = []

    def put(self, name: str, value: str | Iterable[str], type_: str = "String") -> FakeParameterStore:
        if not isinstance(value, str):
            value = ",".join(value)
            type_ = "StringList"
        self.parameters[name] = StoredParameter(name=name, type=type_, value=value)
        return self

    def team(self, team: str, *arns: str) -> FakeParameterStore:
        return self.put(f"{PATH}{team}", list(arns))

    def get_parameters_by_path(self, path: str, *, recursive: bool = True) -> list[StoredParameter]:
        self.reads.append(path)
        return sorted(
            (p for n, p in self.parameters.items() if n.startswith(path)),
            key=lambda p: p.name,
        )


class FakeRegistry:
    """ECR's exclusion list with its real rules (duplicates, missing entries, the 100 limit) and
    scripted failures: ``fail(operation, code, times)`` fails the next ``times`` calls."""

    def __init__(self, *principals: str) -> None:
        self.principals: set[str] = set(principals)
        self.calls: Counter[str] = Counter()
        self._faults: dict[str, deque[str]] = {}

    def fail(self, operation: str, code: str = "ServerException", times: int = 1) -> FakeRegistry:
        self._faults.setdefault(operation, deque()).extend([code] * times)
        return self

    def _maybe_fail(self, operation: str) -> None:
        self.calls[operation] += 1
        queue = self._faults.get(operation)
        if queue:
            code = queue.popleft()
            if code == "ThrottlingException":
                raise Throttled("Rate exceeded", code=code)
            raise AwsServiceError(f"injected {code}", code=code)

    def list_pull_time_exclusions(self) -> list[str]:
        self._maybe_fail("list")
        return sorted(self.principals)

    def register_pull_time_exclusion(self, principal_arn: str) -> None:
        self._maybe_fail("register")
        if principal_arn in self.principals:
            raise ExclusionAlreadyExists("already exists for the registry")
        if len(self.principals) >= 100:
            raise LimitExceeded("limit of 100 exclusions reached")
        self.principals.add(principal_arn)

    def deregister_pull_time_exclusion(self, principal_arn: str) -> None:
        self._maybe_fail("deregister")
        if principal_arn not in self.principals:
            raise ExclusionNotFound("not found")
        self.principals.remove(principal_arn)

    @property
    def changes(self) -> int:
        return self.calls["register"] + self.calls["deregister"]


def no_sleep(_: float) -> None:
    return None
