"""The ``cli`` group with every command registered: importing a command module registers it."""

from ecr_archiver.cli import archive_cmds, doctor_cmds, ensure_cmds, exclusions_cmds, restore_cmds
from ecr_archiver.cli.group import cli

#: The command modules, each registering its commands on ``cli`` when imported.
COMMAND_MODULES = (archive_cmds, doctor_cmds, ensure_cmds, exclusions_cmds, restore_cmds)

__all__ = ["COMMAND_MODULES", "cli"]
