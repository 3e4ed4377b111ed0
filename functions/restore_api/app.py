"""restore_api: the IAM-authorised REST API that restores archived ECR images on demand.

``POST /restores`` starts a restore (202) or reports that none is needed (200);
``GET /images`` reports an image's storage status. The routes parse and validate the request
into ``ecr_archiver.restore.models``, call one logic function, and return its model. The
exception handlers below are the one place where errors become HTTP status codes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecr_archiver import errors
from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.models import ImageStatus
from ecr_archiver.observability import logger, metrics, tracer
from ecr_archiver.restore.errors import RepositoryNotAllowed
from ecr_archiver.restore.logic import describe_image_status, restore_image
from ecr_archiver.restore.models import (
    ErrorBody,
    FieldProblem,
    ImageQuery,
    ImageStatusResponse,
    RestoreRequest,
    RestoreResponse,
)
from ecr_archiver.restore.settings import RestoreApiSettings
from ecr_archiver.settings import load_settings

SETTINGS = load_settings(RestoreApiSettings)

JSON_MEDIA_TYPE = "application/json"


class JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, for an API whose bodies are JSON and nothing else.

    Powertools also parses form and multipart bodies, and matches ``application/json`` by a
    case-sensitive prefix. Here any other media type is 415, and the media type is compared
    case-insensitively as RFC 9110 says (``Application/JSON; charset=UTF-8`` is JSON).
    """

    def _get_body(self, app: Any) -> dict[str, Any]:
        header = app.current_event.headers.get("content-type") or ""
        media_type = header.split(";", 1)[0].strip().lower()
        if media_type not in ("", JSON_MEDIA_TYPE):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": header, "input": {}}],
            )
        return self._parse_json_data(app)


app = APIGatewayRestResolver(enable_validation=True)
# The resolver's request-validation step (Powertools leaves the middleware's __init__ unannotated).
app._request_validation_middleware = JsonBodiesOnly()  # type: ignore[no-untyped-call]


def _error_response(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


_COMMON_ERRORS: dict[int, OpenAPIResponse] = {
    400: _error_response("Malformed request (e.g. the body is not JSON), or ECR rejected a parameter."),
    403: _error_response("The repository is outside the restore allow-list."),
    404: _error_response("Unknown repository or image."),
    422: _error_response("Invalid input; `fields` names each invalid field."),
    429: _error_response("ECR is throttling; retry after the `Retry-After` seconds."),
    500: _error_response("Unexpected error; quote `correlationId` to operators."),
}


@app.post(
    "/restores",
    summary="Restore an archived image",
    description=(
        "ARCHIVED: starts UpdateImageStorageClass to STANDARD (with archived referrers when "
        "`includeReferrers`) and answers 202 ACTIVATING. ACTIVATING: 202, nothing new is started. "
        "ACTIVE: 200, nothing is done. The image is pullable once a GET reports ACTIVE "
        "(typically within 20 minutes); an SNS notice is also published."
    ),
    responses={
        200: {"description": "The image is ACTIVE: nothing to restore."},
        202: {"description": "The restore is running (ACTIVATING)."},
        409: _error_response("ECR cannot restore this image (ImageStorageClassUpdateNotSupportedException)."),
        **_COMMON_ERRORS,
    },
    tags=["restore"],
    operation_id="startRestore",
)
def post_restores(request: RestoreRequest) -> Response[RestoreResponse]:
    result = restore_image(request, registry=EcrRegistry(), allowed=SETTINGS.allowed_repositories)
    status = HTTPStatus.OK if result.status is ImageStatus.ACTIVE else HTTPStatus.ACCEPTED
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=result)


@app.get(
    "/images",
    summary="Report an image's storage status",
    responses={200: {"description": "The image and its storage status."}, **_COMMON_ERRORS},
    tags=["restore"],
    operation_id="getImageStatus",
)
def get_images(query: Annotated[ImageQuery, Query()]) -> ImageStatusResponse:
    return describe_image_status(query, registry=EcrRegistry(), allowed=SETTINGS.allowed_repositories)


# -- the one place errors become HTTP ----------------------------------------------------
_STATUS_BY_ERROR: dict[type[errors.EcrArchiverError], HTTPStatus] = {
    RepositoryNotAllowed: HTTPStatus.FORBIDDEN,
    errors.RepositoryNotFound: HTTPStatus.NOT_FOUND,
    errors.ImageNotFound: HTTPStatus.NOT_FOUND,
    errors.StorageClassUpdateNotSupported: HTTPStatus.CONFLICT,
    errors.Throttled: HTTPStatus.TOO_MANY_REQUESTS,
    errors.InvalidParameter: HTTPStatus.BAD_REQUEST,
}


