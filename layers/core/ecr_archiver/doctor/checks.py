"""The preflight checks behind ``ecr-archiver doctor``: one function per check, pure but for probes.

Each check answers one question an operator has before (or after) ``sam deploy``, and says how
to fix what it finds. A failed check is blocking; the report's exit code says whether any is.
Checks that need a deployed stack are skipped, with a reason, when there is none.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ecr_archiver.adapters.cloudformation import DeployedStack
from ecr_archiver.adapters.errors import describe_sdk_failure
from ecr_archiver.adapters.ssm import StoredParameter
from ecr_archiver.archiving.config import DEFAULT_CONFIG_PARAMETER, parse_config
from ecr_archiver.doctor.models import AccessLogMode, Check, CheckStatus, DoctorReport
from ecr_archiver.errors import EcrArchiverError
from ecr_archiver.exclusions.logic import desired_exclusions
from ecr_archiver.exclusions.models import EXCLUSION_LIMIT

#: Outputs the doctor (and the CLI) rely on; a stack without them is from another template.
REQUIRED_OUTPUTS = (
    "RestoreApiUrl",
    "ArchiveConfigParameterName",
    "ArchiveReportBucketName",
    "ArchivingRoleArns",
)
#: Warn when fewer pull-time exclusion slots than this are left.
HEADROOM_WARNING = 10
DEFAULT_EXCLUSIONS_PATH = "/ecr-archiver/pull-time-exclusions/"


class IdentitySource(Protocol):
    def describe(self) -> tuple[str, str]: ...


class RegistrySource(Protocol):
    def list_pull_time_exclusions(self) -> list[str]: ...
    def list_repositories(self) -> Iterable[str]: ...


class StackSource(Protocol):
    def describe(self, stack_name: str) -> DeployedStack | None: ...


class ApiGatewaySource(Protocol):
    def cloudwatch_role_arn(self) -> str | None: ...


@dataclass(frozen=True)
class Probes:
    """Where the doctor looks; adapters in the CLI, fakes or the emulator in tests."""

    identity: IdentitySource
    registry: RegistrySource
    stacks: StackSource
    api_gateway: ApiGatewaySource
    config_text: Callable[[str], str]
    declared: Callable[[str], Sequence[StoredParameter]]


@dataclass(frozen=True)
class DoctorRequest:
    region: str
    stack_name: str = "ecr-archiver"
    #: The mode the next deploy will use, when no stack is deployed yet.
    access_logs: AccessLogMode = AccessLogMode.CREATE_ACCOUNT_ROLE
    region_defaulted: bool = False


def _attempt[T](name: str, call: Callable[[], T], fix: str | None = None) -> T | Check:
    """``call()``, or a failed check: AWS's refusal with ``fix``, or the SDK's failure with its own hint."""
    try:
        return call()
    except EcrArchiverError as exc:
        return Check(name=name, status=CheckStatus.FAIL, detail=f"{exc.code}: {exc.message}", fix=fix)
    except Exception as exc:
        sdk = describe_sdk_failure(exc)
        if sdk is None:
            raise
        return Check(name=name, status=CheckStatus.FAIL, detail=sdk.message)


def check_credentials(probes: Probes) -> Check:
    fix = "configure credentials: `aws configure`, `aws sso login`, or --profile NAME"
    found = _attempt("credentials", probes.identity.describe, fix)
    if isinstance(found, Check):
        return found
    account, arn = found
    return Check(name="credentials", status=CheckStatus.OK, detail=f"account {account} as {arn}")


def check_region(request: DoctorRequest) -> Check:
    if request.region_defaulted:
        return Check(
            name="region",
            status=CheckStatus.WARN,
            detail=f"no region configured; using {request.region}",
            fix="pass --region (ECR registries are regional: one stack per region)",
        )
    return Check(name="region", status=CheckStatus.OK, detail=request.region)


def check_archive_apis(probes: Probes, request: DoctorRequest) -> tuple[Check, list[str] | None]:
    fix = (
        f"use a region where ECR archive storage and pull-time exclusions exist ({request.region} "
        "answered with an error), and the pinned boto3 (`make venv`)"
    )
    found = _attempt("ecr archive APIs", probes.registry.list_pull_time_exclusions, fix)
    if isinstance(found, Check):
        return found, None
    detail = f"ListPullTimeUpdateExclusions answers in {request.region} ({len(found)} exclusion(s))"
    return Check(name="ecr archive APIs", status=CheckStatus.OK, detail=detail), found


def check_stack(probes: Probes, request: DoctorRequest) -> tuple[Check, DeployedStack | None]:
    found = _attempt("stack", lambda: probes.stacks.describe(request.stack_name))
    if isinstance(found, Check):
        return found, None
    name = request.stack_name
    if found is None:
        return Check(
            name="stack",
            status=CheckStatus.INFO,
            detail=f"{name} is not deployed in {request.region}",
            fix="deploy it: `sam build && sam deploy --guided` (then run doctor again)",
        ), None
    if found.status.endswith("_FAILED") or "ROLLBACK" in found.status:
        return Check(
            name="stack",
            status=CheckStatus.FAIL,
            detail=f"{name} is {found.status}",
            fix=f"read why: `aws cloudformation describe-stack-events --stack-name {name}`, fix, redeploy",
        ), found
    status = CheckStatus.WARN if found.status.endswith("_IN_PROGRESS") else CheckStatus.OK
    return Check(name="stack", status=status, detail=f"{name} is {found.status}"), found


def check_outputs(stack: DeployedStack) -> Check:
    missing = [key for key in REQUIRED_OUTPUTS if not stack.outputs.get(key)]
    if missing:
        return Check(
            name="stack outputs",
            status=CheckStatus.FAIL,
            detail=f"missing {', '.join(missing)}",
            fix="the stack comes from an older template: `sam build && sam deploy`",
        )
    return Check(name="stack outputs", status=CheckStatus.OK, detail=f"{len(stack.outputs)} outputs present")


def access_log_mode(stack: DeployedStack | None, request: DoctorRequest) -> AccessLogMode:
    if stack is None:
        return request.access_logs
    value = stack.parameters.get("RestoreApiAccessLogging")
    # A stack from before the parameter always logged, through the account's existing role.
    return AccessLogMode(value) if value else AccessLogMode.USE_EXISTING_ACCOUNT_ROLE


def check_access_logs(probes: Probes, stack: DeployedStack | None, request: DoctorRequest) -> Check:
    name = "api gateway logs role"
    mode = access_log_mode(stack, request)
    if mode is AccessLogMode.OFF:
        return Check(name=name, status=CheckStatus.INFO, detail="restore API access logs are off")
    role = _attempt(name, probes.api_gateway.cloudwatch_role_arn)
    if isinstance(role, Check):
        return role
    if mode is AccessLogMode.USE_EXISTING_ACCOUNT_ROLE:
        if role:
            return Check(name=name, status=CheckStatus.OK, detail=f"{mode}: API Gateway logs as {role}")
        return Check(
            name=name,
            status=CheckStatus.FAIL,
            detail=f"{mode}, but this account has no API Gateway CloudWatch Logs role in {request.region}: "
            "the deploy fails with 'CloudWatch Logs role ARN must be set in account settings'",
            fix="deploy with RestoreApiAccessLogging=create-account-role (or off), or set the role with "
            "`aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=ARN`",
        )
    return _check_created_role(name, role, stack)


def _check_created_role(name: str, role: str | None, stack: DeployedStack | None) -> Check:
    mode = AccessLogMode.CREATE_ACCOUNT_ROLE
    ours = stack.outputs.get("ApiGatewayCloudWatchRoleArn") if stack else None
    if stack is None and role:
        return Check(
            name=name,
            status=CheckStatus.WARN,
            detail=f"{mode}: the stack will replace the account-wide setting {role} with a role of its own",
            fix="deploy with RestoreApiAccessLogging=use-existing-account-role to keep the existing role",
        )
    if stack is None:
        return Check(
            name=name,
            status=CheckStatus.OK,
            detail=f"{mode}: no role set yet; the stack creates one and sets it (account-wide, this region)",
        )
    if ours and role != ours:
        return Check(
            name=name,
            status=CheckStatus.WARN,
            detail=f"{mode}: the account setting is {role or 'empty'}, not this stack's {ours}",
            fix="someone changed the account setting; redeploy, or switch to use-existing-account-role",
        )
    return Check(name=name, status=CheckStatus.OK, detail=f"{mode}: API Gateway logs as {role}")


def check_configuration(probes: Probes, stack: DeployedStack) -> Check:
    name = "configuration"
    parameter = stack.outputs.get("ArchiveConfigParameterName", DEFAULT_CONFIG_PARAMETER)
    fix = (
        "test a fix with `ecr-archiver plan --config FILE`, then "
        f"`aws ssm put-parameter --overwrite --name {parameter} --value file://FILE`"
    )
    text = _attempt(name, lambda: probes.config_text(parameter), fix)
    if isinstance(text, Check):
        return text
    config = _attempt(name, lambda: parse_config(text), fix)
    if isinstance(config, Check):
        return config.model_copy(update={"detail": f"{parameter}: {config.detail}"})
    return Check(name=name, status=CheckStatus.OK, detail=f"{parameter} validates against the schema")


def _stack_list(stack: DeployedStack, key: str, source: dict[str, str]) -> list[str]:
    return [item.strip() for item in source.get(key, "").split(",") if item.strip()]


def check_exclusion_roles(stack: DeployedStack, current: list[str]) -> Check:
    name = "exclusions: archiving roles"
    roles = _stack_list(stack, "ArchivingRoleArns", stack.outputs)
    missing = [arn for arn in roles if arn not in set(current)]
    if not roles:
        return Check(name=name, status=CheckStatus.SKIP, detail="no ArchivingRoleArns output")
    if missing:
        path = stack.parameters.get("ExclusionsParameterPath", DEFAULT_EXCLUSIONS_PATH)
        return Check(
            name=name,
            status=CheckStatus.WARN,
            detail=f"not in the pull-time exclusion list: {', '.join(missing)}",
            fix="runs read no index manifest (manifestReads: conservative) until they are: the "
            "exclusion sync adds the stack's own roles once ExclusionSyncDryRun=false, or run "
            f"`ecr-archiver sync-exclusions --extra ARN` (declarations under {path})",
        )
    return Check(name=name, status=CheckStatus.OK, detail=f"all {len(roles)} in the exclusion list")


def check_headroom(probes: Probes, stack: DeployedStack | None, current: list[str]) -> Check:
    name = "exclusions: headroom"
    path = (stack.parameters if stack else {}).get("ExclusionsParameterPath", DEFAULT_EXCLUSIONS_PATH)
    extra = _stack_list(stack, "ExtraExcludedPrincipals", stack.parameters) if stack else []
    declared = _attempt(name, lambda: probes.declared(path))
    if isinstance(declared, Check):
        return declared
    own = _stack_list(stack, "ArchivingRoleArns", stack.outputs) if stack else []
    wanted = len(desired_exclusions(declared, extra, own).principals)
    used = max(wanted, len(set(current)))
    left = EXCLUSION_LIMIT - used
    detail = (
        f"{len(set(current))} registered, {wanted} declared under {path}; {left} of {EXCLUSION_LIMIT} left"
    )
    if left < 0:
        fix = f"declare at most {EXCLUSION_LIMIT} principals: the sync refuses to apply more"
        return Check(name=name, status=CheckStatus.FAIL, detail=detail, fix=fix)
    if left < HEADROOM_WARNING:
        fix = "remove principals that no longer pull (ECR allows 100 per registry)"
        return Check(name=name, status=CheckStatus.WARN, detail=detail, fix=fix)
    return Check(name=name, status=CheckStatus.OK, detail=detail)


def check_dry_run(stack: DeployedStack) -> Check:
    archive = stack.parameters.get("DryRun", "true") == "true"
    sync = stack.parameters.get("ExclusionSyncDryRun", "true") == "true"
    archive_text = "scheduled runs plan and report, archive nothing" if archive else "scheduled runs archive"
    sync_text = "the sync changes nothing" if sync else "the sync applies changes"
    detail = (
        f"DryRun={str(archive).lower()} ({archive_text}), "
        f"ExclusionSyncDryRun={str(sync).lower()} ({sync_text})"
    )
    fix = "set DryRun=false after reviewing a dry-run report" if archive else None
    return Check(name="dry run", status=CheckStatus.INFO, detail=detail, fix=fix)


def check_allow_list(probes: Probes, stack: DeployedStack) -> Check:
    name = "restore allow-list"
    patterns = _stack_list(stack, "RestoreAllowedRepositories", stack.parameters) or ["*"]
    if patterns == ["*"]:
        return Check(
            name=name,
            status=CheckStatus.INFO,
            detail="* (any caller with execute-api:Invoke may restore any repository)",
            fix="narrow it with RestoreAllowedRepositories, e.g. team/*,infra/base",
        )
    repositories = _attempt(name, lambda: list(probes.registry.list_repositories()))
    if isinstance(repositories, Check):
        return repositories
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(r, p) for r in repositories)]
    if unmatched:
        return Check(
            name=name,
            status=CheckStatus.WARN,
            detail=f"{', '.join(patterns)}; matching no repository: {', '.join(unmatched)}",
            fix="check RestoreAllowedRepositories for typos (patterns are case-sensitive)",
        )
    return Check(name=name, status=CheckStatus.OK, detail=", ".join(patterns))


def _skipped(names: Iterable[str], why: str) -> list[Check]:
    return [Check(name=n, status=CheckStatus.SKIP, detail=why) for n in names]


STACK_CHECKS = (
    "stack outputs",
    "configuration",
    "exclusions: archiving roles",
    "dry run",
    "restore allow-list",
)


def run_doctor(request: DoctorRequest, probes: Probes) -> DoctorReport:
    """Every check, in the order an operator fixes things."""
    checks = [check_credentials(probes), check_region(request)]
    if checks[0].status is CheckStatus.FAIL:
        later = ("ecr archive APIs", "stack", "api gateway logs role", "exclusions: headroom", *STACK_CHECKS)
        checks += _skipped(later, "needs working credentials")
        return DoctorReport(region=request.region, stack_name=request.stack_name, checks=tuple(checks))
    apis, current = check_archive_apis(probes, request)
    stack_check, stack = check_stack(probes, request)
    checks += [apis, stack_check, check_access_logs(probes, stack, request)]
    no_apis = "the ECR archive APIs did not answer"
    if current is None:
        checks += _skipped(["exclusions: headroom"], no_apis)
    else:
        checks.append(check_headroom(probes, stack, current))
    if stack is None:
        checks += _skipped(STACK_CHECKS, "no deployed stack")
        return DoctorReport(region=request.region, stack_name=request.stack_name, checks=tuple(checks))
    checks += [check_outputs(stack), check_configuration(probes, stack)]
    if current is None:
        checks += _skipped(["exclusions: archiving roles"], no_apis)
    else:
        checks.append(check_exclusion_roles(stack, current))
    checks += [check_dry_run(stack), check_allow_list(probes, stack)]
    return DoctorReport(region=request.region, stack_name=request.stack_name, checks=tuple(checks))
