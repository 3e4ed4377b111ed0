"""parse_demand: what each source event asks for, and a one-line reason for what it cannot."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ecr_archiver.restore.auto.events import MalformedEvent, parse_demand
from ecr_archiver.restore.auto.models import WorkloadKind

EVENTS = Path(__file__).resolve().parents[3] / "events"
DIGEST = "sha256:" + "ab" * 32


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((EVENTS / f"auto_restore_{name}.json").read_text()))


class TestEcsTaskStateChange:
    def test_the_sample_names_the_service_cluster_task_definition_and_image(self) -> None:
        demand = parse_demand(sample("ecs_task_stopped"))

        assert demand.workload.kind is WorkloadKind.ECS_TASK
        assert (demand.workload.cluster, demand.workload.service) == ("prod", "orders-api")
        assert demand.workload.task_definition == "orders-api:42"
        assert [i.written.split("/", 1)[-1] for i in demand.images] == [
            "team/api:v1.4.2",
            "aws-observability/aws-for-fluent-bit:stable",  # a sidecar from ECR Public
        ]

    def test_a_digest_ecs_resolved_is_used_when_the_uri_has_a_tag(self) -> None:
        event = sample("ecs_task_stopped")
        event["detail"]["containers"][0]["imageDigest"] = DIGEST

        image = parse_demand(event).images[0]

        assert image.image is not None
        assert image.image.digest == DIGEST

    def test_a_task_outside_a_service_names_its_group(self) -> None:
        event = sample("ecs_task_stopped")
        event["detail"]["group"] = "family:batch"

        workload = parse_demand(event).workload

        assert (workload.service, workload.group) == (None, "family:batch")

    def test_two_containers_on_one_image_ask_once(self) -> None:
        event = sample("ecs_task_stopped")
        before = len(parse_demand(event).images)
        event["detail"]["containers"].append(copy.deepcopy(event["detail"]["containers"][0]))

        assert len(parse_demand(event).images) == before

    def test_no_container_image_is_malformed(self) -> None:
        event = sample("ecs_task_stopped")
        for container in event["detail"]["containers"]:
            container.pop("image", None)

        with pytest.raises(MalformedEvent, match=r"no container names an image"):
            parse_demand(event)

    def test_a_missing_cluster_names_the_field(self) -> None:
        event = sample("ecs_task_stopped")
        del event["detail"]["clusterArn"]

        with pytest.raises(MalformedEvent, match=r"aws.ecs event: .*clusterArn"):
            parse_demand(event)


class TestLambdaDeployFailure:
    def test_update_function_code_names_the_function_and_its_error(self) -> None:
        demand = parse_demand(sample("lambda_update_failed"))

        assert demand.workload.kind is WorkloadKind.LAMBDA_FUNCTION
        assert demand.workload.function_name == "billing-worker"
        assert demand.workload.error_code
        assert [i.written for i in demand.images] == [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/worker:2026.04.1"
        ]

    def test_create_function_reads_code_image_uri_and_a_function_arn(self) -> None:
        event = sample("lambda_update_failed")
        request = event["detail"]["requestParameters"]
        request["code"] = {"imageUri": request.pop("imageUri")}
        request["functionName"] = "arn:aws:lambda:us-east-1:123456789012:function:billing-worker:live"
        event["detail"]["eventName"] = "CreateFunction20150331"

        demand = parse_demand(event)

        assert demand.workload.function_name == "billing-worker"
        assert demand.images[0].image is not None

    def test_a_zip_function_is_malformed(self) -> None:
        event = sample("lambda_update_failed")
        del event["detail"]["requestParameters"]["imageUri"]

        with pytest.raises(MalformedEvent, match=r"no imageUri"):
            parse_demand(event)


class TestEcrPull:
    def test_a_pull_by_tag_names_the_repository_and_principal(self) -> None:
        demand = parse_demand(sample("ecr_batch_get_image"))

        assert demand.workload.kind is WorkloadKind.IMAGE_PULL
        assert [i.written for i in demand.images] == ["platform/base:3.2.0"]
        assert demand.workload.principal

    def test_a_pull_by_digest_without_registry_id_uses_the_receiving_account(self) -> None:
        event = sample("ecr_batch_get_image")
        del event["detail"]["requestParameters"]["registryId"]
        event["detail"]["requestParameters"]["imageIds"] = [{"imageDigest": DIGEST}]

        [image] = parse_demand(event).images

        assert image.image is not None
        assert (image.image.registry_id, image.image.digest) == ("123456789012", DIGEST)

    def test_an_image_id_with_neither_tag_nor_digest_is_a_problem_not_a_crash(self) -> None:
        event = sample("ecr_batch_get_image")
        event["detail"]["requestParameters"]["imageIds"] = [{}]

        [image] = parse_demand(event).images

        assert image.image is None
        assert image.problem == "imageIds entry has neither imageTag nor imageDigest"


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ([], "not a JSON object"),
        ({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}, "not an ECS task state change"),
        ({"source": "aws.ecs", "detail-type": "ECS Task State Change"}, "aws.ecs event"),
    ],
)
def test_malformed_events_get_one_line_naming_the_problem(event: Any, says: str) -> None:
    with pytest.raises(MalformedEvent) as raised:
        parse_demand(event)

    assert says in str(raised.value)
    assert "\n" not in str(raised.value)
