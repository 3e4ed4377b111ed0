"""``doctor``: a preflight checklist for the account and region the credentials point at."""

from __future__ import annotations

import os

import click

from ecr_archiver.adapters.apigateway import ApiGatewayAccount
from ecr_archiver.adapters.cloudformation import StackReader
from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.ssm import ConfigParameter, ParameterStore
from ecr_archiver.adapters.sts import CallerIdentity
from ecr_archiver.cli.context import CliContext
from ecr_archiver.cli.exit_codes import ExitCode
from ecr_archiver.cli.failures import exit_with, user_errors
from ecr_archiver.cli.group import cli
from ecr_archiver.cli.output import emit, stdout_console
from ecr_archiver.doctor.checks import DoctorRequest, Probes, run_doctor
from ecr_archiver.doctor.models import AccessLogMode, CheckStatus, DoctorReport

console = stdout_console()

_STYLE = {
    CheckStatus.OK: "green",
    CheckStatus.INFO: "cyan",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "bold red",
    CheckStatus.SKIP: "dim",
}


def _probes(ctx: CliContext) -> Probes:
    ssm = ctx.client("ssm")
    return Probes(
        identity=CallerIdentity(ctx.client("sts")),
        registry=EcrRegistry(ctx.client("ecr")),
        stacks=StackReader(ctx.client("cloudformation")),
        api_gateway=ApiGatewayAccount(ctx.client("apigateway")),
        config_text=lambda name: ConfigParameter(name, client=ssm).text(),
        declared=lambda path: ParameterStore(ssm).get_parameters_by_path(path, recursive=True),
    )


def _render(report: DoctorReport) -> None:
    width = max(len(check.name) for check in report.checks)
    for check in report.checks:
        label = f"[{_STYLE[check.status]}]{check.status.value.upper():<4}[/]"
        fix = f" [dim]→ fix:[/] {check.fix}" if check.fix else ""
        console.print(f"{label} {check.name:<{width}}  {check.detail}{fix}", markup=True, highlight=False)
    blocking = len(report.blocking)
    summary = f"{blocking} blocking problem(s)" if blocking else "nothing blocking"
    console.print(f"\n{summary} in {report.region} (stack {report.stack_name})", highlight=False)


@cli.command()
@click.option(
    "--stack-name", default="ecr-archiver", show_default=True, help="Stack to check (deployed or not)."
)
@click.option(
    "--access-logs",
    type=click.Choice([mode.value for mode in AccessLogMode]),
    default=AccessLogMode.CREATE_ACCOUNT_ROLE.value,
    show_default=True,
    help="RestoreApiAccessLogging you will deploy with (when the stack is deployed, its own value is used).",
)
@click.pass_obj
@user_errors
def doctor(ctx: CliContext, stack_name: str, access_logs: str) -> None:
    """Preflight: credentials, region, ECR archive APIs, API Gateway logging role, and the stack.

    Prints one line per check with its fix. Exit 0: nothing blocking (warnings may remain);
    exit 3: at least one FAIL line.
    """
    defaulted = not (ctx.session.region_name or os.environ.get("AWS_DEFAULT_REGION"))
    request = DoctorRequest(
        region=ctx.effective_region,
        stack_name=stack_name,
        access_logs=AccessLogMode(access_logs),
        region_defaulted=defaulted,
    )
    report = run_doctor(request, _probes(ctx))
    emit(ctx, {**report.model_dump(mode="json"), "blocking": len(report.blocking)}, lambda: _render(report))
    if report.blocking:
        exit_with(ExitCode.INVALID)
