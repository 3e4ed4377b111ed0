"""Fail the venv build if the resolver silently moved a pin that matters.

aws-sam-cli pins boto3[crt] exactly; an unlucky resolve can downgrade sam-cli or cfn-lint to
satisfy another package. The archive-class APIs need boto3/botocore >= 1.41.
"""

from __future__ import annotations

import sys
from importlib.metadata import version

EXPECTED = {
    "aws-sam-cli": "1.170.0",
    "cfn-lint": "1.58.0",
    "boto3": "1.43.108",
    "botocore": "1.43.108",
    "moto": "5.2.5",
}
MIN_SDK = (1, 41)


def main() -> int:
    problems = [
        f"{name}: expected {want}, resolved {version(name)}"
        for name, want in EXPECTED.items()
        if version(name) != want
    ]
    for sdk in ("boto3", "botocore"):
        if tuple(int(p) for p in version(sdk).split(".")[:2]) < MIN_SDK:
            problems.append(f"{sdk} {version(sdk)} predates the ECR archive APIs (need >= 1.41)")
    import boto3

    ops = boto3.session.Session(region_name="us-east-1").client("ecr").meta.service_model.operation_names
    problems += [
        f"botocore lacks ECR {op}"
        for op in ("UpdateImageStorageClass", "ListImageReferrers")
        if op not in ops
    ]
    if problems:
        print("dependency check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("dependency check ok: " + ", ".join(f"{n}=={version(n)}" for n in EXPECTED))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
