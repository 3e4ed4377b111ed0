"""The table of a ``plan`` or ``archive`` run: totals computed first, then rendered.

:func:`summarize_run` adds up a :class:`~ecr_archiver.cli.local_run.LocalRun` into a
:class:`RunSummary` (pure: no output); :func:`render_run` turns that summary into a rich table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from rich import box
from rich.console import Console
from rich.table import Table

from ecr_archiver.archiving.models import PROTECTION_REASONS, RepositoryStatus
from ecr_archiver.cli.local_run import LocalRun, RepositoryRun
from ecr_archiver.cli.output import human_bytes, stdout_console

#: Short labels for the table (the JSON report and the docs use the reason codes).
REASON_LABELS = {
    "IN_USE_DIGEST": "in-use digest",
    "IN_USE_TAG": "in-use tag",
    "PROTECTED_TAG": "protected tag",
    "PROTECTED_IMAGE": "listed image",
    "REFERRER_ARTIFACT": "referrer",
    "INDEX_CHILD": "index child",
    "POSSIBLE_INDEX_CHILD": "possible index child",
}


@dataclass(frozen=True)
class Counts:
    """What one repository, or the whole run, adds up to."""

    images: int = 0
    candidates: int = 0
    #: Would archive (a dry run) or archived.
    acted: int = 0
    #: The bytes of ``acted``.
    size: int = 0
    #: Skipped for a protection reason, by reason.
    protected: Mapping[str, int] = field(default_factory=dict)
    #: Skipped for any other reason.
    other: int = 0
    failed: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            images=self.images + other.images,
            candidates=self.candidates + other.candidates,
            acted=self.acted + other.acted,
            size=self.size + other.size,
            protected=Counter(self.protected) + Counter(other.protected),
            other=self.other + other.other,
            failed=self.failed + other.failed,
        )


@dataclass(frozen=True)
class RepositoryLine:
    repository: str
    status: RepositoryStatus
    capped: bool
    counts: Counts


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    dry_run: bool
    manifest_reads: str
    lines: list[RepositoryLine]
    #: Repositories the planner did not plan, with why.
    not_planned: list[tuple[str, str]]
    totals: Counts


def repository_counts(repo: RepositoryRun, *, dry_run: bool) -> Counts:
    totals = repo.result.totals
    protected = {k: v for k, v in totals.protected.items() if k in PROTECTION_REASONS}
    return Counts(
        images=repo.images,
        candidates=len(repo.records),
        acted=totals.would_archive if dry_run else totals.archived,
        size=totals.bytes_would_archive if dry_run else totals.bytes_archived,
        protected=protected,
        other=totals.skipped - sum(protected.values()),
        failed=totals.failed,
    )


def summarize_run(run: LocalRun) -> RunSummary:
    """Every repository's counts and the run's totals."""
    lines = [
        RepositoryLine(
            repository=repo.repository,
            status=repo.result.status,
            capped=repo.result.capped,
            counts=repository_counts(repo, dry_run=run.dry_run),
        )
        for repo in run.repositories
    ]
    totals = sum((line.counts for line in lines), Counts())
    return RunSummary(
        run_id=run.run_id,
        dry_run=run.dry_run,
        manifest_reads=str(run.plan.manifest_reads),
        lines=lines,
        not_planned=sorted(run.plan.skipped.items()),
        totals=totals,
    )


class Cells(NamedTuple):
    """One table row as text, every optional column included."""

    repository: str
    images: str = ""
    candidates: str = ""
    acted: str = ""
    size: str = ""
    protected: str = ""
    other: str = ""
    failed: str = ""


def protected_text(protected: Mapping[str, int]) -> str:
    parts = [
        f"{REASON_LABELS.get(reason, reason)} {count}" for reason, count in sorted(protected.items()) if count
    ]
    return "\n".join(parts) or "-"


def _repository_cells(line: RepositoryLine) -> Cells:
    name = line.repository
    if line.status is not RepositoryStatus.COMPLETE:
        name += f" [red]({line.status.value})[/]"
    if line.capped:
        name += " [yellow](capped)[/]"
    c = line.counts
    return Cells(
        repository=name,
        images=str(c.images),
        candidates=str(c.candidates),
        acted=f"[bold]{c.acted}[/]" if c.acted else "0",
        size=human_bytes(c.size),
        protected=protected_text(c.protected),
        other=str(c.other),
        failed=f"[red]{c.failed}[/]" if c.failed else "0",
    )


def _total_cells(summary: RunSummary) -> Cells:
    t = summary.totals
    return Cells(
        repository=f"[bold]total[/] ({len(summary.lines)})",
        images=str(t.images),
        candidates=str(t.candidates),
        acted=f"[bold]{t.acted}[/]",
        size=f"[bold]{human_bytes(t.size)}[/]",
        protected=protected_text(t.protected),
        other=str(t.other),
        failed=str(t.failed),
    )


def _empty_table(summary: RunSummary, protected_width: int, *, show_other: bool, show_failed: bool) -> Table:
    verb = "to archive" if summary.dry_run else "archived"
    table = Table(
        title=f"{'plan (dry run)' if summary.dry_run else 'archive'} · run {summary.run_id}",
        caption=(
            "candidates: what the lifecycle preview selected · protected: never archived, by reason\n"
            f"manifest reads: {summary.manifest_reads} (why: manifestReadsReason in the report)"
        ),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    # On a narrow terminal only the repository name is shortened; the numbers always show in full.
    table.add_column("repository", overflow="fold", min_width=10)
    for header, width in (("images", 6), ("candidates", 10), (verb, 10), ("size", 9)):
        table.add_column(header, justify="right", no_wrap=True, min_width=width)
    table.add_column("protected", no_wrap=True, min_width=min(protected_width, 20))
    if show_other:
        table.add_column("other skips", justify="right")
    if show_failed:
        table.add_column("failed", justify="right")
    return table


def run_table(summary: RunSummary) -> Table:
    """The per-repository table: images, candidates, protected by reason, bytes to archive."""
    rows = [_repository_cells(line) for line in summary.lines]
    widest = max((len(text) for row in rows for text in row.protected.splitlines()), default=9)
    # Columns that would be all zeros only cost width.
    show_other, show_failed = summary.totals.other > 0, summary.totals.failed > 0
    table = _empty_table(summary, widest, show_other=show_other, show_failed=show_failed)

    def add(row: Cells) -> None:
        cells = [*row[:6], *([row.other] if show_other else []), *([row.failed] if show_failed else [])]
        table.add_row(*cells)

    for row in rows:
        add(row)
    for name, reason in summary.not_planned:
        add(Cells(repository=f"[dim]{name}[/]", protected=f"[dim]not planned: {reason}[/]"))
    table.add_section()
    add(_total_cells(summary))
    return table


def render_run(run: LocalRun, *, out: Console | None = None) -> None:
    """Print ``run``'s table on ``out`` (default: stdout)."""
    (out or stdout_console()).print(run_table(summarize_run(run)))
