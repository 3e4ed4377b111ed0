"""``python -m ecr_emulator [--port 4566] [--host 127.0.0.1] [--region us-east-1] [--frozen-clock]
[--log-requests]``.

The server's clock follows real time unless ``--frozen-clock`` is given (see ``clock.py``).
"""

from __future__ import annotations

import argparse

from ecr_emulator.clock import ClockMode
from ecr_emulator.server import quiet_request_log, serve
from ecr_emulator.state import STATE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ecr_emulator", description="Local ECR emulator (moto, extended)."
    )
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument(
        "--host", default="127.0.0.1", help="bind address (default 127.0.0.1; no auth, keep it local)"
    )
    parser.add_argument("--region", default="us-east-1", help="default region for /_emulator/ control routes")
    parser.add_argument(
        "--frozen-clock",
        action="store_true",
        help="freeze the emulator clock (it moves only through /_emulator/clock); "
        "by default it follows real time",
    )
    parser.add_argument(
        "--log-requests", action="store_true", help="print one line per request (default: quiet)"
    )
    args = parser.parse_args(argv)
    STATE.clock.set_mode(ClockMode.FROZEN if args.frozen_clock else ClockMode.RUNNING)
    if not args.log_requests:
        quiet_request_log()  # a terminal running `make emulator &` stays readable
    serve(args.port, args.host, args.region)


if __name__ == "__main__":
    main()