def _json(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
        headers=headers,
    )


@app.exception_handler(errors.EcrArchiverError)  # type: ignore[untyped-decorator]
def _domain_error(exc: errors.EcrArchiverError) -> Response[Any]:
    status = next((s for cls, s in _STATUS_BY_ERROR.items() if isinstance(exc, cls)), None)
    if status is None:
        return _internal_error()
    logger.info("request refused", extra={"error": exc.code, "status": int(status)})
    headers = (
        {"Retry-After": str(SETTINGS.retry_after_seconds)} if status is HTTPStatus.TOO_MANY_REQUESTS else None
    )
    return _json(status, ErrorBody(error=exc.code, message=exc.message), headers)


def _field_name(loc: tuple[str | int, ...]) -> str:
    """``("query", "query", "tag")`` -> ``query.tag``: drop the name of the route's query-model parameter."""
    if loc[:2] == ("query", "query"):
        loc = loc[:1] + loc[2:]
    return errors.dotted_path(loc)


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    if any(err["type"] == "json_invalid" for err in exc.errors()):
        return _json(
            HTTPStatus.BAD_REQUEST,
            ErrorBody(
                error="MalformedRequest",
                message="the body is not valid JSON",
                fields=[FieldProblem(field="body", message="JSON decode error")],
            ),
        )
    problems = [
        FieldProblem(
            field=_field_name(err["loc"]),
            message=str(err.get("msg", err["type"])).removeprefix("Value error, "),
        )
        for err in exc.errors()
    ]
    names = ", ".join(p.field for p in problems)
    return _json(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        ErrorBody(error="ValidationError", message=f"invalid input: {names}", fields=problems),
    )


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
def _unsupported_content_type(exc: RequestUnsupportedContentType) -> Response[Any]:
    return _json(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        ErrorBody(error="UnsupportedMediaType", message=f"send the body as {JSON_MEDIA_TYPE}"),
    )


@app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]
def _service_error(exc: ServiceError) -> Response[Any]:
    """Powertools' own HTTP errors, e.g. NotFoundError for an unknown route."""
    return _json(
        exc.status_code, ErrorBody(error=HTTPStatus(exc.status_code).phrase.replace(" ", ""), message=exc.msg)
    )


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected(exc: Exception) -> Response[Any]:
    return _internal_error()


def _internal_error() -> Response[Any]:
    """500 with the request id to quote; the stack trace goes to the logs, never to the caller."""
    logger.exception("unexpected error")
    correlation_id = logger.get_correlation_id()
    return _json(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        ErrorBody(
            error="InternalError",
            message=f"unexpected error; quote correlation id {correlation_id} to your operators",
            correlation_id=correlation_id,
        ),
    )


def openapi_document() -> str:
    """The OpenAPI document committed as ``docs/openapi.json`` (a test keeps the two equal)."""
    # Imported here, not at module level: ~100 pydantic models that only the document needs
    # (a third of the handler's import time otherwise).
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server, ServerVariable

    return app.get_openapi_json_schema(
        title="ecr-archiver restore API",
        version="0.1.0",
        openapi_version="3.1.0",
        description=(
            "Restore archived Amazon ECR images on demand. Every route requires AWS Signature Version 4 "
            "(API Gateway AWS_IAM authorisation, action execute-api:Invoke)."
        ),
        servers=[
            Server(
                url="https://{restApiId}.execute-api.{region}.amazonaws.com/v1",
                description="The RestoreApiUrl output of the stack.",
                variables={
                    "restApiId": ServerVariable(default="restApiId", description="API id (stack output)."),
                    "region": ServerVariable(default="eu-west-1", description="Region of the stack."),
                },
            )
        ],
        security_schemes={
            "sigv4": APIKey(
                name="Authorization",
                in_=APIKeyIn.header,
                description="AWS Signature Version 4 (API Gateway AWS_IAM authorisation).",
                openapi_extensions={"x-amazon-apigateway-authtype": "awsSigv4"},
            )
        },
        security=[{"sigv4": []}],
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


if (
    __name__ == "__main__"
):  # regenerate the committed spec: python functions/restore_api/app.py > docs/openapi.json
    print(openapi_document())
