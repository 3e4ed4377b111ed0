"""Benchmark: a 10,000-image repository previews and paginates in under 5 s in-process.

Run: ``.venv/bin/python benchmarks/bench_emulator_preview.py [--images 10000]``. Prints the
figures and exits non-zero when the preview + pagination budget is exceeded. Not a timed test:
timings on shared CI machines are too noisy to gate on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta

import boto3

from ecr_archiver.archiving.config import DEFAULT_LIFECYCLE_POLICY
from ecr_emulator import emulated_aws

BUDGET_SECONDS = 5.0
REPO = "bench/app"
# The product's default policy: archive images not pulled for 90 days.
POLICY = json.dumps(DEFAULT_LIFECYCLE_POLICY)


def run(image_count: int) -> float:
    with emulated_aws() as emu:
        ecr = boto3.client("ecr", region_name="us-east-1")
        now = emu.clock.now()
        started = time.perf_counter()
        for i in range(image_count):
            # Half the images are old enough to be archived; a third of them are tagged.
            age = timedelta(days=200 if i % 2 else 10, minutes=i)
            emu.push_image(REPO, f"v{i}" if i % 3 == 0 else None, pushed_at=now - age)
        setup = time.perf_counter() - started

        started = time.perf_counter()
        ecr.start_lifecycle_policy_preview(repositoryName=REPO, lifecyclePolicyText=POLICY)
        results = [
            result
            for page in ecr.get_paginator("get_lifecycle_policy_preview").paginate(
                repositoryName=REPO, PaginationConfig={"PageSize": 100}
            )
            for result in page["previewResults"]
        ]
        preview = time.perf_counter() - started

        started = time.perf_counter()
        described = sum(
            len(page["imageDetails"])
            for page in ecr.get_paginator("describe_images").paginate(
                repositoryName=REPO, filter={"imageStatus": "ANY"}, PaginationConfig={"PageSize": 1000}
            )
        )
        describe = time.perf_counter() - started

        assert len(results) == image_count // 2, len(results)
        assert described == image_count, described
        calls = dict(emu.calls)
    print(f"images: {image_count}")
    print(f"push (setup, not budgeted): {setup:.2f} s")
    print(f"preview start + {calls.get('GetLifecyclePolicyPreview', 0)} result pages: {preview:.2f} s")
    print(f"describe_images, {calls.get('DescribeImages', 0)} pages of 1000: {describe:.2f} s")
    total = preview + describe
    print(f"preview + paginate: {total:.2f} s (budget {BUDGET_SECONDS:.0f} s)")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=10_000)
    args = parser.parse_args()
    return 0 if run(args.images) < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
