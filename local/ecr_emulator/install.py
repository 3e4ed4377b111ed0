"""One idempotent switch that extends moto's ECR in this process."""

from __future__ import annotations

import threading

_lock = threading.Lock()


def install() -> None:
    from ecr_emulator import backend, identity, responses

    with _lock:
        backend.install()
        responses.install()
        identity.install()
