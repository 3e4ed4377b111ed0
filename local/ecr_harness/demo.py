"""``make demo``: the whole product on the embedded emulator, with the real handlers, in under a minute.

1. seeds a realistic registry (12 repositories, 18 months of push and pull history, releases,
   branch builds, untagged images, multi-arch indexes, signatures and SBOMs, images run by ECS
   tasks and services and by a Lambda function behind an alias) plus the configuration and
   pull-time exclusion declarations in SSM (``seed.py``, ``stack.py``);
2. ``ecr-archiver plan``: the CLI's dry-run table;
3. the scheduled flow: ``plan_archive`` on a schedule event → SQS → ``archive_images``, with the
   previews completing on the emulator clock;
4. a restore through ``restore_api`` with API Gateway events, ACTIVATING → ACTIVE;
5. ``auto_restore`` on an ECS task that failed to pull an archived image;
6. ``sync_exclusions`` on a Parameter Store Change event;
7. a summary (``outcome.py``). Every step (``steps.py``) checks its outcome; any failure exits
   non-zero.

``python -m ecr_harness.demo [--verbose]`` (``--verbose`` shows the functions' JSON logs).
"""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console

from ecr_emulator.emulator import Emulator, emulated_aws
from ecr_harness.outcome import DemoFailure, DemoOutcome, check, render_summary
from ecr_harness.runner import environment
from ecr_harness.seed import seed_registry
from ecr_harness.stack import CONFIG_PARAMETER, EXCLUSION_DECLARATIONS, PREVIEW_TAKES, seed_stack
from ecr_harness.steps import step_auto_restore, step_exclusions, step_plan, step_restore, step_scheduled_run


def run_demo(emu: Emulator, out: Console, *, verbose: bool = False) -> DemoOutcome:
    """Seed, plan, run, restore, sync; raises ``DemoFailure`` when a step misses its outcome."""
    # moto resolves Lambda image digests through (emulated) ECR only with this set.
    with environment({"MOTO_LAMBDA_STUB_ECR": "false"}):
        return _run_demo(emu, out, verbose=verbose)


def _run_demo(emu: Emulator, out: Console, *, verbose: bool) -> DemoOutcome:
    started = time.monotonic()
    emu.settings.preview_in_progress_for = PREVIEW_TAKES
    out.rule("[bold]0 · seed[/] a registry with 18 months of history")
    seeded = seed_registry(emu)
    env = seed_stack(emu, seeded)
    outcome = DemoOutcome(seeded=seeded)
    out.print(
        f"{len(seeded.repositories)} repositories, {seeded.images} images (releases, `latest`, "
        "branch builds, untagged, multi-arch indexes, signatures, SBOMs); ECS tasks and a service, "
        "a Lambda alias; "
        f"config {CONFIG_PARAMETER} and {len(EXCLUSION_DECLARATIONS)} exclusion declarations in SSM "
        f"({time.monotonic() - started:.1f} s)"
    )
    check(len(seeded.repositories) >= 10 and seeded.images >= 500, "the registry is smaller than promised")

    out.rule("[bold]1 · ecr-archiver plan[/] (dry run: what would be archived, and why not the rest)")
    step_plan(emu, out, outcome, verbose)
    out.rule("[bold]2 · the scheduled run[/]: plan_archive → SQS → archive_images")
    step_scheduled_run(emu, env, out, outcome, verbose)
    out.rule("[bold]3 · restore[/] through restore_api (API Gateway events)")
    step_restore(emu, env, out, outcome, verbose)
    out.rule("[bold]4 · automatic restore[/]: a task fails to start on an archived image (auto_restore)")
    step_auto_restore(emu, env, out, outcome, verbose)
    out.rule("[bold]5 · exclusion sync[/] from SSM (sync_exclusions)")
    step_exclusions(emu, env, out, outcome, verbose)
    outcome.seconds = time.monotonic() - started
    out.rule("[bold]6 · summary[/]")
    render_summary(out, outcome)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecr_harness.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="show the functions' JSON logs (stderr)")
    args = parser.parse_args(argv)
    out = Console()
    try:
        with emulated_aws() as emu:
            outcome = run_demo(emu, out, verbose=args.verbose)
    except DemoFailure as exc:
        out.print(f"[bold red]demo failed:[/] {exc}")
        return 1
    except Exception as exc:
        out.print_exception() if args.verbose else out.print(
            f"[bold red]demo crashed:[/] {type(exc).__name__}: {exc}"
        )
        return 1
    if outcome.seconds > 60:
        out.print(f"[yellow]the demo took {outcome.seconds:.0f} s (budget: 60 s)[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
