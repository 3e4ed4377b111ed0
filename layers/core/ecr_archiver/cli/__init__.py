"""``ecr-archiver`` command line: plan, archive, restore, status and exclusion sync.

Works against a real account through the standard credential chain (``--region``,
``--profile``) or against the emulator (``--endpoint-url`` or ``AWS_ENDPOINT_URL``). Every
command calls the same logic the Lambda functions run; nothing is re-implemented here.

Exit codes: 0 ok · 1 unexpected error · 2 usage error · 3 invalid configuration or input ·
4 AWS refused (not found, not supported, access) · 5 partial failure (some images failed) ·
6 timed out waiting · 7 still restoring, not waited for (``ensure-active`` without ``--wait``)
(:class:`ecr_archiver.cli.exit_codes.ExitCode`).
"""

from __future__ import annotations

from ecr_archiver.cli.main import main

__all__ = ["main"]
