"""A stand-in for the deployed stack: what the template creates, and the handlers' environment.

The configuration parameter, the work queue, the report bucket, the state table and the restore
notice topic; the teams' pull-time exclusion declarations in Parameter Store; and the settings
each handler would get from the template.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from ecr_archiver.archiving.config import DEFAULT_CONFIG_PARAMETER
from ecr_emulator.emulator import DUMMY_CREDENTIALS, Emulator
from ecr_harness.seed import Seeded

if TYPE_CHECKING:
    from mypy_boto3_ssm.literals import ParameterTypeType

CONFIG_PARAMETER = DEFAULT_CONFIG_PARAMETER
EXCLUSIONS_PATH = "/ecr-archiver/pull-time-exclusions/"
QUEUE_NAME = "ecr-archiver-work"
BUCKET = "ecr-archiver-reports"
STATE_TABLE = "ecr-archiver-state"
PREVIEW_DELAY_SECONDS = 120
PREVIEW_RETRY_SECONDS = 60
#: Previews take 2.5 minutes (emulator clock): the first delivery finds them IN_PROGRESS.
PREVIEW_TAKES = timedelta(seconds=150)

EXCLUSION_DECLARATIONS: dict[str, tuple[ParameterTypeType, str]] = {
    "security-scanners": (
        "StringList",
        "arn:aws:iam::123456789012:role/snyk-scanner,arn:aws:iam::123456789012:role/trivy",
    ),
    "platform/ci": (
        "String",
        "arn:aws:iam::123456789012:role/ci/health-check\narn:aws:iam::210987654321:role/crowdstrike-scan",
    ),
}
HAND_ADDED_EXCLUSION = "arn:aws:iam::123456789012:role/old-scanner"
#: The stack's worker role: the demo's credentials act as it, and (as the deployed exclusion sync
#: does for the stack's own roles) it is in the pull-time update exclusion list, so index
#: manifests are read exactly and no pull time moves.
WORKER_ROLE = "arn:aws:iam::123456789012:role/ecr-archiver-ArchiveImagesRole-DEMO"


def declared_exclusions() -> set[str]:
    """Every principal the declarations name, and the stack's own role (always kept)."""
    values = (value.replace("\n", ",") for _, value in EXCLUSION_DECLARATIONS.values())
    return {arn.strip() for value in values for arn in value.split(",")} | {WORKER_ROLE}


def seed_stack(emu: Emulator, seeded: Seeded) -> dict[str, str]:
    """What the template creates (config, queue, bucket), the declarations, and the handlers' env."""
    import boto3

    from ecr_archiver.archiving.config import DEFAULT_CONFIG

    ssm = boto3.client("ssm", region_name=emu.region)
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    config["dryRun"] = False  # the demo archives for real (the stack ships with dryRun true)
    legacy = next(iter(k for k in seeded.protected if "protect.images" in k)).split(" ")[0]
    config["protect"]["images"] = [legacy]
    ssm.put_parameter(Name=CONFIG_PARAMETER, Value=json.dumps(config), Type="String")
    for team, (type_, value) in EXCLUSION_DECLARATIONS.items():
        ssm.put_parameter(Name=f"{EXCLUSIONS_PATH}{team}", Value=value, Type=type_)
    ecr = boto3.client("ecr", region_name=emu.region)
    ecr.register_pull_time_update_exclusion(principalArn=HAND_ADDED_EXCLUSION)
    ecr.register_pull_time_update_exclusion(principalArn=WORKER_ROLE)
    emu.principals[DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"]] = WORKER_ROLE
    sqs = boto3.client("sqs", region_name=emu.region)
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "960"})["QueueUrl"]
    boto3.client("s3", region_name=emu.region).create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb", region_name=emu.region).create_table(
        TableName=STATE_TABLE,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = boto3.client("sns", region_name=emu.region).create_topic(Name="ecr-archiver-restore-notices")
    return {
        "CONFIG_PARAMETER_NAME": CONFIG_PARAMETER,
        "WORK_QUEUE_URL": queue_url,
        "REPORT_BUCKET": BUCKET,
        "DRY_RUN": "false",
        "PREVIEW_DELAY_SECONDS": str(PREVIEW_DELAY_SECONDS),
        "PREVIEW_RETRY_SECONDS": str(PREVIEW_RETRY_SECONDS),
        "ARCHIVE_MAX_TPS": "1000",
        "ARCHIVE_CONCURRENCY": "8",
        "RESTORE_ALLOWED_REPOSITORIES": "*",
        "EXCLUSIONS_PARAMETER_PATH": EXCLUSIONS_PATH,
        "WORKER_ROLE_ARN": WORKER_ROLE,
        "OWN_ROLE_ARNS": WORKER_ROLE,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_PARAMETERS_MAX_AGE": "0",
        "STATE_TABLE_NAME": STATE_TABLE,
        "RESTORE_NOTICE_TOPIC_ARN": topic["TopicArn"],
        "REGISTRY_ID": emu.account_id,
        "AWS_REGION": emu.region,
    }
