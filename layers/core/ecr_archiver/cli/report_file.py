"""The ``--report`` file of ``plan`` and ``archive``: checked before the run, never lost after it.

A run that archived images must leave its report behind: it is what ``restore --from-report``
rolls back from. So the path is made ready (missing parent directories created, a probe file
written and removed) before the first AWS call, and if writing still fails at the end (the disk
filled up, the directory vanished), the report goes to a file in the temporary directory instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class ReportPathError(ValueError):
    """The report path cannot be written; raised before anything has changed."""


def prepare_report_path(path: Path) -> None:
    """Create ``path``'s missing parent directories and prove a file can be written there."""
    if path.is_dir():
        raise ReportPathError(f"--report {path}: is a directory; give a file name, e.g. {path / 'run.json'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise ReportPathError(f"--report {path}: cannot write there: {exc.strerror or exc}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise ReportPathError(f"--report {path}: the file exists and is not writable")


def write_report(path: Path, document: dict[str, Any], run_id: str) -> Path:
    """Write ``document`` to ``path`` (atomically); on failure to a temporary file. Returns where."""
    text = json.dumps(document, indent=2, default=str) + "\n"
    try:
        _write_atomically(path, text)
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"ecr-archiver-report-{run_id}.json"
        _write_atomically(fallback, text)
        return fallback
    return path


def _write_atomically(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        partial = Path(tmp.name)
        try:
            tmp.write(text)
        except OSError:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(path)
