"""Reads a request's JSON body once, up front, so every route sees either JSON or a clear 4xx."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body's NaN or Infinity is malformed JSON (Python's json
    module reads them; no number a form holds is one, and stored state could not keep it)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _not_a_number)
        return super().loads(s, **kwargs)


def _not_a_number(word: str) -> None:
    raise ValueError(f"{word} 不是 JSON 中的数")


def read_json_body() -> None:
    """before_request: enforce the size limit for any transfer, then parse JSON bodies.

    A chunked body carries no Content-Length, so the limit is checked on what was read.
    Pathologically nested JSON (RecursionError) is a 400 like any other malformed body.
    """
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.mimetype == "multipart/form-data":
        # Files (attachments, imports) may be larger than any JSON body; the room beyond the
        # attachment limit is the form's framing, and the engine checks the file's own size.
        limit = max(limit, current_app.config["ZHUNRU_UPLOAD_MAX_BYTES"])
        request.max_content_length = limit
    if request.content_length is None:
        request._cached_data = _read_all(limit)  # werkzeug's own cache for get_data()
    if request.is_json:
        try:
            request.get_json()
        except (BadRequest, RecursionError, ValueError) as exc:
            raise BadRequest("请求体不是合法的 JSON") from exc


def _read_all(limit: int) -> bytes:
    """Read a body of unknown length; a stream may return less than asked, so loop."""
    parts: list[bytes] = []
    size = 0
    while True:
        part = request.stream.read(min(65536, limit + 1 - size))
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
        if size > limit:
            raise RequestEntityTooLarge()


def json_body() -> Any:
    """The request's JSON body (already parsed by read_json_body)."""
    if not request.is_json:
        raise UnsupportedMediaType("请求体须为 JSON（Content-Type: application/json）")
    return request.get_json()
