"""A local Amazon ECR with the archive-era APIs: moto, extended in place.

``emulated_aws()`` mocks AWS in-process; ``python -m ecr_emulator`` serves it over HTTP; the
``Emulator`` handle (or the ``/_emulator/`` routes) controls the clock, images and faults.
"""

from __future__ import annotations

from ecr_emulator.emulator import Emulator, emulated_aws
from ecr_emulator.install import install
from ecr_emulator.state import DEFAULT_ACCOUNT_ID, DEFAULT_PRINCIPAL, EmulatorSettings

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_PRINCIPAL",
    "Emulator",
    "EmulatorSettings",
    "emulated_aws",
    "install",
]
