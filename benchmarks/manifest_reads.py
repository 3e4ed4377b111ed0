"""What exact manifest reads cost: ECR calls per archived image on a multi-arch registry.

``python -m benchmarks.manifest_reads [--images 2000] [--repos 4] [--write]`` builds repositories
in which 10% of the images are multi-arch indexes (each over ``--platforms`` untagged children;
the rest single-platform), all older than the default 90-day rule and unprotected, then runs the
real planner and worker (in process, on the emulator, as the stack's excluded worker role) and
counts the worker's ECR calls by operation from the emulator's counters. The manifest-read cost
is what a repository without indexes does not pay: the DescribeImages listing that finds the
indexes, the BatchGetImage calls that read their manifests (100 per call), and the index phase's
GetLifecyclePolicyPreview (their results by image id) and DescribeImages calls, 100 per call.
``--write`` replaces the "Multi-arch manifest reads" section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROLE = "arn:aws:iam::123456789012:role/ecr-archiver-ArchiveImagesRole-BENCH"
TARGET = 0.02  # extra ECR calls per archived image (issue: exact mapping's budget)
SECTION = "## Multi-arch manifest reads"


def build(emu: Any, images: int, repos: int, platforms: int) -> int:
    """Push ``images`` images over ``repos`` repositories, 10% of them indexes; returns the count."""
    old = emu.clock.now() - timedelta(days=200)
    per_repo = images // repos
    indexes = per_repo // 10
    singles = per_repo - indexes * (platforms + 1)
    if singles < 0:
        raise SystemExit("too few images for 10% indexes with that many platforms")
    for r in range(repos):
        name = f"bench/multi-{r:03d}"
        for n in range(indexes):
            emu.push_index(
                name, [f"v{n}"], platforms=[f"linux/p{p}" for p in range(platforms)], pushed_at=old
            )
        for n in range(singles):
            emu.push_image(name, [f"s{n}"] if n % 4 == 0 else None, pushed_at=old)
    return repos * per_repo


def run(images: int, repos: int, platforms: int) -> dict[str, Any]:
    import boto3

    from ecr_archiver.adapters.clients import clear_client_cache
    from ecr_archiver.adapters.ecr import EcrRegistry
    from ecr_archiver.adapters.memory import MemoryQueue, MemoryStore
    from ecr_archiver.archiving.config import DEFAULT_CONFIG
    from ecr_archiver.archiving.planner import PlanOptions, plan_archive_run
    from ecr_archiver.archiving.worker import WorkerLimits, archive_candidates
    from ecr_archiver.observability import metrics
    from ecr_emulator import emulated_aws

    config = json.loads(json.dumps(DEFAULT_CONFIG))
    config.update(dryRun=False, maxImagesPerRun=1_000_000)
    with emulated_aws() as emu:
        clear_client_cache()
        total = build(emu, images, repos, platforms)
        emu.principals["testing"] = ROLE
        boto3.client("ecr").register_pull_time_update_exclusion(principalArn=ROLE)
        registry, queue, store = EcrRegistry(), MemoryQueue(), MemoryStore()
        plan = plan_archive_run(
            json.dumps(config),
            run_id="bench-manifest-reads",
            registry=registry,
            in_use_sources=lambda _: [],
            queue=queue,
            store=store,
            options=PlanOptions(force_dry_run=False, delay_seconds=0, worker_role_arn=ROLE),
        )
        emu.reset_calls()
        limits = WorkerLimits(max_tps=1e6, concurrency=8, force_dry_run=False)
        archived = refused = 0
        from ecr_archiver.archiving.models import WorkMessage

        for body in queue.bodies:
            result = archive_candidates(
                WorkMessage.model_validate_json(body),
                registry=registry,
                store=store,
                queue=queue,
                remaining_ms=lambda: 900_000,
                limits=limits,
            )
            archived += result.totals.archived
            refused += result.totals.failed
        calls = {k: v for k, v in emu.calls.items() if ":" not in k}
        metrics.clear_metrics()
        clear_client_cache()
    return _summary(plan.manifest_reads, total, repos, platforms, archived, refused, calls)


def _summary(
    mode: str, total: int, repos: int, platforms: int, archived: int, refused: int, calls: dict[str, int]
) -> dict[str, Any]:
    per_repo = total // repos
    pages = repos * math.ceil(per_repo / 100)  # preview pages, and one DescribeImages each
    listing = repos * math.ceil(per_repo / 1000)
    indexes = repos * (per_repo // 10)
    index_ids = repos * math.ceil((per_repo // 10) / 100)
    # index phase: their preview results by id, and one DescribeImages per 100 of them
    extra = listing + calls.get("BatchGetImage", 0) + 2 * index_ids
    return {
        "mode": mode,
        "images": total,
        "repos": repos,
        "indexes": indexes,
        "platforms": platforms,
        "archived": archived,
        "failed": refused,
        "calls": calls,
        "calls_per_image": sum(calls.values()) / archived if archived else 0.0,
        "base_per_image": (archived + 2 * pages) / archived if archived else 0.0,
        "extra_calls": extra,
        "extra_per_image": extra / archived if archived else 0.0,
        "consistent": sum(calls.values()) == archived + 2 * pages + extra,
    }


def row(r: dict[str, Any]) -> str:
    ops = ", ".join(f"{k} {v:,}" for k, v in sorted(r["calls"].items()))
    ok = "yes" if r["extra_per_image"] <= TARGET and r["failed"] == 0 else "**no**"
    return (
        f"| {r['images']:,}/{r['repos']} | {r['indexes']:,} x {r['platforms']} | {r['mode']} | "
        f"{r['archived']:,} | {r['failed']} | {r['calls_per_image']:.4f} | {r['base_per_image']:.4f} | "
        f"**{r['extra_per_image']:.4f}** | {ok} | {ops} |"
    )


def section(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            "Generated by `python -m benchmarks.manifest_reads --write` (in process, emulator call counts). "
            "10% of the images are multi-arch indexes over untagged children, the rest single-platform; "
            "all are old and unprotected, the worker's role is in the exclusion list (*exact* mode), so "
            "every image is archived, indexes first.",
            "",
            "| images/repos | indexes x platforms | mode | archived | failed | ECR calls / image | "
            "without indexes | **manifest reads / image** | ≤ 0.02 | worker calls by operation |",
            "|---|---|---|---|---|---|---|---|---|---|",
            row(r),
            "",
            "*Manifest reads* are the calls a repository without indexes does not make: one DescribeImages "
            "page per 1,000 images to find the indexes, one BatchGetImage per 100 indexes for their "
            "manifests, and one GetLifecyclePolicyPreview and one DescribeImages per 100 indexes for the "
            "index phase. *Without "
            "indexes* is one archive call per image plus a preview page and a DescribeImages per 100 "
            "results. *failed* counts refused or failed archive calls (0: ECR refused nothing).",
            "",
        ]
    )


def write(r: dict[str, Any], path: Path) -> None:
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = section(r)
    pattern = re.compile(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", re.DOTALL)
    text = (
        pattern.sub(block.rstrip("\n"), text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    )
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repos", type=int, default=4)
    parser.add_argument("--platforms", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # the functions' JSON logs and EMF metrics
        result = run(args.images, args.repos, args.platforms)
    print(row(result))
    if args.write:
        write(result, HERE / "RESULTS.md")
    return 0 if result["extra_per_image"] <= TARGET and result["failed"] == 0 and result["consistent"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
