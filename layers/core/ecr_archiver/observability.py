"""The one place Powertools Logger, Tracer and Metrics are created.

Every handler and logic module imports these singletons so that log keys, the metric
namespace and the trace service name stay identical across functions.
Configuration comes from the ``POWERTOOLS_*`` environment variables the template sets.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ecr-archiver")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ECRArchiver")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

__all__ = ["NAMESPACE", "SERVICE", "MetricUnit", "logger", "metrics", "tracer"]
