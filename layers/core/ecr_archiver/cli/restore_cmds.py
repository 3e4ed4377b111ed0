"""``restore`` and ``status``: through the deployed API (SigV4) or directly against ECR."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from rich import box
from rich.table import Table

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.s3 import ObjectStore
from ecr_archiver.cli.context import CliContext
from ecr_archiver.cli.exit_codes import ExitCode
from ecr_archiver.cli.failures import exit_with, fail, user_errors
from ecr_archiver.cli.group import cli
from ecr_archiver.cli.output import emit, human_bytes, stderr_console, stdout_console
from ecr_archiver.cli.reports import archived_images
from ecr_archiver.errors import EcrArchiverError
from ecr_archiver.models import ImageRef
from ecr_archiver.restore.logic import describe_image_status, restore_image
from ecr_archiver.restore.models import ImageQuery, RepositoryAllowList, RestoreRequest

ALLOW_ALL = RepositoryAllowList(patterns=("*",))
console = stdout_console()


def _api_url_from_stack(ctx: CliContext, stack_name: str) -> str | None:
    try:
        stacks = ctx.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except Exception:  # no stack (or no permission): fall back to direct mode
        return None
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "RestoreApiUrl":
            return str(output["OutputValue"]).rstrip("/")
    return None


class RestoreTarget:
    """Restore/status via the API when a URL is known, else directly with the caller's credentials."""

    def __init__(self, ctx: CliContext, api_url: str | None) -> None:
        self.ctx = ctx
        self.api_url = api_url.rstrip("/") if api_url else None
        self._registry: EcrRegistry | None = None

    @property
    def registry(self) -> EcrRegistry:
        if self._registry is None:
            self._registry = EcrRegistry(self.ctx.client("ecr"))
        return self._registry

    @property
    def mode(self) -> str:
        return f"API {self.api_url}" if self.api_url else "direct (ECR API with your credentials)"

    def restore(self, ref: ImageRef, include_referrers: bool) -> dict[str, Any]:
        body = {"repository": ref.repository, "includeReferrers": include_referrers}
        body.update({"digest": ref.digest} if ref.digest else {"tag": ref.tag or ""})
        if self.api_url:
            return self._call("POST", "/restores", body=body)
        request = RestoreRequest.model_validate(body)
        return restore_image(request, registry=self.registry, allowed=ALLOW_ALL).model_dump(
            mode="json", by_alias=True
        )

    def status(self, ref: ImageRef) -> dict[str, Any]:
        query = {"repository": ref.repository}
        query.update({"digest": ref.digest} if ref.digest else {"tag": ref.tag or ""})
        if self.api_url:
            return self._call("GET", "/images", query=query)
        return describe_image_status(
            ImageQuery.model_validate(query), registry=self.registry, allowed=ALLOW_ALL
        ).model_dump(mode="json", by_alias=True)

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        resp = self.ctx.session.signed_request(method, f"{self.api_url}{path}", body=body, query=query)
        if resp.status >= 400:
            code = resp.body.get("error", f"HTTP {resp.status}")
            fail(f"{code}: {resp.body.get('message', resp.body)}", ExitCode.AWS)
        return resp.body


def _resolve_target(ctx: CliContext, api_url: str | None, stack_name: str, direct: bool) -> RestoreTarget:
    if direct or ctx.endpoint_url:
        return RestoreTarget(ctx, None)
    return RestoreTarget(ctx, api_url or _api_url_from_stack(ctx, stack_name))


