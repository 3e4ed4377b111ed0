"""Archiving-specific domain exceptions (the shared ones live in ``ecr_archiver.errors``)."""

from __future__ import annotations

from ecr_archiver.errors import EcrArchiverError


class PreviewNotReady(EcrArchiverError):
    """The preview is running, was restarted, or belongs to someone else: retry the message later."""

    code = "PreviewNotReady"
