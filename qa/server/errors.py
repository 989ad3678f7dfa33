"""Errors as the HTTP API reports them: ``{"error": {"code": ..., "message": ...}}``.

Every failure a client can see has that one shape, with a one-line message
and a status that says whose fault it was (4xx: the request, 5xx: the
server), so a client needs one error path. The engine's own errors carry
messages written for people, so they are passed on as they are; anything
unexpected is logged here and answered with a bare 500 that shows no
internals (no traceback, no paths).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.errors import EmptyQuestionError, IndexError_, InvalidInputError, NewsdeskError
from qa.textsafe import one_line

log = logging.getLogger("qa.server")

#: Longest message put in an error body.
MAX_MESSAGE_CHARS = 300

#: Engine errors by status and code; the first class a raised error is an instance of wins.
ENGINE_ERRORS: tuple[tuple[type[NewsdeskError], int, str], ...] = (
    (EmptyQuestionError, 400, "empty_question"),
    (InvalidInputError, 422, "invalid_input"),
    (IndexError_, 503, "index_unavailable"),
    (NewsdeskError, 400, "bad_request"),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """A failure the server reports on purpose, with its status and code."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def error_body(*, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": one_line(message, MAX_MESSAGE_CHARS)}}


def error_response(*, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code=code, message=message), status_code=status, headers=dict(headers or {}))


def engine_error(exc: NewsdeskError) -> ApiError:
    """The ApiError for an engine error: its own one-line message, the status its class deserves."""
    for cls, status, code in ENGINE_ERRORS:
        if isinstance(exc, cls):
            return ApiError(status, code, str(exc) or cls.__name__)
    raise AssertionError("unreachable: NewsdeskError is in the table")


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    """(status, code, message) for a request FastAPI could not parse into its model."""
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        return 400, "malformed_json", f"the request body is not valid JSON ({detail})".replace(" ()", "")
    if isinstance(first.get("input"), (bytes, bytearray)):
        return 415, "unsupported_media_type", "send the request body as JSON with Content-Type: application/json"
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return 422, "invalid_request", f"{where}: {first.get('msg', 'invalid value')}{more}"


def install_error_handlers(app: FastAPI) -> None:
    """Route every error FastAPI or the engine raises to the one error shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(status=exc.status, code=exc.code, message=exc.message, headers=exc.headers)

    @app.exception_handler(NewsdeskError)
    async def _engine(_: Request, exc: NewsdeskError) -> JSONResponse:
        err = engine_error(exc)
        return error_response(status=err.status, code=err.code, message=err.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc)
        return error_response(status=status, code=code, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(status=exc.status_code, code=code, message=message, headers=exc.headers)


class GuardMiddleware:
    """Limits request bodies and turns an unexpected exception into a logged JSON 500.

    A plain ASGI middleware rather than an ``Exception`` handler: Starlette
    re-raises after such a handler, which would print the traceback a second
    time; here the error ends where it is logged. The body limit is here too
    (not Starlette's), so a 413 has the same JSON shape as every other error.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"the request body is larger than {self.max_body_bytes} bytes"
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            bad = not declared.isdigit()
            await error_response(
                status=400 if bad else 413,
                code="bad_request" if bad else "body_too_large",
                message="invalid Content-Length" if bad else too_large,
            )(scope, receive, send)
            return
        started, seen = False, 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:  # FastAPI passes an HTTPException raised here on to its handler
                    raise StarletteHTTPException(413, too_large)
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:  # the status line is out; all that is left is to end the connection
                raise
            response = error_response(
                status=500,
                code="internal_error",
                message="the server failed to answer this request; it has been logged",
            )
            await response(scope, receive, send)
