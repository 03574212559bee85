"""The one place domain errors become RFC 9457 application/problem+json responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from paygod.canonical import CanonicalizationError
from paygod.kernel.database import write_refusal
from paygod.kernel.errors import (
    PROBLEM_BASE,
    FieldError,
    InvalidInput,
    KernelCode,
    PaygodError,
    Unavailable,
)
from paygod.kernel.logging import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger("paygod.api")
REFUSAL_RETRY_AFTER = 2


def problem_response(
    status: int,
    *,
    type_uri: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: Sequence[FieldError] = (),
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": type_uri, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def pointer_from_loc(loc: Sequence[Any]) -> str:
    """('body', 'amount') → '/amount': an RFC 6901 pointer into the request body."""
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        source = parts.pop(0)
        if source != "body":
            return f"#{source}/" + "/".join(str(p) for p in parts)
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def from_error(request: Request, exc: PaygodError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return problem_response(
        exc.status,
        type_uri=exc.type_uri,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        extra=exc.extra,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(PaygodError)
    async def _domain(request: Request, exc: PaygodError) -> Response:
        return from_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            FieldError(pointer_from_loc(e.get("loc", ())), str(e.get("msg", "invalid")))
            for e in exc.errors()
        ]
        detail = "the request does not match the schema; nothing was recorded"
        return from_error(request, InvalidInput(detail, errors=errors))

    @app.exception_handler(CanonicalizationError)
    async def _uncanonical(request: Request, exc: CanonicalizationError) -> Response:
        # A value with no RFC 8785 form (an integer beyond 2^53, NaN, a lone surrogate) can
        # never be sealed; sealing is atomic, so nothing was recorded. Bad input, not a 500.
        detail = "the request holds a value with no canonical JSON form; nothing was recorded"
        return from_error(request, InvalidInput(detail, errors=[FieldError("", str(exc))]))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        slug = {
            404: KernelCode.NOT_FOUND,
            405: KernelCode.METHOD_NOT_ALLOWED,
            413: KernelCode.PAYLOAD_TOO_LARGE,
        }.get(exc.status_code, KernelCode.HTTP_ERROR)
        return problem_response(
            exc.status_code,
            type_uri=PROBLEM_BASE + slug,
            title=str(exc.detail) if exc.status_code != 404 else "Not found",
            detail=str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        reason = write_refusal(exc)
        if reason is not None:
            # A module's own write met a store that refuses writes (read-only, full disk):
            # the transaction rolled back, nothing was recorded, the caller may retry.
            log.warning("store_refuses_writes", path=request.url.path, reason=reason)
            return from_error(
                request,
                Unavailable(
                    f"the store refuses writes (read-only mode): {reason}",
                    retry_after=REFUSAL_RETRY_AFTER,
                ),
            )
        log.error("unhandled_error", path=request.url.path, exc_info=exc)
        return problem_response(
            500,
            type_uri=PROBLEM_BASE + PaygodError.code,
            title=PaygodError.title,
            detail="an unexpected error occurred; it has been logged with the request id",
            instance=request.url.path,
        )


# RFC 9457 §3, as every error response of this API is written (problem_response).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "message"],
                "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}


def document_problems(app: FastAPI) -> None:
    """Say in the OpenAPI document what every operation really answers on failure.

    FastAPI documents a 422 as `application/json` HTTPValidationError, which this API never
    sends, and nothing else; a client generator or a schema-conformance check (schemathesis)
    then meets undocumented statuses and content types. Every operation gets the 422 as
    problem+json and a `default` problem+json response for the other errors (401, 403, 404,
    409, 413, 429, 503), unless it documents its own."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {
            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}},
        }
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                if method not in {"get", "put", "post", "delete", "patch"}:
                    continue
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": "Invalid input", "content": problem}
                responses.setdefault("default", {"description": "Error", "content": problem})
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