def _status_table(rows: Iterable[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for col in ("image", "digest", "status", "referrers"):
        table.add_column(col)
    for row in rows:
        tags = ",".join(row.get("tags") or []) or "<untagged>"
        refs = row.get("referrers") or []
        table.add_row(
            f"{row['repository']}:{tags}",
            row["digest"][:19] + "…",
            row["status"],
            ", ".join(f"{r.get('artifactType') or '?'}={r['status']}" for r in refs) or "-",
        )
    return table


def _wait(
    target: RestoreTarget, refs: list[ImageRef], timeout: float, interval: float
) -> list[dict[str, Any]]:
    """Poll until every image is ACTIVE, with a progress bar; exit 6 on timeout."""
    from rich.progress import Progress

    clock = target.ctx.clock
    deadline = clock.now() + timeout
    pending = {str(r): r for r in refs}
    final: dict[str, dict[str, Any]] = {}
    err = stderr_console()
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("waiting for ACTIVE", total=len(refs))
        while pending:
            for key, ref in list(pending.items()):
                status = target.status(ref)
                if status["status"] == "ACTIVE":
                    final[key] = status
                    del pending[key]
                    progress.advance(task)
            if not pending:
                break
            if clock.now() >= deadline:
                fail(
                    f"timed out after {timeout:.0f}s; still ACTIVATING: {', '.join(pending)}",
                    ExitCode.TIMEOUT,
                )
            clock.sleep(interval)
    return [final[str(r)] for r in refs]


@cli.command()
@click.argument("image", required=False)
@click.option(
    "--from-report",
    "report",
    metavar="REPORT",
    help="Restore every image a run archived (rollback): a report file, or the run's "
    "s3://BUCKET/reports/<runId>/ prefix.",
)
@click.option("--wait", is_flag=True, help="Poll until ACTIVE (restores take up to ~20 minutes).")
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds to wait with --wait.")
@click.option("--interval", default=15.0, show_default=True, help="Seconds between polls with --wait.")
@click.option("--no-referrers", is_flag=True, help="Do not restore archived signatures/SBOMs.")
@click.option(
    "--api-url", envvar="ECR_ARCHIVER_API_URL", help="Restore API base URL (default: stack output)."
)
@click.option(
    "--stack-name", default="ecr-archiver", show_default=True, help="Stack to read RestoreApiUrl from."
)
@click.option("--direct", is_flag=True, help="Call ECR directly instead of the API.")
@click.pass_obj
@user_errors
def restore(
    ctx: CliContext,
    image: str | None,
    report: str | None,
    wait: bool,
    timeout: float,
    interval: float,
    no_referrers: bool,
    api_url: str | None,
    stack_name: str,
    direct: bool,
) -> None:
    """Restore IMAGE (REPO:TAG or REPO@DIGEST) from ARCHIVE to STANDARD."""
    if bool(image) == bool(report):
        fail("give exactly one of IMAGE or --from-report", ExitCode.USAGE)
    refs = (
        archived_images(report, lambda bucket: ObjectStore(bucket, ctx.client("s3")))
        if report
        else [ImageRef.parse(image or "")]
    )
    target = _resolve_target(ctx, api_url, stack_name, direct)
    results, failures = [], []
    for ref in refs:
        try:
            results.append(target.restore(ref, include_referrers=not no_referrers))
        except EcrArchiverError as exc:
            if len(refs) == 1:
                raise
            failures.append({"image": str(ref), "error": exc.code, "message": exc.message})
    if wait and results:
        results = _wait(
            target,
            [ImageRef(repository=r["repository"], digest=r["digest"]) for r in results],
            timeout,
            interval,
        )
    emit(
        ctx,
        {"mode": target.mode, "images": results, "failures": failures},
        lambda: console.print(_status_table(results, f"restore via {target.mode}")),
    )
    for f in failures:
        click.echo(f"failed: {f['image']}: {f['error']}: {f['message']}", err=True)
    if failures:
        exit_with(ExitCode.PARTIAL)


STATUS_FIELDS = (
    "repository",
    "digest",
    "tags",
    "status",
    "sizeBytes",
    "pushedAt",
    "lastArchivedAt",
    "lastActivatedAt",
)


def _shown(key: str, value: Any) -> str:
    """A status field for people: lists joined, sizes in units, absent values as a dash."""
    if value is None or value == []:
        return "<untagged>" if key == "tags" else "-"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if key == "sizeBytes" and isinstance(value, int):
        return f"{human_bytes(value)} ({value} bytes)"
    return str(value)


@cli.command()
@click.argument("image")
@click.option("--api-url", envvar="ECR_ARCHIVER_API_URL", help="Restore API base URL (default: direct).")
@click.pass_obj
@user_errors
def status(ctx: CliContext, image: str, api_url: str | None) -> None:
    """Show IMAGE's storage status (ACTIVE, ARCHIVED or ACTIVATING)."""
    target = RestoreTarget(ctx, None if ctx.endpoint_url else api_url)
    result = target.status(ImageRef.parse(image))

    def render() -> None:
        table = Table(title=str(image), show_header=False, box=box.SIMPLE, pad_edge=False)
        for key in STATUS_FIELDS:
            table.add_row(key, _shown(key, result.get(key)))
        console.print(table)

    emit(ctx, result, render)
