"""Deploy rehearsal: the real ``sam deploy`` packages the built stack and creates a change set.

Against a local moto server (CloudFormation and S3), with the command an operator can copy:

    AWS_ENDPOINT_URL=http://localhost:PORT sam deploy --template-file .aws-sam/build/template.yaml \\
        --stack-name NAME --s3-bucket BUCKET --no-resolve-s3 --no-execute-changeset \\
        --no-confirm-changeset --capabilities CAPABILITY_IAM --region us-east-1

``--no-resolve-s3`` is needed because samconfig.toml sets ``resolve_s3 = true``, which sam refuses
together with ``--s3-bucket``; and the endpoint must be ``localhost`` (sam builds S3 URLs from it).
This proves packaging with the real sam-cli: CodeUri and the layer upload, and a template
CloudFormation accepts. It reuses the ``sam build`` output that ``make test`` builds first.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.template.conftest import ROOT

BUILT_TEMPLATE = ROOT / ".aws-sam" / "build" / "template.yaml"
BUCKET = "rehearsal-artifacts"
STACK = "ecr-archiver-rehearsal"

pytestmark = [pytest.mark.slow, pytest.mark.server]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://localhost:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def built_template() -> Path:
    if not BUILT_TEMPLATE.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("sam build output missing under CI: `make test` must build before pytest")
        pytest.skip("no sam build output; run `make build`")
    return BUILT_TEMPLATE


def aws_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAM_CLI_TELEMETRY": "0",
    }


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def change_set(endpoint: str, built_template: Path) -> dict[str, Any]:
    client("s3", endpoint).create_bucket(Bucket=BUCKET)
    command = [
        str(ROOT / ".venv" / "bin" / "sam"),
        "deploy",
        "--template-file", str(built_template),
        "--stack-name", STACK,
        "--s3-bucket", BUCKET,
        "--no-resolve-s3",
        "--no-execute-changeset",
        "--no-confirm-changeset",
        "--no-progressbar",
        "--capabilities", "CAPABILITY_IAM",
        "--region", "us-east-1",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=aws_env(endpoint), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Changeset created successfully" in done.stdout
    cfn = client("cloudformation", endpoint)
    (summary,) = cfn.list_change_sets(StackName=STACK)["Summaries"]
    return dict(cfn.describe_change_set(StackName=STACK, ChangeSetName=summary["ChangeSetId"]))


def test_the_change_set_adds_every_resource_of_the_template(change_set: dict[str, Any], main_template):  # type: ignore[no-untyped-def]
    # Every condition holds with the default parameters, so every resource is created.
    listed = {c["ResourceChange"]["LogicalResourceId"] for c in change_set["Changes"]}
    # nested applications (templates/*.yaml) are one AWS::CloudFormation::Stack each
    assert listed == set(main_template["Resources"])
    assert {c["ResourceChange"]["Action"] for c in change_set["Changes"]} == {"Add"}


def test_sam_uploaded_the_code_and_the_layer(change_set: dict[str, Any], endpoint: str):
    keys = [o["Key"] for o in client("s3", endpoint).list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    # one artifact per function and the layer, plus the packaged template
    assert len(keys) >= 5, keys
