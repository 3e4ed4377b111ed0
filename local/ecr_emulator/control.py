"""HTTP control plane under ``/_emulator/``: the same controls as :class:`Emulator`, for a server
in another process (demo scripts, the CLI, benchmarks). JSON in, JSON out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from moto.core.exceptions import ServiceException
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from ecr_emulator.clock import ClockMode
from ecr_emulator.emulator import Emulator
from ecr_emulator.state import STATE

PREFIX = "/_emulator/"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _dt(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status=status, mimetype="application/json")


class ControlRoutes:
    """Dispatches ``/_emulator/*``; ``default_region`` applies when a body names no ``region``."""

    def __init__(self, default_region: str = "us-east-1") -> None:
        self.default_region = default_region
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", "health"): self.health,
            ("GET", "clock"): self.get_clock,
            ("POST", "clock"): self.post_clock,
            ("POST", "images"): self.push,
            ("POST", "images/times"): self.set_times,
            ("GET", "images/status"): self.image_status,
            ("GET", "faults"): self.get_faults,
            ("POST", "faults"): self.set_fault,
            ("DELETE", "faults"): self.clear_faults,
            ("GET", "calls"): self.get_calls,
            ("DELETE", "calls"): self.reset_calls,
            ("POST", "reset"): self.reset,
            ("GET", "settings"): self.get_settings,
            ("POST", "settings"): self.post_settings,
        }

    def _emulator(self, body: dict[str, Any]) -> Emulator:
        return Emulator(region=body.get("region") or self.default_region)

    def handle(self, request: Request) -> Response:
        route = request.path[len(PREFIX) :].strip("/")
        known = {path for _, path in self.routes}
        if route not in known:
            raise NotFound(f"no emulator route {request.path}")
        handler = self.routes.get((request.method, route))
        if handler is None:
            raise MethodNotAllowed()
        body: dict[str, Any] = dict(request.args)
        if request.data:
            body.update(json.loads(request.data))
        try:
            return _json(handler(body))
        except ServiceException as exc:
            return _json({"error": exc.code, "message": exc.message}, 400)
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": "BadRequest", "message": str(exc)}, 400)

    # -- handlers ---------------------------------------------------------------------
    def health(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"status": "ok", "region": self.default_region, "now": STATE.clock.now().isoformat()}

    def get_clock(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"now": STATE.clock.now().isoformat(), "mode": str(STATE.clock.mode)}

    def post_clock(self, body: dict[str, Any]) -> dict[str, Any]:
        if "mode" in body:
            if body["mode"] not in {m.value for m in ClockMode}:
                raise ValueError("'mode' is 'frozen' or 'running'")
            STATE.clock.set_mode(body["mode"])
            if "set" not in body and "advance_seconds" not in body:
                return self.get_clock(body)
        if "set" in body:
            moment = _dt(body["set"])
            if moment is None:
                raise ValueError("'set' needs an ISO 8601 timestamp")
            STATE.clock.set(moment)
        elif "advance_seconds" in body:
            STATE.clock.advance(float(body["advance_seconds"]))
        else:
            raise ValueError("give 'set' (ISO 8601), 'advance_seconds' or 'mode' (frozen|running)")
        return self.get_clock(body)

    def push(self, body: dict[str, Any]) -> dict[str, Any]:
        emu = self._emulator(body)
        repo = body["repository"]
        kind = body.get("kind", "image")
        pushed_at = _dt(body.get("pushed_at"))
        if kind == "index":
            platforms = tuple(body.get("platforms") or ("linux/amd64", "linux/arm64"))
            digest, children = emu.push_index(
                repo, body.get("tags"), platforms=platforms, pushed_at=pushed_at
            )
            return {"digest": digest, "children": children}
        if kind in ("referrer", "signature", "sbom"):
            defaults = {
                "signature": "application/vnd.dev.cosign.artifact.sig.v1+json",
                "sbom": "application/spdx+json",
            }
            artifact_type = body.get("artifact_type") or defaults.get(kind, defaults["signature"])
            digest = emu.push_referrer(
                repo, body["subject"], artifact_type=artifact_type, pushed_at=pushed_at
            )
            return {"digest": digest}
        if kind != "image":
            raise ValueError(f"unknown kind {kind!r}: image, index, referrer, signature or sbom")
        digest = emu.push_image(
            repo,
            body.get("tags"),
            pushed_at=pushed_at,
            size_bytes=body.get("size_bytes"),
            last_pulled_at=_dt(body.get("last_pulled_at")),
            artifact_type=body.get("artifact_type"),
            subject=body.get("subject"),
            seed=body.get("seed"),
        )
        return {"digest": digest}

    def set_times(self, body: dict[str, Any]) -> dict[str, Any]:
        emu = self._emulator(body)
        emu.set_image_times(
            body["repository"],
            body["digest"],
            pushed_at=_dt(body.get("pushed_at")),
            last_pulled_at=_dt(body.get("last_pulled_at")),
        )
        return {"ok": True}

    def image_status(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"status": self._emulator(body).image_status(body["repository"], body["digest"])}

    def get_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "faults": {
                op: {
                    "latency": r.latency,
                    "tps": r.tps,
                    "error_rate": r.error_rate,
                    "error_code": r.error_code,
                    "burst": r.burst,
                    "count": r.count,
                }
                for op, r in STATE.faults.rules().items()
            }
        }

    def set_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        STATE.faults.set(
            body["operation"],
            latency=float(body.get("latency", 0.0)),
            tps=None if body.get("tps") is None else float(body["tps"]),
            error_rate=float(body.get("error_rate", 0.0)),
            error_code=body.get("error_code", "ServerException"),
            burst=None if body.get("burst") is None else int(body["burst"]),
            count=None if body.get("count") is None else int(body["count"]),
        )
        return self.get_faults(body)

    def clear_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        STATE.faults.clear(body.get("operation"))
        return self.get_faults(body)

    def get_calls(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"calls": dict(STATE.calls), "throttled": dict(STATE.throttled)}

    def reset_calls(self, body: dict[str, Any]) -> dict[str, Any]:
        STATE.reset_calls()
        return self.get_calls(body)

    def reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self._emulator(body).reset()
        return {"ok": True, "now": STATE.clock.now().isoformat()}

    def get_settings(self, _: dict[str, Any]) -> dict[str, Any]:
        s = STATE.settings
        return {
            "restore_delay_seconds": s.restore_delay.total_seconds(),
            "preview_in_progress_seconds": s.preview_in_progress_for.total_seconds(),
            "preview_expires_after_seconds": s.preview_expires_after.total_seconds(),
            "principals": dict(STATE.principals),
        }

    def post_settings(self, body: dict[str, Any]) -> dict[str, Any]:
        s = STATE.settings
        if "restore_delay_seconds" in body:
            s.restore_delay = timedelta(seconds=float(body["restore_delay_seconds"]))
        if "preview_in_progress_seconds" in body:
            s.preview_in_progress_for = timedelta(seconds=float(body["preview_in_progress_seconds"]))
        if "preview_expires_after_seconds" in body:
            s.preview_expires_after = timedelta(seconds=float(body["preview_expires_after_seconds"]))
        if "principals" in body:
            STATE.principals.update({str(k): str(v) for k, v in body["principals"].items()})
        if body.get("fail_next_preview"):
            self._emulator(body).fail_next_preview(body["fail_next_preview"])
        return self.get_settings(body)


class ControlMiddleware:
    """WSGI wrapper: ``/_emulator/*`` here, everything else to moto's dispatcher."""

    def __init__(self, app: WSGIApp, default_region: str = "us-east-1") -> None:
        self.app = app
        self.control = ControlRoutes(default_region)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(PREFIX):
            return self.app(environ, start_response)
        request = Request(environ)
        try:
            response = self.control.handle(request)
        except HTTPException as exc:
            response = _json({"error": exc.name, "message": exc.description}, exc.code or 500)
        return response(environ, start_response)
