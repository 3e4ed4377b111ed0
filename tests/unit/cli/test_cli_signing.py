"""SigV4-signed requests to the restore API live in the session adapter; the CLI stays SDK-free."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from ecr_archiver.adapters.session import AwsSession, region_from_url


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://abc.execute-api.eu-west-1.amazonaws.com/prod", "eu-west-1"),
        ("https://abc.execute-api.us-east-1.amazonaws.com", "us-east-1"),
        ("http://127.0.0.1:3000/restores", None),
        ("https://api.example.com/v1", None),
    ],
)
def test_the_signing_region_comes_from_an_api_gateway_url(url: str, region: str | None):
    assert region_from_url(url) == region


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        status = 404 if self.path.startswith("/missing") else 200
        payload = json.dumps({"error": "ImageNotFound"} if status == 404 else {"ok": True}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    _Recorder.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.mark.usefixtures("credentials")
def test_a_request_is_signed_for_execute_api_in_the_given_region(api: str):
    session = AwsSession(region="us-east-1")
    resp = session.signed_request(
        "POST", f"{api}/restores", body={"repository": "team/api"}, region="eu-west-1"
    )
    assert (resp.status, resp.body) == (200, {"ok": True})
    (seen,) = _Recorder.seen
    authorization = seen["headers"]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert json.loads(seen["body"]) == {"repository": "team/api"}


@pytest.mark.usefixtures("credentials")
def test_the_query_is_sent_and_an_error_status_is_returned_not_raised(api: str):
    resp = AwsSession(region="eu-west-2").signed_request("GET", f"{api}/missing", query={"tag": "v1"})
    assert (resp.status, resp.body) == (404, {"error": "ImageNotFound"})
    (seen,) = _Recorder.seen
    assert seen["path"] == "/missing?tag=v1"
    assert "/eu-west-2/execute-api/" in seen["headers"]["Authorization"]
