"""Run the benchmarks and regenerate ``benchmarks/RESULTS.md`` and ``benchmarks/throughput.png``.

``make bench`` (``--quick``): 1,000 candidates / 10 repositories at 20 TPS, 10,000 / 100 at a
higher cap (100 TPS), and a continuation run whose scaled Lambda timeout splits every repository
over several invocations. ``make bench-full`` (``--full``): 1k/10, 10k/100 and 100k/1,000 at
20 TPS (100k alone is 5,000 s ideal; ``--tps-100k 200`` makes it 500 s and RESULTS.md says so),
plus the continuation run. Every run also measures in-use discovery and cold start.

Speed targets live here, never in pytest. Exit status is 0 when every exactly-once check passed
(targets that are missed are reported, not failed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import coldstart
from benchmarks.archive import Scenario, run_scenario, skewed
from benchmarks.inuse import run_inuse

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
WORK = HERE / ".work"
#: The raw figures behind RESULTS.md and the plot, committed beside them so that a later run of
#: some rows (``--rate-only``) or a re-render (``--report-only``) starts from the published set.
DATA = HERE / "results.json"
#: Hand-written before/after and caveats, appended to RESULTS.md.
NOTES = HERE / "NOTES.md"
TARGETS = {
    "efficiency": 0.90,
    # 1.02: one archive call per image, a preview page and a DescribeImages per 100 candidates;
    # + 0.01: the DescribeImages listing that finds a repository's indexes (100 candidates each).
    "calls_per_image": 1.03,
    "rss_growth": 2.0,
    "import_ms": 250.0,
    "import_client_ms": 450.0,
    "layer_mb": 25.0,
}


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    lat = args.latency
    continuation = Scenario(
        1000, 10, tps=args.tps_continuation, latency=lat, time_scale=args.continuation_scale,
        label="1,000/10 continuation",
    )  # fmt: skip
    if args.full:
        return [
            Scenario(1000, 10, tps=args.tps, latency=lat, time_scale=args.time_scale),
            Scenario(10_000, 100, tps=args.tps_10k or args.tps, latency=lat, time_scale=args.time_scale),
            Scenario(100_000, 1000, tps=args.tps_100k or args.tps, latency=lat, time_scale=args.time_scale),
            continuation,
        ]
    return [
        Scenario(1000, 10, tps=args.tps, latency=lat, time_scale=args.time_scale),
        Scenario(10_000, 100, tps=args.tps_10k or 100.0, latency=lat, time_scale=args.time_scale),
        continuation,
    ]


def rate_scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The account-wide rate rows: several workers, one emulator, ArchiveMaxTps = the emulator's cap."""
    common: dict[str, Any] = {
        "tps": args.rate_tps,
        "latency": args.rate_latency,
        "time_scale": args.rate_time_scale,
    }
    rows = [
        Scenario(10_000, 100, workers=w, shape="uniform", label=f"uniform 10k/100, {w} workers", **common)
        for w in (2, 5)
    ]
    rows += [
        Scenario(
            10_000,
            51,
            workers=w,
            shape="skewed",
            per_repository=skewed(10_000),
            label=f"skewed 10k (9,000 in one + 50), {w} workers",
            **common,
        )
        for w in (2, 5)
    ]
    if args.full:
        rows.append(Scenario(100_000, 1, workers=2, shape="single", label="single 100k, 2 workers", **common))
    return rows


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()
    return {
        "load": f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        "cpu": f"{os.cpu_count()} x {cpu} ({platform.machine()})",
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def git_rev() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return rev.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


# -- report -----------------------------------------------------------------------------------
def _ok(flag: bool) -> str:
    return "yes" if flag else "**NO**"


def _fmt_calls(calls: dict[str, int]) -> str:
    short = {
        "UpdateImageStorageClass": "Update",
        "GetLifecyclePolicyPreview": "GetPreview",
        "DescribeImages": "Describe",
        "StartLifecyclePolicyPreview": "StartPreview",
        "DescribeRepositories": "DescribeRepos",
    }
    return ", ".join(f"{short.get(op, op)} {n:,}" for op, n in calls.items())


def plot(results: list[dict[str, Any]], path: Path, rate_rows: list[dict[str, Any]] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if rate_rows:
        fig, (ax, bars) = plt.subplots(1, 2, figsize=(14, 5.5), dpi=110, width_ratios=[1.2, 1])
        _rate_bars(bars, rate_rows)
    else:
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    by_tps: dict[float, list[dict[str, Any]]] = {}
    for r in results:
        if "continuation" in r["scenario"]["label"]:
            continue
        by_tps.setdefault(r["scenario"]["tps"], []).append(r)
    xs_all = [r["scenario"]["candidates"] for r in results]
    lo, hi = min(xs_all) * 0.7, max(xs_all) * 1.4
    colours = iter(["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"])
    for tps, rows in sorted(by_tps.items()):
        colour = next(colours)
        ax.plot([lo, hi], [lo / tps, hi / tps], "--", color=colour, alpha=0.7, label=f"ideal at {tps:g} TPS")
        ax.plot(
            [r["scenario"]["candidates"] for r in rows],
            [r["work"]["seconds"] for r in rows],
            "o",
            color=colour,
            markersize=8,
            label=f"measured at {tps:g} TPS",
        )
        for r in rows:
            ax.annotate(
                f"{r['efficiency']:.3f}",
                (r["scenario"]["candidates"], r["work"]["seconds"]),
                textcoords="offset points",
                xytext=(8, -12),
                fontsize=9,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("archive candidates (100 per repository)")
    ax.set_ylabel("archive wall time (s)")
    ax.set_title("ecr-archiver: archive time vs the throttle-bound ideal (labels: efficiency)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _rate_section(rows: list[dict[str, Any]], args: dict[str, Any]) -> list[str]:
    if not rows:
        return []
    lines = [
        "## One account-wide rate",
        "",
        "Reproduce: `make bench` (`python -m benchmarks.run --quick`) runs the 10k rows; the "
        "single-repository 100k row runs with `make bench-full`, or alone (about 20 minutes) with "
        "`python -m benchmarks.run --rate-only --full --rate-shapes single`, which keeps the other rows "
        "of the last run. Several archive workers run at "
        "once, each its own process with its own Lambda-like context and warm module, all "
        "receiving from one work queue and calling one emulator server, as SQS runs them "
        f"(`WorkerMaxConcurrency` = the workers column). `ArchiveMaxTps` = the emulator's cap "
        f"({args['rate_tps']:g} TPS), {args['rate_latency'] * 1000:g} ms latency on every ECR call, "
        f"time scale {args['rate_time_scale']:g}. The workers share the rate through the lease "
        "schedule in the state table (`archiving/limiter.py`), on the emulator's DynamoDB.",
        "",
        "| registry | workers | ideal s | archive span s | efficiency | busiest 10 s / cap | "
        "busiest second | throttled | leases (schedule writes) | design calls / image | "
        "ECR calls / image | invocations per worker | exactly once |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s, w, rate = r["scenario"], r["work"], r["rate"]
        lines.append(
            f"| {s['name']} | {s['workers']} | {(s['candidates'] - 1) / s['tps']:.0f} | "
            f"{rate['archive_span_seconds']:.1f} | **{rate['efficiency']:.3f}** | "
            f"{rate['busiest_10s_vs_cap']:.3f} | {rate['busiest_second']} | {w['ecr_throttled']:,} | "
            f"{rate['leases']:,} ({rate['schedule_calls']:,}) | **{rate['design_calls_per_image']:.4f}** | "
            f"{r['ecr_calls_per_image']:.4f} | {', '.join(str(n) for n in w['per_worker_invocations'])} | "
            f"{_ok(r['ok'])} |"
        )
    lines += [
        "",
        "Columns: *archive span* runs from the first UpdateImageStorageClass the emulator received "
        "to the last (its per-second call log); *efficiency* = (candidates - 1) / TPS over that span, "
        "so worker start-up and the planner are not in it (the wall time with start-up is in "
        "`benchmarks/results.json`). *Busiest 10 s / cap*: the most archive calls in any sliding 10-second "
        "window, over 10 x the cap. *Design calls / image*: every call the rate design makes per "
        "archived image, archive calls (throttled retries included) plus the schedule's DynamoDB "
        "writes. The once-per-delivery records (Powertools Idempotency: one PutItem and one "
        "UpdateItem per work message) are reliability, not rate, and are counted in "
        "`benchmarks/results.json` (`rate.dynamodb_calls`). *ECR calls / image* is the worker's ECR "
        "calls per archived image, as in the throughput table.",
        "",
    ]
    return lines


def _rate_bars(ax: Any, rows: list[dict[str, Any]]) -> None:
    names = [
        f"{s['shape']}\n{s['candidates'] // 1000}k, {s['workers']} workers"
        for s in (r["scenario"] for r in rows)
    ]
    values = [r["rate"]["efficiency"] for r in rows]
    ax.bar(range(len(rows)), values, color="tab:blue")
    ax.axhline(0.95, color="tab:red", linestyle="--", label="target 0.95")
    for i, v in enumerate(values):
        ax.annotate(f"{v:.3f}", (i, v), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=9)
    ax.set_xticks(range(len(rows)), names, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("efficiency (ideal / archive span)")
    ax.set_title(f"one account-wide rate: several workers at {rows[0]['scenario']['tps']:g} TPS")
    ax.legend(loc="lower right", fontsize=9)


def write_results(data: dict[str, Any], path: Path) -> None:
    res: list[dict[str, Any]] = data["archive"]
    inuse = data["inuse"]
    cold = data["coldstart"]
    sizes = data["sizes"]
    args = data["args"]
    m = data["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `python -m benchmarks.run {'--full' if args['full'] else '--quick'}` "
        f"on {data['generated']} (git {data['git']}); took {data['elapsed_s'] / 60:.1f} min.",
        "",
        f"**Machine:** {m['cpu']}, {m['memory']} RAM, {m['os']}, Python {m['python']}. "
        f"Load average (1/5/15 min) at the start: {m['load']}, at the end: {data['load_end']} "
        "(other work shares the machine; timings scale with it).",
        "",
        "**Set-up.** The ECR emulator (moto + the archive-era extension) serves HTTP from the harness "
        f"process with {args['latency'] * 1000:g} ms latency on every ECR call and a token bucket on "
        "UpdateImageStorageClass (the TPS column). The planner and the worker are the real handlers "
        "(`functions/plan_archive/app.py`, `functions/archive_images/app.py`) in their own subprocesses "
        "(`benchmarks/lambda_sim.py`), talking to the emulator through `AWS_ENDPOINT_URL`. The worker "
        "plays the SQS event source mapping (receive, invoke, delete) with `ARCHIVE_MAX_TPS` = the cap "
        "and `ARCHIVE_CONCURRENCY` 8 (the template's), and a fake LambdaContext whose time runs "
        "down in real time: the 900 s timeout and 60 s margin are multiplied by the time scale, so "
        "continuations happen where a Lambda timeout would hit. Candidates are split evenly "
        "(100 per repository), all older than the 90-day rule, a quarter tagged.",
        "",
    ]
    if any(r["scenario"]["tps"] != 20 for r in res):
        lines += [
            "**TPS.** Runs above 20 TPS raise the emulator's cap *and* the worker's `ARCHIVE_MAX_TPS` "
            "together to keep wall time small; the efficiency is measured against that run's own "
            "ideal (candidates / TPS).",
            "",
        ]
    lines += [
        "## Archive throughput",
        "",
        "| candidates / repos | TPS | time scale (budget / margin) | ideal s | wall s | efficiency | "
        "invocations (continuations) | ECR calls / image (floor) | + planner | throttled | "
        "worker peak RSS MiB | planner ms / repo | exactly once |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res:
        s, w, p = r["scenario"], r["work"], r["plan"]
        lines.append(
            f"| {s['name']} | {s['tps']:g} | {s['time_scale']:g} ({w['budget_ms'] / 1000:g} s / "
            f"{w['margin_ms'] / 1000:g} s) | {r['ideal_seconds']:.0f} | {w['seconds']:.1f} | "
            f"**{r['efficiency']:.3f}** | {w['invocations']:,} ({w['continuations']:,}) | "
            f"**{r['ecr_calls_per_image']:.4f}** ({r['calls_per_image_floor']:.4f}) | "
            f"{r['ecr_calls_per_image_with_plan']:.4f} | {w['ecr_throttled']:,} | "
            f"{w['peak_rss_mib']:.1f} | {p['seconds_per_repository'] * 1000:.1f} | {_ok(r['ok'])} |"
        )
    lines += ["", "ECR calls by operation (worker; planner):", ""]
    for r in res:
        lines.append(
            f"- {r['scenario']['name']}: {_fmt_calls(r['work']['ecr_calls'])}; "
            f"{_fmt_calls(r['plan']['ecr_calls'])}"
        )
    lines += [
        "",
        "Columns: *efficiency* = ideal / wall, the wall time being the worker phase (first SQS receive "
        "to empty queue, continuations included). *ECR calls / image* counts the worker's ECR calls "
        "minus throttled rejections, per archived image; *floor* is the least possible (one archive "
        "call per image plus one preview page and one DescribeImages per 100 candidates of a "
        "repository, plus one DescribeImages page per 1,000 images of a repository to find its "
        "multi-arch indexes); *+ planner* adds the planner's calls (one StartLifecyclePolicyPreview per "
        "repository, DescribeRepositories, one ListPullTimeUpdateExclusions). *Peak RSS* is the "
        "worker process's `VmHWM` "
        "(`/proc/self/status`; `ru_maxrss` is not used because Linux carries the forking "
        "parent's peak into the child), emulator excluded. *Exactly once*: every candidate "
        "ARCHIVED, successful UpdateImageStorageClass calls = candidates, one ARCHIVED report record "
        "per candidate, no failed record, no invocation past its budget.",
        "",
        "![archive time vs candidates; efficiency of the rate rows](throughput.png)",
        "",
        *_rate_section(data.get("rate", []), args),
        "## In-use discovery",
        "",
        f"{inuse['tasks']:,} ECS tasks in {inuse['clusters']} clusters (50 task definitions, "
        "50 services) and "
        f"{inuse['functions']} container-image Lambda functions (half with an alias on a published "
        "version), inventoried by the planner's adapters against moto. moto answers ListTasks and "
        "ListFunctions in one page; the *AWS* column counts the pages AWS would return (100 tasks, "
        "50 functions per page).",
        "",
        "| source | calls (measured) | calls (AWS) | by operation | seconds |",
        "|---|---|---|---|---|",
        f"| ECS, {inuse['tasks']:,} tasks | {inuse['ecs_total']} | {inuse['ecs_total_aws']} | "
        f"{_fmt_calls(inuse['ecs_calls_aws'])} | {inuse['ecs_seconds']:.2f} |",
        f"| Lambda, {inuse['functions']} functions | {inuse['lambda_total']} | {inuse['lambda_total_aws']} | "
        f"{_fmt_calls(inuse['lambda_calls_aws'])} | {inuse['lambda_seconds']:.2f} |",
        "",
        "## Cold start",
        "",
        "Measured on what ships (`benchmarks/coldstart.py`): each function of `.aws-sam/build` starts "
        "in a fresh `python3.13 -I -S -B` whose `sys.path` is the function's build directory and the "
        "CoreLayer's `python/` (Lambda's `/var/task` and `/opt/python`) with the template's "
        "environment, Lambda's own variables (`LAMBDA_TASK_ROOT`, so Tracer is on), fake credentials "
        "and no bytecode written. Only the layer's arm64 `pydantic_core`/`wrapt` extensions are "
        "swapped for the host's builds of the same versions. Medians of fresh starts after one "
        "unrecorded start.",
        "",
        "| function | import median ms | runs ms | < 250 ms | + first ECR client ms | "
        "import + first client ms | < 450 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in cold:
        both = t.get("import_and_client_ms") or t["median_ms"] + t["first_client_ms"]
        lines.append(
            f"| {t['handler']} | **{t['median_ms']:.0f}** | "
            f"{', '.join(str(round(x)) for x in t['runs_ms'])} | "
            f"{_ok(t['median_ms'] < TARGETS['import_ms'])} | {t['first_client_ms']:.0f} | "
            f"**{both:.0f}** | {_ok(both < TARGETS['import_client_ms'])} |"
        )
    lines += [
        "",
        "*+ first ECR client*: what the first invocation adds before its first call, in the same "
        "fresh interpreter after `import app`: "
        '`ecr_archiver.adapters.clients.client("ecr")` (botocore import, Tracer '
        "patching the SDK, client creation). The handlers load boto3 lazily, so this cost moved from "
        "the import to the first invocation; it is shown so the import figure is not read as the "
        "whole cold start. The Lambda runtime's own start is not included.",
    ]
    lines += ["", "Unzipped size of the `sam build` artifacts (`.aws-sam/build`):", ""]
    if sizes:
        lines += ["| artifact | MB |", "|---|---|"]
        lines += [f"| {name} | {size / 1e6:.2f} |" for name, size in sizes.items()]
    else:
        lines.append("_`.aws-sam/build` missing: run `make build` first._")
    lines += ["", "## Targets", "", "| target | figure | met |", "|---|---|---|"]
    lines += [f"| {name} | {figure} | {_ok(met)} |" for name, figure, met in data["targets"]]
    lines += ["", *data.get("notes", []), ""]
    path.write_text("\n".join(lines))


def evaluate(data: dict[str, Any]) -> list[tuple[str, str, bool]]:
    res = [r for r in data["archive"] if "continuation" not in r["scenario"]["label"]]
    out: list[tuple[str, str, bool]] = []
    for r in res:
        if r["scenario"]["candidates"] >= 10_000:
            out.append(
                (
                    f"efficiency >= 0.90 at {r['scenario']['name']}",
                    f"{r['efficiency']:.3f} ({r['scenario']['tps']:g} TPS)",
                    r["efficiency"] >= TARGETS["efficiency"],
                )
            )
    for r in data.get("rate", []):
        name, rate = r["scenario"]["name"], r["rate"]
        out += [
            (f"efficiency >= 0.95, {name}", f"{rate['efficiency']:.3f}", rate["efficiency"] >= 0.95),
            (
                f"busiest 10 s <= 1.05 x ArchiveMaxTps, {name}",
                f"{rate['busiest_10s_vs_cap']:.3f}",
                rate["busiest_10s_vs_cap"] <= 1.05,
            ),
            (
                f"zero throttled calls, {name}",
                f"{r['work']['ecr_throttled']}",
                r["work"]["ecr_throttled"] == 0,
            ),
            (
                f"<= 1.03 design calls per archived image, {name}",
                f"{rate['design_calls_per_image']:.4f}",
                rate["design_calls_per_image"] <= 1.03 + 1e-9,
            ),
        ]
    worst = max(res, key=lambda r: r["ecr_calls_per_image"])
    out.append(
        (
            "<= 1.03 ECR calls per archived image (worker, no throttled retries)",
            f"max {worst['ecr_calls_per_image']:.4f} ({worst['scenario']['name']})",
            worst["ecr_calls_per_image"] <= TARGETS["calls_per_image"] + 1e-9,
        )
    )
    by_size = {r["scenario"]["candidates"]: r for r in res}
    if 10_000 in by_size and 100_000 in by_size:
        a, b = by_size[10_000]["work"]["peak_rss_mib"], by_size[100_000]["work"]["peak_rss_mib"]
        out.append(
            (
                "worker peak RSS grows < 2x from 10k to 100k",
                f"{a:.1f} -> {b:.1f} MiB ({b / a:.2f}x)",
                b / a < 2,
            )
        )
    elif 1000 in by_size and 10_000 in by_size:
        a, b = by_size[1000]["work"]["peak_rss_mib"], by_size[10_000]["work"]["peak_rss_mib"]
        out.append(
            (
                "worker peak RSS grows < 2x (quick: 1k -> 10k; 10k -> 100k needs --full)",
                f"{a:.1f} -> {b:.1f} MiB ({b / a:.2f}x)",
                b / a < 2,
            )
        )
    slowest = max(data["coldstart"], key=lambda t: t["median_ms"])
    out.append(
        (
            "every built function imports in < 250 ms (median)",
            f"slowest {slowest['handler']} {slowest['median_ms']:.0f} ms",
            slowest["median_ms"] < TARGETS["import_ms"],
        )
    )
    both = {
        t["handler"]: t.get("import_and_client_ms") or t["median_ms"] + t["first_client_ms"]
        for t in data["coldstart"]
    }
    worst = max(both, key=lambda h: both[h])
    out.append(
        (
            "import + first ECR client < 450 ms (median)",
            f"slowest {worst} {both[worst]:.0f} ms",
            both[worst] < TARGETS["import_client_ms"],
        )
    )
    layer = data["sizes"].get("CoreLayer")
    out.append(
        (
            "layer <= 25 MB unzipped",
            f"{layer / 1e6:.2f} MB" if layer else "not built",
            bool(layer) and layer <= TARGETS["layer_mb"] * 1e6,
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="1k/10 at --tps, 10k/100 at 100 TPS (default)")
    mode.add_argument("--full", action="store_true", help="1k, 10k and 100k candidates")
    parser.add_argument("--tps", type=float, default=20.0, help="UpdateImageStorageClass cap (default 20)")
    parser.add_argument("--tps-10k", type=float, default=None, help="cap for the 10k run (quick: 100)")
    parser.add_argument("--tps-100k", type=float, default=None, help="cap for the 100k run (default --tps)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per ECR call (default 0.020)")
    parser.add_argument(
        "--time-scale", type=float, default=0.01, help="Lambda timeout/margin multiplier (0.01: 9 s / 0.6 s)"
    )
    parser.add_argument(
        "--continuation-scale",
        type=float,
        default=0.002,
        help="time scale of the continuation run (1.8 s / 0.12 s)",
    )
    parser.add_argument("--tps-continuation", type=float, default=50.0)
    parser.add_argument("--rate-tps", type=float, default=100.0, help="cap of the rate rows (default 100)")
    parser.add_argument("--rate-latency", type=float, default=0.050, help="seconds per ECR call, rate rows")
    parser.add_argument("--rate-time-scale", type=float, default=0.1, help="time scale of the rate rows")
    parser.add_argument("--rate-only", action="store_true", help="run only the rate rows (then re-render)")
    parser.add_argument(
        "--rate-shapes",
        default="",
        help="with --rate-only: run only these shapes (comma list of uniform, skewed, single) and keep "
        "the other rows already in benchmarks/results.json",
    )
    parser.add_argument("--skip-coldstart", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="re-render RESULTS.md and the plot from benchmarks/results.json (no runs)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    if args.report_only:
        saved: dict[str, Any] = json.loads(DATA.read_text())
        saved["notes"] = [NOTES.read_text()] if NOTES.is_file() else []
        plot(saved["archive"], args.out.parent / "throughput.png", saved.get("rate", []))
        write_results(saved, args.out)
        print(f"re-rendered {args.out} from {DATA}")
        return 0
    started = time.perf_counter()
    at_start = machine()
    WORK.mkdir(parents=True, exist_ok=True)

    results = []
    shapes = {x.strip() for x in args.rate_shapes.split(",") if x.strip()}
    rate_rows = [run_one(s) for s in rate_scenarios(args) if not shapes or s.shape in shapes]
    if args.rate_only:
        return rerender_with_rate_rows(args, rate_rows)
    for scenario in scenarios(args):
        print(
            f"archive {scenario.name} at {scenario.tps:g} TPS (ideal {scenario.ideal_seconds:.0f} s)",
            flush=True,
        )
        r = run_scenario(scenario, WORK / scenario.name.replace("/", "-").replace(",", "").replace(" ", "-"))
        print(
            f"  efficiency {r['efficiency']:.3f}, {r['ecr_calls_per_image']:.4f} ECR calls/image, "
            f"peak RSS {r['work']['peak_rss_mib']:.1f} MiB, exactly once: {r['ok']}",
            flush=True,
        )
        results.append(r)
    print("in-use discovery: 1,000 ECS tasks, 200 Lambda functions", flush=True)
    inuse = run_inuse()
    cold = []
    if not args.skip_coldstart:
        print("cold start: handler imports", flush=True)
        cold = [
            {
                "handler": t.handler,
                "median_ms": t.median_ms,
                "runs_ms": list(t.runs_ms),
                "first_client_ms": t.first_client_ms,
                "import_and_client_ms": t.import_and_client_ms,
            }
            for t in coldstart.import_timings()
        ]
    data: dict[str, Any] = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git": git_rev(),
        "machine": at_start,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "archive": results,
        "rate": rate_rows,
        "inuse": inuse,
        "coldstart": cold,
        "sizes": coldstart.artifact_sizes(),
    }
    data["elapsed_s"] = time.perf_counter() - started
    data["load_end"] = machine()["load"]
    data["targets"] = evaluate(data) if cold else []
    data["notes"] = [NOTES.read_text()] if NOTES.is_file() else []
    DATA.write_text(json.dumps(data, indent=2, default=str))
    plot(results, args.out.parent / "throughput.png", rate_rows)
    write_results(data, args.out)
    for name, figure, met in data["targets"]:
        print(f"{'ok ' if met else 'MISS'} {name}: {figure}")
    print(f"wrote {args.out} and {args.out.parent / 'throughput.png'}")
    return 0 if all(r["ok"] for r in results + rate_rows) else 1


def rerender_with_rate_rows(args: argparse.Namespace, rate_rows: list[dict[str, Any]]) -> int:
    """Put freshly run rate rows into the last full results (same label: replaced) and re-render."""
    data = json.loads(DATA.read_text())
    fresh = {r["scenario"]["label"] for r in rate_rows}
    kept = [r for r in data.get("rate", []) if r["scenario"]["label"] not in fresh]
    order = [s.label for s in rate_scenarios(argparse.Namespace(**{**vars(args), "full": True}))]
    rows = sorted(
        kept + rate_rows,
        key=lambda r: order.index(r["scenario"]["label"]) if r["scenario"]["label"] in order else len(order),
    )
    data["rate"] = rows
    data["args"].update({k: v for k, v in vars(args).items() if k.startswith("rate_")})
    data["targets"] = evaluate(data) if data["coldstart"] else []
    data["notes"] = [NOTES.read_text()] if NOTES.is_file() else []
    DATA.write_text(json.dumps(data, indent=2, default=str))
    plot(data["archive"], args.out.parent / "throughput.png", rows)
    write_results(data, args.out)
    print(f"re-rendered {args.out} with {len(rate_rows)} new rate row(s)")
    return 0 if all(r["ok"] for r in rate_rows) else 1


def run_one(scenario: Scenario) -> dict[str, Any]:
    print(
        f"archive {scenario.name} at {scenario.tps:g} TPS, {scenario.workers} worker(s) "
        f"(ideal {scenario.ideal_seconds:.0f} s)",
        flush=True,
    )
    r = run_scenario(scenario, WORK / scenario.name.replace("/", "-").replace(",", "").replace(" ", "-"))
    print(
        f"  efficiency {r['efficiency']:.3f} (archive span {r['rate']['efficiency']:.3f}), "
        f"{r['ecr_calls_per_image']:.4f} ECR calls/image, "
        f"busiest 10 s {r['rate']['busiest_10s_vs_cap']:.3f} x cap, "
        f"peak RSS {r['work']['peak_rss_mib']:.1f} MiB, exactly once: {r['ok']}",
        flush=True,
    )
    return r


if __name__ == "__main__":
    sys.exit(main())
