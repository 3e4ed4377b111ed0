"""The shared Powertools logger, routed and restored around the handlers and the CLI.

The handlers print EMF metrics and JSON logs for CloudWatch, and the CLI re-routes the logger to
stderr at WARNING; :func:`logger_state` puts the logger's level and streams back afterwards, and
:func:`quiet` (built on it) keeps the handlers' output out of the demo unless it is verbose.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def logger_state(sink: Any = None) -> Iterator[None]:
    """Restore the shared Powertools logger's level and streams on exit; with ``sink``, the
    logger writes to it meanwhile."""
    from ecr_archiver.observability import logger

    level = logger.log_level
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    streams = [h.stream for h in handlers]
    if sink is not None:
        for handler in handlers:
            handler.setStream(sink)
    try:
        yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
        logger.setLevel(level)


@contextlib.contextmanager
def quiet(verbose: bool) -> Iterator[None]:
    """Send the handlers' logs, metrics and warnings to a discarded buffer (to stderr if
    ``verbose``), and clear the metrics they left behind."""
    from ecr_archiver.observability import logger, metrics

    sink: Any = sys.stderr if verbose else io.StringIO()
    with logger_state(sink):
        logger.setLevel("INFO" if verbose else "WARNING")
        try:
            with contextlib.redirect_stdout(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            metrics.clear_metrics()
