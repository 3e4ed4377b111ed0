"""The committed contract files: sample events and docs/openapi.json stay true to the code."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from ecr_archiver.restore.models import ImageQuery, RestoreRequest
from tests.unit.restore.support import GET_EVENT, POST_EVENT, ROOT, load_app

OPENAPI = ROOT / "docs" / "openapi.json"


@pytest.mark.parametrize("path", [POST_EVENT, GET_EVENT], ids=lambda p: p.name)
def test_sample_event_is_a_rest_api_proxy_event(path: object) -> None:
    event = APIGatewayProxyEventModel.model_validate_json(path.read_text())  # type: ignore[attr-defined]
    assert event.requestContext.requestId
    assert event.requestContext.identity.userArn, "AWS_IAM requests carry the caller's ARN"


def test_post_sample_carries_a_valid_restore_request() -> None:
    event = json.loads(POST_EVENT.read_text())
    assert (event["httpMethod"], event["path"]) == ("POST", "/restores")
    assert RestoreRequest.model_validate_json(event["body"]).tag == "v1.2.3"


def test_get_sample_carries_a_valid_image_query() -> None:
    event = json.loads(GET_EVENT.read_text())
    assert (event["httpMethod"], event["path"]) == ("GET", "/images")
    assert ImageQuery.model_validate(event["queryStringParameters"]).tag == "v1.2.3"


def test_committed_openapi_matches_the_resolver() -> None:
    generated = load_app().openapi_document()
    assert OPENAPI.read_text() == generated + "\n", (
        "docs/openapi.json is stale: run `python functions/restore_api/app.py > docs/openapi.json`"
    )


def test_openapi_documents_every_route_with_sigv4() -> None:
    spec = json.loads(OPENAPI.read_text())
    assert set(spec["paths"]) == {"/restores", "/images"}
    assert spec["security"] == [{"sigv4": []}]
    assert spec["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_openapi_documents_every_error_status() -> None:
    post = json.loads(OPENAPI.read_text())["paths"]["/restores"]["post"]["responses"]
    assert {"200", "202", "400", "403", "404", "409", "422", "429", "500"} <= set(post)
