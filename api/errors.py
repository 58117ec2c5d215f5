"""Maps domain errors and HTTP errors to one JSON shape: {code, status, message, errors}."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, current_app
from werkzeug.exceptions import HTTPException, InternalServerError

from api import logs
from engine import errors as domain

# The one table from domain errors to HTTP statuses.
STATUS_OF: dict[type[domain.DomainError], int] = {
    domain.InvalidDiagram: 422,
    domain.InvalidInput: 422,
    domain.ExpressionFailed: 422,
    domain.Unauthenticated: 401,
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.TooManyAttempts: 429,
}

# zh-CN messages for errors raised by the HTTP layer itself.
HTTP_MESSAGES: dict[int, str] = {
    400: "请求格式有误",
    401: "请先登录",
    403: "无权执行此操作",
    404: "请求的资源不存在",
    405: "不支持该请求方法",
    413: "请求体过大",
    415: "不支持的内容类型",
    422: "提交的数据有误",
    429: "请求过于频繁",
    500: "服务器内部错误，请稍后重试",
}

_PHRASES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
}


class ErrorSchema(ma.Schema):
    """The one error shape, as `body()` builds it (documented on every operation)."""

    code = ma.fields.Integer(required=True, metadata={"description": "HTTP 状态码"})
    status = ma.fields.String(required=True, metadata={"description": "状态名"})
    message = ma.fields.String(required=True, metadata={"description": "中文说明"})
    errors = ma.fields.Dict(
        required=True, metadata={"description": "按字段的错误（字段名 → 说明），可为空"}
    )
    request_id = ma.fields.String(metadata={"description": "本次请求的编号，供运维查日志"})


# What any operation may answer besides its success: malformed or unauthenticated requests,
# refusals, unknown or unseen objects, conflicts, invalid data, throttled sign-ins. Operations
# that take a body may also answer 413 (too large) and 415 (not JSON / not the declared type).
COMMON_ERRORS = (400, 401, 403, 404, 409, 422, 429)
BODY_ERRORS = (413, 415)
_BODY_METHODS = {"post", "put", "patch"}


def document(spec: Any) -> None:
    """Declare the error responses on every operation of the OpenAPI document, each with the
    error shape as JSON. Call after every blueprint is registered."""
    content = {"application/json": {"schema": spec.components.get_ref("schema", "Error")}}
    for operations in spec._paths.values():  # apispec keeps registered paths here
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            extra = BODY_ERRORS if method in _BODY_METHODS else ()
            for status in (*COMMON_ERRORS, *extra):
                declared = responses.get(str(status))
                if declared is None:
                    name = HTTPStatus(status).name
                    responses[str(status)] = spec.components.get_ref("response", name)
                elif "$ref" not in declared and "content" not in declared:
                    declared["content"] = content  # described by the route, shaped like all


def body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": status,
        "status": _PHRASES.get(status, "Error"),
        "message": message,
    }
    payload["errors"] = errors or {}
    reference = logs.request_id()
    if reference is not None:  # quote it to the operator: it finds this request's log lines
        payload["request_id"] = reference
    return payload


def status_of(error: domain.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]  # type: ignore[index]
    return 400


def handle_domain_error(error: domain.DomainError) -> tuple[dict[str, Any], int, dict[str, str]]:
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(error, domain.TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    return body(status, error.message, error.errors), status, headers


def handle_http_exception(error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
    status = error.code or 500
    if status >= 500:
        current_app.logger.exception("unhandled error", exc_info=error)
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if isinstance(errors, dict) and set(errors) <= {"json", "query", "headers", "view_args"}:
        # webargs nests errors under their location; a client wants the fields.
        errors = {k: v for loc in errors.values() if isinstance(loc, dict) for k, v in loc.items()}
    if status == 400 and "Invalid JSON body." in str(data):
        errors = {"_schema": ["请求体不是合法的 JSON"]}
        data = {**data, "message": "请求体不是合法的 JSON"}
    custom = error.description if error.description != type(error).description else None
    message = data.get("message") or custom or HTTP_MESSAGES.get(status) or error.name
    payload = body(status, message, errors)
    payload["status"] = error.name
    return payload, status, dict(data.get("headers") or {})


def handle_unexpected(error: Exception) -> tuple[dict[str, Any], int, dict[str, str]]:
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(domain.DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
