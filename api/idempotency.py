"""Idempotency-Key on every POST of the API: a retry with the same key and body gets the first
result (marked `Idempotent-Replayed: true`) and changes nothing. Storage and rules are the
engine's (services/idempotency); this module only reads the header and carries the response."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Flask, Response, g, request

from api.auth import context, current_actor
from engine.errors import DomainError
from engine.workflow.services import idempotency

API_PREFIX = "/api/v1"
REPLAYED = "Idempotent-Replayed"


def _claim() -> Response | None:
    """before_request: claim the key, or answer with the first result."""
    if request.method != "POST" or not request.path.startswith(API_PREFIX):
        return None
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return None
    idempotency.check_key(key)
    try:
        actor = current_actor()
    except DomainError:
        return None  # the route answers 401 as it would without the key
    path = request.full_path if request.query_string else request.path
    print_ = idempotency.fingerprint(request.method, path, _body())
    replay = idempotency.claim(context(), actor.user_id, key, print_)
    if replay is not None:
        response = Response(replay.body, status=replay.status, mimetype="application/json")
        response.headers[REPLAYED] = "true"
        return response
    g.idempotency = (actor.user_id, key)
    return None


def _body() -> bytes:
    """What the request asks, as bytes: the body itself, or for a form with files (whose
    boundary differs on every send) its fields and each file's name and SHA-256, so a retry
    of the same upload is recognised."""
    if request.mimetype != "multipart/form-data":
        return request.get_data()
    files = []
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        files.append([name, upload.filename or "", hashlib.sha256(upload.read()).hexdigest()])
        upload.seek(0)
    fields = sorted(request.form.items(multi=True))
    return json.dumps({"fields": fields, "files": files}, ensure_ascii=False).encode()


def _store(response: Response) -> Response:
    """after_request: keep the result for retries; a server error gives the key back."""
    held = g.pop("idempotency", None)
    if held is None:
        return response
    user_id, key = held
    if response.status_code >= 500:
        idempotency.release(context(), user_id, key)
    else:
        idempotency.finish(context(), user_id, key, response.status_code, response.get_data())
    return response


def _give_back(error: BaseException | None) -> None:
    """teardown: a request that died before after_request gives its key back."""
    held = g.pop("idempotency", None)
    if held is not None:
        idempotency.release(context(), *held)


def register(app: Flask) -> None:
    app.before_request(_claim)
    app.after_request(_store)
    app.teardown_request(_give_back)


def document(spec: Any) -> None:
    """Declare the header on every POST operation of the OpenAPI document."""
    spec.components.parameter(
        "IdempotencyKey",
        "header",
        {
            "name": idempotency.HEADER,
            "required": False,
            "description": "同一用户重试同一请求时携带相同的值：返回首次结果，不重复办理"
            "（24 小时内有效；同一键用于不同请求返回 422，首次请求未完成时返回 409）。",
            "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY},
        },
    )
    for operations in spec._paths.values():  # apispec keeps registered paths here
        post = operations.get("post")
        if post is not None:
            post.setdefault("parameters", []).append(
                {"$ref": "#/components/parameters/IdempotencyKey"}
            )
