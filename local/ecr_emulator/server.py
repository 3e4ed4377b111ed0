"""The emulator as an HTTP server: moto's multi-service dispatcher (ECR, SSM, SQS, S3, ECS,
Lambda, EventBridge, CloudWatch, STS...) with the ECR extension and ``/_emulator/`` routes.

Binds to 127.0.0.1 by default: the emulator has no authentication.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from ecr_emulator.control import ControlMiddleware
from ecr_emulator.install import install


def quiet_request_log(level: int = logging.WARNING) -> None:
    """Raise werkzeug's logger to ``level``: it logs every request at INFO."""
    logging.getLogger("werkzeug").setLevel(level)


def create_app(default_region: str = "us-east-1") -> ControlMiddleware:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    install()
    return ControlMiddleware(DomainDispatcherApplication(create_backend_app), default_region)


def _make_server(host: str, port: int, region: str) -> BaseWSGIServer:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    return make_server(host, port, create_app(region), threaded=True, request_handler=MotoRequestHandler)


def serve(port: int = 4566, host: str = "127.0.0.1", region: str = "us-east-1") -> None:
    """Serve in the foreground until interrupted."""
    server = _make_server(host, port, region)
    print(f"ecr-emulator listening on http://{host}:{server.server_port} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def start_in_thread(
    port: int = 0, host: str = "127.0.0.1", region: str = "us-east-1"
) -> tuple[str, Callable[[], None]]:
    """Start a server on a daemon thread; ``port=0`` picks a free port. Returns ``(url, stop)``."""
    server = _make_server(host, port, region)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="ecr-emulator", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host}:{server.server_port}", stop


__all__: list[Any] = ["create_app", "quiet_request_log", "serve", "start_in_thread"]
