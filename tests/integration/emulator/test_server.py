"""A representative subset through the HTTP server, plus the ``/_emulator/`` control routes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_archiver.archiving.config import DEFAULT_CONFIG_PARAMETER
from ecr_emulator.pytest_plugin import EmulatorServer

from .helpers import error_code, new_client
from .policies import ARCHIVE_NOT_PULLED_90_DAYS, as_text

pytestmark = pytest.mark.server

REPO = "team/app"


def control(server: EmulatorServer, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{server.url}/_emulator/{route}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def client(server: EmulatorServer, service: str = "ecr", **config: Any) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=server.url, config=Config(**config))


def test_health_and_clock_routes(emulator_server: EmulatorServer) -> None:
    assert control(emulator_server, "GET", "health")["status"] == "ok"
    now = control(emulator_server, "POST", "clock", {"set": "2030-01-01T00:00:00Z"})["now"]
    assert now.startswith("2030-01-01T00:00:00")
    later = control(emulator_server, "POST", "clock", {"advance_seconds": 90})["now"]
    assert later.startswith("2030-01-01T00:01:30")
    assert control(emulator_server, "GET", "clock")["now"] == later
    assert emulator_server.emulator.clock.now().isoformat() == later


def test_push_archive_restore_and_pull_over_http(emulator_server: EmulatorServer) -> None:
    ecr = client(emulator_server)
    ecr.create_repository(repositoryName=REPO)
    digest = control(emulator_server, "POST", "images", {"repository": REPO, "tags": ["v1"]})["digest"]
    index = control(emulator_server, "POST", "images", {"repository": REPO, "kind": "index", "tags": "multi"})
    control(emulator_server, "POST", "settings", {"restore_delay_seconds": 60})

    assert (
        ecr.update_image_storage_class(
            repositoryName=REPO, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
        )["imageStatus"]
        == "ARCHIVED"
    )
    with pytest.raises(ClientError) as exc:
        ecr.update_image_storage_class(
            repositoryName=REPO, imageId={"imageDigest": index["children"][0]}, targetStorageClass="ARCHIVE"
        )
    assert error_code(exc) == "ImageStorageClassUpdateNotSupportedException"
    assert ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])["failures"][0][
        "failureCode"
    ] == ("ImageInaccessible")
    active = ecr.describe_images(repositoryName=REPO)["imageDetails"]
    archived = ecr.describe_images(repositoryName=REPO, filter={"imageStatus": "ARCHIVED"})["imageDetails"]
    assert digest not in {d["imageDigest"] for d in active}
    assert [d["imageDigest"] for d in archived] == [digest]

    ecr.update_image_storage_class(
        repositoryName=REPO, imageId={"imageTag": "v1"}, targetStorageClass="STANDARD"
    )
    assert (
        control(emulator_server, "GET", f"images/status?repository={REPO}&digest={digest}")["status"]
        == "ACTIVATING"
    )
    control(emulator_server, "POST", "clock", {"advance_seconds": 60})
    assert ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])["failures"] == []
    (detail,) = ecr.describe_images(repositoryName=REPO, imageIds=[{"imageDigest": digest}])["imageDetails"]
    assert "lastRecordedPullTime" in detail
    assert "lastActivatedAt" in detail


def test_preview_referrers_and_exclusions_over_http(emulator_server: EmulatorServer) -> None:
    ecr = client(emulator_server)
    ecr.create_repository(repositoryName=REPO)
    old = control(
        emulator_server,
        "POST",
        "images",
        {"repository": REPO, "tags": "old", "pushed_at": "2020-01-01T00:00:00Z"},
    )
    sig = control(
        emulator_server, "POST", "images", {"repository": REPO, "kind": "signature", "subject": old["digest"]}
    )
    control(
        emulator_server,
        "POST",
        "images/times",
        {"repository": REPO, "digest": sig["digest"], "pushed_at": "2099-01-01T00:00:00Z"},
    )

    ecr.start_lifecycle_policy_preview(
        repositoryName=REPO, lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
    )
    preview = ecr.get_lifecycle_policy_preview(repositoryName=REPO)
    referrers = ecr.list_image_referrers(repositoryName=REPO, subjectId={"imageDigest": old["digest"]})[
        "referrers"
    ]
    ecr.register_pull_time_update_exclusion(principalArn="arn:aws:iam::123456789012:role/scanner")

    assert preview["status"] == "COMPLETE"
    assert [r["imageDigest"] for r in preview["previewResults"]] == [old["digest"]]
    assert [r["digest"] for r in referrers] == [sig["digest"]]
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [
        "arn:aws:iam::123456789012:role/scanner"
    ]


def test_fault_routes_and_call_counts(emulator_server: EmulatorServer) -> None:
    ecr = client(emulator_server, retries={"total_max_attempts": 1})
    ecr.create_repository(repositoryName=REPO)
    control(
        emulator_server,
        "POST",
        "faults",
        {"operation": "DescribeImages", "count": 1, "error_code": "ThrottlingException"},
    )

    with pytest.raises(ClientError) as exc:
        ecr.describe_images(repositoryName=REPO)
    assert error_code(exc) == "ThrottlingException"
    ecr.describe_images(repositoryName=REPO)

    counts = control(emulator_server, "GET", "calls")
    assert counts["calls"]["DescribeImages"] == 2
    assert counts["throttled"] == {"DescribeImages": 1}
    control(emulator_server, "POST", "faults", {"operation": "ListImages", "latency": 0.2})
    assert "ListImages" in control(emulator_server, "GET", "faults")["faults"]
    assert control(emulator_server, "DELETE", "faults")["faults"] == {}
    assert control(emulator_server, "DELETE", "calls")["calls"] == {}


def test_reset_route(emulator_server: EmulatorServer) -> None:
    ecr = client(emulator_server)
    ecr.create_repository(repositoryName=REPO)
    control(emulator_server, "POST", "reset")
    assert ecr.describe_repositories()["repositories"] == []


def test_bad_control_requests(emulator_server: EmulatorServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc:
        control(emulator_server, "POST", "clock", {"nonsense": 1})
    assert exc.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as exc:
        control(emulator_server, "GET", "nowhere")
    assert exc.value.code == 404


def test_other_moto_services_are_served(emulator_server: EmulatorServer) -> None:
    ssm = client(emulator_server, "ssm")
    ssm.put_parameter(Name=DEFAULT_CONFIG_PARAMETER, Value="{}", Type="String")
    assert ssm.get_parameter(Name=DEFAULT_CONFIG_PARAMETER)["Parameter"]["Value"] == "{}"
    sqs = client(emulator_server, "sqs")
    assert sqs.create_queue(QueueName="jobs")["QueueUrl"]
    assert client(emulator_server, "sts").get_caller_identity()["Account"] == "123456789012"


def test_server_rejects_short_policies_that_botocore_would_stop(emulator_server: EmulatorServer) -> None:
    client(emulator_server).create_repository(repositoryName=REPO)
    body = json.dumps({"repositoryName": REPO, "lifecyclePolicyText": '{"rules":[]}'}).encode()
    request = urllib.request.Request(emulator_server.url + "/", data=body, method="POST")
    request.add_header("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.PutLifecyclePolicy")
    request.add_header("Content-Type", "application/x-amz-json-1.1")
    request.add_header(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ecr/aws4_request, "
        "SignedHeaders=host, Signature=x",
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=10)
    assert exc.value.code == 400
    assert json.loads(exc.value.read())["__type"].endswith("InvalidParameterException")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_python_dash_m_entry_point() -> None:
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ecr_emulator", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=1) as resp:
                    assert json.loads(resp.read())["status"] == "ok"
                break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        ecr = new_client(
            "ecr",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        ecr.create_repository(repositoryName=REPO)
        assert ecr.describe_images(repositoryName=REPO, filter={"imageStatus": "ANY"})["imageDetails"] == []
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_concurrent_calls_are_consistent(emulator_server: EmulatorServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ecr = client(emulator_server, max_pool_connections=16)
    ecr.create_repository(repositoryName=REPO)
    digests = [emulator_server.emulator.push_image(REPO, f"t{i}") for i in range(120)]

    def archive(digest: str) -> str:
        resp = ecr.update_image_storage_class(
            repositoryName=REPO, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
        )
        return str(resp["imageStatus"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(archive, digests))

    assert statuses == ["ARCHIVED"] * 120
    assert emulator_server.emulator.calls["UpdateImageStorageClass"] == 120
    archived = ecr.describe_images(repositoryName=REPO, filter={"imageStatus": "ARCHIVED"}, maxResults=1000)
    assert len(archived["imageDetails"]) == 120
