"""What the demo's steps found, the check each step makes, and the closing summary table."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from ecr_harness.seed import Seeded


class DemoFailure(Exception):
    """A step did not produce the outcome it exists to show."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


@dataclass
class DemoOutcome:
    seeded: Seeded
    plan_exit_code: int = -1
    plan_would_archive: int = 0
    archived: int = 0
    archived_bytes: int = 0
    protected: dict[str, int] = field(default_factory=dict)
    other_skips: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)  # (repo, digest) -> status
    restore_timeline: list[tuple[int, str]] = field(default_factory=list)  # (minutes, status)
    auto_restore_image: str = ""
    auto_restore_timeline: list[tuple[int, str]] = field(default_factory=list)  # (minutes, status)
    exclusions: list[str] = field(default_factory=list)
    exclusion_changes: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0


def _timeline(points: list[tuple[int, str]]) -> str:
    """The first status and the one the image reached: ``ACTIVATING (+0m) → ACTIVE (+12m)``."""
    return " → ".join(f"{s} (+{m}m)" for m, s in points if m == 0 or s == "ACTIVE")


def render_summary(out: Console, outcome: DemoOutcome) -> None:
    from ecr_archiver.cli.output import human_bytes

    table = Table(title="summary", show_header=False)
    table.add_column("what")
    table.add_column("result")
    seeded = outcome.seeded
    table.add_row(
        "registry", f"{len(seeded.repositories)} repositories, {seeded.images} images, 18 months of history"
    )
    table.add_row(
        "archived", f"[bold]{outcome.archived}[/] images, [bold]{human_bytes(outcome.archived_bytes)}[/]"
    )
    table.add_row("protected", ", ".join(f"{k} {v}" for k, v in sorted(outcome.protected.items())))
    if outcome.other_skips:
        table.add_row("other skips", ", ".join(f"{k} {v}" for k, v in sorted(outcome.other_skips.items())))
    repo, tag = seeded.restore_target
    table.add_row("restored", f"{repo}:{tag}: {_timeline(outcome.restore_timeline)}")
    table.add_row(
        "auto-restored", f"{outcome.auto_restore_image}: {_timeline(outcome.auto_restore_timeline)}"
    )
    changes = outcome.exclusion_changes
    table.add_row(
        "exclusions",
        f"{len(outcome.exclusions)} registered (+{len(changes.get('added', []))} "
        f"-{len(changes.get('removed', []))})",
    )
    table.add_row("wall time", f"{outcome.seconds:.1f} s")
    out.print(table)
