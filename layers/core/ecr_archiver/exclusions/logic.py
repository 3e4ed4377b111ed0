"""Reconcile ECR's pull-time update exclusion list with the principals declared in Parameter Store.

``reconcile_exclusions`` reads every parameter under a path, builds the desired set, refuses
(changing nothing) when a value is not a valid principal ARN, when the set exceeds ECR's limit of
100, or when the path yields nothing while removals are planned, and otherwise deregisters the
extras and registers the missing. Each call is retried on throttling and server errors; what is
still failing is reported, and the next run picks it up because every run recomputes the plan.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from ecr_archiver.adapters.ssm import StoredParameter
from ecr_archiver.errors import (
    AwsServiceError,
    EcrArchiverError,
    ExclusionAlreadyExists,
    ExclusionNotFound,
    Throttled,
)
from ecr_archiver.exclusions.models import (
    EXCLUSION_LIMIT,
    EXTRA_PRINCIPALS_SOURCE,
    OWN_ROLES_SOURCE,
    PRINCIPAL_ARN_MAX_LENGTH,
    PRINCIPAL_ARN_PATTERN,
    ChangeAction,
    DesiredExclusions,
    ExclusionPlan,
    FailedChange,
    InvalidPrincipal,
    RefusalReason,
    SettingNames,
    SyncOptions,
    SyncResult,
)
from ecr_archiver.observability import MetricUnit, logger, metrics

_PRINCIPAL_RE = re.compile(PRINCIPAL_ARN_PATTERN, re.ASCII)
_SEPARATORS = re.compile(r"[,\r\n]")
#: Server-side faults worth another try; throttling arrives as ``Throttled``.
RETRYABLE_CODES = frozenset(
    {"ServerException", "InternalFailure", "InternalServerError", "ServiceUnavailable", "RequestTimeout"}
)
MAX_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.25
#: Stop starting calls when the invocation has less than this left; the rest is reported.
TIME_MARGIN_MS = 10_000
NOT_ATTEMPTED = "NotAttempted"


class ParameterReader(Protocol):
    def get_parameters_by_path(self, path: str, *, recursive: bool = True) -> list[StoredParameter]: ...


class ExclusionRegistry(Protocol):
    def list_pull_time_exclusions(self) -> list[str]: ...
    def register_pull_time_exclusion(self, principal_arn: str) -> None: ...
    def deregister_pull_time_exclusion(self, principal_arn: str) -> None: ...


# -- desired set ---------------------------------------------------------------------------
def split_principals(value: str) -> list[str]:
    """A String or StringList value split on commas and newlines, trimmed, empties dropped."""
    return [item.strip() for item in _SEPARATORS.split(value) if item.strip()]


def principal_problem(value: str) -> str | None:
    """Why ``value`` is not a principal ECR accepts, or ``None`` when it is one."""
    if len(value) > PRINCIPAL_ARN_MAX_LENGTH:
        return f"longer than {PRINCIPAL_ARN_MAX_LENGTH} characters ({len(value)})"
    if _PRINCIPAL_RE.fullmatch(value):
        return None
    if re.match(r"^arn:[^:]+:sts::[^:]*:assumed-role/", value):
        return "an STS assumed-role session ARN; declare the role's ARN (arn:aws:iam::<account>:role/<name>)"
    if value.endswith(":root"):
        return "an account root ARN; only IAM roles and users can be excluded"
    if not value.startswith("arn:"):
        return "not an ARN"
    return "not an IAM role or user ARN (arn:<partition>:iam::<12-digit account>:role/<name> or :user/<name>)"


def desired_exclusions(
    parameters: Iterable[StoredParameter],
    extra: Sequence[str] = (),
    own: Sequence[str] = (),
    extra_source: str = EXTRA_PRINCIPALS_SOURCE,
) -> DesiredExclusions:
    """The union of every principal declared under the path, ``extra`` and ``own`` (the stack's
    roles), each with its sources."""
    sources: dict[str, list[str]] = {}
    invalid: list[InvalidPrincipal] = []
    count = 0
    for parameter in parameters:
        count += 1
        if parameter.type == "SecureString":
            invalid.append(
                InvalidPrincipal(
                    value="<SecureString>",
                    source=parameter.name,
                    problem="a SecureString, which is not read (principal ARNs are not secrets); "
                    "store it as a String or StringList",
                )
            )
            continue
        for value in split_principals(parameter.value):
            _collect(value, parameter.name, sources, invalid)
    from_parameters = len(sources)
    for value in extra:
        if value.strip():
            _collect(value.strip(), extra_source, sources, invalid)
    for value in own:
        if value.strip():
            _collect(value.strip(), OWN_ROLES_SOURCE, sources, invalid)
    own_count = sum(1 for srcs in sources.values() if OWN_ROLES_SOURCE in srcs)
    return DesiredExclusions(
        own=own_count,
        principals={arn: tuple(dict.fromkeys(srcs)) for arn, srcs in sorted(sources.items())},
        invalid=tuple(invalid),
        parameter_count=count,
        from_parameters=from_parameters,
    )


def _collect(value: str, source: str, sources: dict[str, list[str]], invalid: list[InvalidPrincipal]) -> None:
    problem = principal_problem(value)
    if problem is None:
        sources.setdefault(value, []).append(source)
    else:
        invalid.append(InvalidPrincipal(value=value, source=source, problem=problem))


def plan_exclusions(desired: Iterable[str], current: Iterable[str]) -> ExclusionPlan:
    """What to register, deregister and leave alone to turn ``current`` into ``desired``."""
    want, have = set(desired), set(current)
    return ExclusionPlan(
        to_add=tuple(sorted(want - have)),
        to_remove=tuple(sorted(have - want)),
        unchanged=tuple(sorted(want & have)),
    )


# -- refusals --------------------------------------------------------------------------------
def _shorten(value: str, limit: int = 120) -> str:
    return value if len(value) <= limit else f"{value[:limit]}..."


def invalid_principals_message(path: str, invalid: Sequence[InvalidPrincipal]) -> str:
    details = "; ".join(f"{_shorten(i.value)!r} in {i.source}: {i.problem}" for i in invalid)
    return (
        f"Refusing to sync pull-time exclusions: {len(invalid)} value(s) declared under {path} are not "
        f"valid principal ARNs (IAM role or user, at most {PRINCIPAL_ARN_MAX_LENGTH} characters). "
        f"Nothing was changed. Fix: {details}"
    )


def too_many_message(
    path: str, desired: DesiredExclusions, extra_source: str = EXTRA_PRINCIPALS_SOURCE
) -> str:
    return (
        f"Refusing to sync pull-time exclusions: {len(desired.principals)} distinct principals are declared "
        f"under {path} (plus {extra_source} and {desired.own} of {OWN_ROLES_SOURCE}), but ECR "
        f"allows at most {EXCLUSION_LIMIT} per registry. Nothing was changed, so archive runs read no "
        f"index manifest (manifestReads: conservative) until the list fits. "
        f"Remove {len(desired.principals) - EXCLUSION_LIMIT} or more."
    )


def empty_set_message(
    path: str,
    desired: DesiredExclusions,
    plan: ExclusionPlan,
    allow_empty_hint: str = SettingNames().allow_empty,
) -> str:
    return (
        f"Refusing to sync pull-time exclusions: no principal is declared under {path} "
        f"({desired.parameter_count} parameter(s) found), which would deregister "
        f"{len(plan.to_remove)} existing exclusion(s). Nothing was changed. If the path is right and "
        f"the list should really be emptied, {allow_empty_hint}."
    )


# -- apply ---------------------------------------------------------------------------------
def _retryable(exc: EcrArchiverError) -> bool:
    return isinstance(exc, Throttled) or (isinstance(exc, AwsServiceError) and exc.code in RETRYABLE_CODES)


def call_with_retries[T](
    call: Callable[[], T],
    *,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = MAX_ATTEMPTS,
    out_of_time: Callable[[], bool] = lambda: False,
) -> T:
    """``call()`` retried with exponential backoff on throttling and server errors.

    botocore already retries these (adaptive mode); this outer loop covers what outlives it, so
    one bad minute does not leave half the plan undone. The last error is re-raised, also as soon
    as ``out_of_time()`` says the invocation has no time left for another attempt.
    """
    attempt = 1
    while True:
        try:
            return call()
        except EcrArchiverError as exc:
            if attempt >= max_attempts or not _retryable(exc) or out_of_time():
                raise
            sleep(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
            attempt += 1


def _apply(
    action: ChangeAction,
    arns: Sequence[str],
    call: Callable[[str], None],
    *,
    sleep: Callable[[float], None],
    out_of_time: Callable[[], bool],
) -> tuple[list[str], list[FailedChange]]:
    done: list[str] = []
    failed: list[FailedChange] = []
    benign = ExclusionAlreadyExists if action is ChangeAction.REGISTER else ExclusionNotFound
    for index, arn in enumerate(arns):
        if out_of_time():
            failed.extend(
                FailedChange(
                    principal_arn=rest,
                    action=action,
                    error_code=NOT_ATTEMPTED,
                    message="not attempted: the invocation was about to time out",
                    attempts=0,
                )
                for rest in arns[index:]
            )
            break
        attempts = 0

        def attempt(arn: str = arn) -> None:
            nonlocal attempts
            attempts += 1
            call(arn)

        try:
            call_with_retries(attempt, sleep=sleep, out_of_time=out_of_time)
        except benign:
            pass  # someone else got there first: the desired state holds
        except EcrArchiverError as exc:
            failed.append(
                FailedChange(
                    principal_arn=arn,
                    action=action,
                    error_code=exc.code,
                    message=exc.message,
                    attempts=attempts,
                )
            )
            continue
        done.append(arn)
    return done, failed


def reconcile_exclusions(
    options: SyncOptions,
    *,
    store: ParameterReader,
    registry: ExclusionRegistry,
    sleep: Callable[[float], None] = time.sleep,
    remaining_ms: Callable[[], int] | None = None,
) -> SyncResult:
    """Make ECR's pull-time exclusion list equal the principals declared under ``options.parameter_path``.

    Reading Parameter Store or listing the current exclusions raises on failure (nothing has
    changed then). Refusals and per-principal failures are returned in the result.
    """
    parameters = store.get_parameters_by_path(options.parameter_path, recursive=True)
    desired = desired_exclusions(
        parameters, options.extra_principals, options.own_principals, options.names.extra_principals
    )
    result = SyncResult(
        parameter_path=options.parameter_path,
        dry_run=options.dry_run,
        desired_count=len(desired.principals),
    )
    refusal = _desired_set_refusal(options, desired)
    if refusal is not None:
        return result.model_copy(update=refusal)

    current = call_with_retries(registry.list_pull_time_exclusions, sleep=sleep)
    plan = plan_exclusions(desired.principals, current)
    result = result.model_copy(
        update={
            "current_count": len(set(current)),
            "to_add": plan.to_add,
            "to_remove": plan.to_remove,
            "unchanged": plan.unchanged,
        }
    )

    # A deleted or mistyped path must not wipe the registry's list: the path contributing nothing
    # while removals are planned is refused unless explicitly allowed.
    if desired.from_parameters == 0 and plan.to_remove and not options.allow_empty:
        return result.model_copy(
            update={
                "refused": RefusalReason.EMPTY_DESIRED_SET,
                "reason": empty_set_message(options.parameter_path, desired, plan, options.names.allow_empty),
            }
        )
    if options.dry_run:
        return result
    return result.model_copy(update=_apply_plan(plan, registry, sleep=sleep, remaining_ms=remaining_ms))


def _desired_set_refusal(options: SyncOptions, desired: DesiredExclusions) -> dict[str, Any] | None:
    """The result fields of a refusal the desired set alone decides, or ``None`` when it is acceptable."""
    if desired.invalid:
        return {
            "refused": RefusalReason.INVALID_PRINCIPALS,
            "reason": invalid_principals_message(options.parameter_path, desired.invalid),
            "invalid": desired.invalid,
        }
    if len(desired.principals) > EXCLUSION_LIMIT:
        return {
            "refused": RefusalReason.TOO_MANY_PRINCIPALS,
            "reason": too_many_message(options.parameter_path, desired, options.names.extra_principals),
        }
    return None


def _apply_plan(
    plan: ExclusionPlan,
    registry: ExclusionRegistry,
    *,
    sleep: Callable[[float], None],
    remaining_ms: Callable[[], int] | None,
) -> dict[str, Any]:
    """Carry out ``plan`` and return the result fields it fills: what was added, removed and failed."""

    def out_of_time() -> bool:
        return remaining_ms is not None and remaining_ms() < TIME_MARGIN_MS

    # Deregister first so that registrations never push the registry past its limit of 100.
    removed, remove_failures = _apply(
        ChangeAction.DEREGISTER,
        plan.to_remove,
        registry.deregister_pull_time_exclusion,
        sleep=sleep,
        out_of_time=out_of_time,
    )
    added, add_failures = _apply(
        ChangeAction.REGISTER,
        plan.to_add,
        registry.register_pull_time_exclusion,
        sleep=sleep,
        out_of_time=out_of_time,
    )
    return {"added": tuple(added), "removed": tuple(removed), "failed": (*remove_failures, *add_failures)}


# -- reporting ---------------------------------------------------------------------------------
def report_outcome(result: SyncResult) -> None:
    """Emit the sync's metrics and its one structured outcome log line."""
    metrics.add_metric(name="ExclusionsAdded", unit=MetricUnit.Count, value=len(result.added))
    metrics.add_metric(name="ExclusionsRemoved", unit=MetricUnit.Count, value=len(result.removed))
    metrics.add_metric(name="ExclusionChangesFailed", unit=MetricUnit.Count, value=len(result.failed))
    metrics.add_metric(name="ExclusionSyncRefused", unit=MetricUnit.Count, value=1 if result.refused else 0)
    outcome = result.model_dump(mode="json")
    if result.refused:
        logger.error(result.reason or "exclusion sync refused", extra={"exclusion_sync": outcome})
    elif result.failed:
        logger.warning(
            f"exclusion sync incomplete: {len(result.failed)} change(s) failed; the next run retries them",
            extra={"exclusion_sync": outcome},
        )
    else:
        logger.info("exclusion sync finished", extra={"exclusion_sync": outcome})
