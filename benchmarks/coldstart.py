"""Cold-start figures: handler import time (``python -X importtime``) and artifact sizes.

Each handler is imported in a fresh interpreter five times; the median of the top-level
``app`` import's cumulative time is reported. The interpreter is Lambda-like, not the dev venv
(which carries sam-cli's awscrt/pyOpenSSL that boto3 would pick up): the venv's base Python 3.13
with ``-s -S`` (no site-packages at all) and ``PYTHONPATH`` = the function directory, the layer's
requirements installed for this host in ``benchmarks/.work/layer-host`` and ``layers/core`` —
the same order Lambda uses (``/var/task``, ``/opt/python``). Layer and function sizes are
measured on the ``sam build`` output (unzipped), which is what Lambda extracts.
"""

from __future__ import annotations

import hashlib
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
RUNS = 5
LAYER_HOST = ROOT / "benchmarks" / ".work" / "layer-host"
REQUIREMENTS = ROOT / "layers" / "core" / "requirements.txt"

# Minimal valid settings so each handler's start-up validation passes offline.
HANDLER_ENV: dict[str, dict[str, str]] = {
    "plan_archive": {
        "CONFIG_PARAMETER_NAME": "/ecr-archiver/config",
        "WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/work",
        "REPORT_BUCKET": "reports-bucket",
    },
    "archive_images": {
        "WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/work",
        "REPORT_BUCKET": "reports-bucket",
    },
    "restore_api": {"RESTORE_ALLOWED_REPOSITORIES": "*"},
    "sync_exclusions": {"EXCLUSIONS_PARAMETER_PATH": "/ecr-archiver/pull-time-exclusions/"},
}
LAYER_DEPS = ("boto3", "botocore", "aws_lambda_powertools", "pydantic", "pydantic_core", "aws_xray_sdk")


@dataclass(frozen=True)
class ImportTiming:
    handler: str
    median_ms: float
    runs_ms: tuple[float, ...]
    first_client_ms: float = 0.0


def base_python() -> str:
    """The interpreter the venv was made from (no venv site-packages)."""
    return str(getattr(sys, "_base_executable", sys.executable))


def ensure_layer_host() -> Path:
    """``pip install -r layers/core/requirements.txt --target benchmarks/.work/layer-host`` (host
    arch), redone when the requirements change."""
    stamp = LAYER_HOST / ".requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return LAYER_HOST
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade",
         "--target", str(LAYER_HOST), "-r", str(REQUIREMENTS)],
        check=True,
    )  # fmt: skip
    stamp.write_text(digest)
    return LAYER_HOST


FIRST_CLIENT = (
    "import time, app; from ecr_archiver import aws; t = time.perf_counter(); aws.client('ecr'); "
    "print(f'first-client {(time.perf_counter() - t) * 1000:.3f}')"
)


def _env(handler: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "PYTHON"))},
        **HANDLER_ENV[handler],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Lambda's own variables: with LAMBDA_TASK_ROOT set Powertools Tracer is enabled and patches
        # the SDK at import, as it does in the deployed functions (Tracing: Active).
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / handler),
        "AWS_LAMBDA_FUNCTION_NAME": handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "POWERTOOLS_SERVICE_NAME": "ecr-archiver",
        "POWERTOOLS_METRICS_NAMESPACE": "ECRArchiver",
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "functions" / handler), str(LAYER_HOST), str(ROOT / "layers" / "core")]
        ),
    }


def _first_client_ms(handler: str) -> float:
    proc = subprocess.run(
        [base_python(), "-s", "-S", "-c", FIRST_CLIENT],
        env=_env(handler),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.split("first-client")[-1])


def _one_import_ms(handler: str) -> float:
    proc = subprocess.run(
        [base_python(), "-s", "-S", "-X", "importtime", "-c", "import app"],
        env=_env(handler),
        capture_output=True,
        text=True,
        check=True,
    )
    # last line for the top-level module "app": "import time: self | cumulative | app"
    for line in reversed(proc.stderr.splitlines()):
        match = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+app$", line)
        if match:
            return int(match.group(1)) / 1000.0
    raise RuntimeError(f"no importtime line for {handler}: {proc.stderr[-500:]}")


def import_timings(runs: int = RUNS) -> list[ImportTiming]:
    ensure_layer_host()
    out = []
    for handler in HANDLER_ENV:
        _one_import_ms(handler)  # warm the bytecode cache, as a deployed artifact ships .pyc-able files
        samples = tuple(_one_import_ms(handler) for _ in range(runs))
        first = statistics.median(_first_client_ms(handler) for _ in range(runs))
        out.append(ImportTiming(handler, statistics.median(samples), samples, first))
    return out


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def artifact_sizes() -> dict[str, int]:
    """Unzipped bytes of each built artifact (empty if ``sam build`` has not run)."""
    if not BUILD.is_dir():
        return {}
    return {p.name: dir_size(p) for p in sorted(BUILD.iterdir()) if p.is_dir()}


if __name__ == "__main__":
    for t in import_timings():
        print(
            f"{t.handler:16s} median {t.median_ms:7.1f} ms  runs {[round(x) for x in t.runs_ms]}"
            f"  + first client {t.first_client_ms:.0f} ms"
        )
    for name, size in artifact_sizes().items():
        print(f"{name:28s} {size / 1e6:7.2f} MB")
