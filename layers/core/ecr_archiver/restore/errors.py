"""Domain errors specific to the restore capability (the shared ones live in ``ecr_archiver.errors``)."""

from __future__ import annotations

from ecr_archiver.errors import EcrArchiverError


class RepositoryNotAllowed(EcrArchiverError):
    """The repository is outside the restore allow-list (``RESTORE_ALLOWED_REPOSITORIES``)."""

    code = "RepositoryNotAllowed"
