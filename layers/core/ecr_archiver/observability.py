"""The one place Powertools Logger, Tracer and Metrics are created.

Every handler and logic module imports these singletons so that log keys, the metric
namespace and the trace service name stay identical across functions.
Configuration comes from the ``POWERTOOLS_*`` environment variables the template sets.

The Tracer is created with ``auto_patch=False`` and patches botocore, the only library the
functions make calls through, in :func:`patch_sdk`, which ``ecr_archiver.adapters.clients`` calls before it
creates the first client. (Powertools' default patches every module the X-Ray SDK supports, which
imports sqlite3, http.client hooks and the rest on every cold start for calls the product never
makes.) Patching at import would import botocore during every cold start,
before the handler needs it; patching before the first client traces exactly the same calls.
"""

from __future__ import annotations

import os
import threading

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ecr-archiver")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ECRArchiver")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE, auto_patch=False)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

#: What X-Ray traces: every AWS call the functions make goes through botocore.
TRACED_MODULES = ("botocore",)

_patch_lock = threading.Lock()
_patched: list[bool] = []  # one element once patched


def patch_sdk() -> None:
    """Patch botocore for X-Ray once; a no-op when tracing is disabled."""
    if _patched:
        return
    with _patch_lock:
        if not _patched:
            tracer.patch(TRACED_MODULES)
            _patched.append(True)


__all__ = ["NAMESPACE", "SERVICE", "MetricUnit", "logger", "metrics", "patch_sdk", "tracer"]
