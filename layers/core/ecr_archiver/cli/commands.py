"""Imports every command module so each registers itself on the ``cli`` group."""

from ecr_archiver.cli import archive_cmds, doctor_cmds, ensure_cmds, exclusions_cmds, restore_cmds  # noqa: F401
