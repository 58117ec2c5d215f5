"""REST resources under /api/v1; each module is one blueprint, routes only translate HTTP."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api

from engine.accountability.case_forms import CaseDecisionSchema, CaseFindingSchema, CaseSchema
from engine.accountability.forms_accountability import APPEAL_FORM
from engine.workflow.forms import ReasonSchema


def schema_name(schema: type) -> str:
    return schema.__name__.removesuffix("Schema")


def form_ref(schema: type) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema_name(schema)}"}


# A step's form is data deployed with its diagram version (a package's JSON Schema file), so
# the body that fills one is a JSON object whose fields the instance's own version defines.
FORM_BODY: dict[str, object] = {
    "type": "object",
    "description": "步骤表单的填写内容；字段由实例所用流程版本的表单（JSON Schema）规定，"
    "各版本可不同",
}


def json_request(schema: object) -> dict[str, object]:
    """An operation's documented JSON body (for views that read it with `json_body`)."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# An operation's documented body when it takes one uploaded file (CSV or XLSX), named "file".
FILE_UPLOAD: dict[str, object] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


def download(data: bytes, filename: str, media_type: str) -> Any:
    """A file to save under its Chinese name (RFC 6266 filename*, with an ASCII fallback)."""
    from urllib.parse import quote

    from flask import Response

    fallback = "".join(c if c.isascii() and c.isalnum() or c in "-_." else "_" for c in filename)
    return Response(
        data,
        content_type=media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
            ),
            "Cache-Control": "private, no-store",
        },
    )


def uploaded_file() -> tuple[str, bytes]:
    """The request's uploaded file, as (name, bytes); none is InvalidInput."""
    from flask import request

    from engine.errors import InvalidInput

    if len(request.files.getlist("file")) > 1:
        raise InvalidInput("请上传文件", {"file": ["一次只能上传一个文件"]})
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput(
            "请上传文件", {"file": ["请以 multipart/form-data 上传文件，字段名为 file"]}
        )
    return upload.filename or "", upload.read()


def _register_form_schemas(api: Api) -> None:
    """The REST bodies that are not a step's form (those are deployed data: FORM_BODY)."""
    for schema in (
        ReasonSchema,
        APPEAL_FORM.schema,
        CaseSchema,
        CaseFindingSchema,
        CaseDecisionSchema,
    ):
        api.spec.components.schema(schema_name(schema), schema=schema)


def register_blueprints(api: Api) -> None:
    from api.rest import accountability as cases
    from api.rest import admission as townships
    from api.rest import (
        attachments,
        auth,
        burden,
        documents,
        health,
        instances,
        migration,
        notices,
        operations,
        people,
        processes,
        tasks,
    )
    from api.rest import duty_lists as catalog
    from api.rest import trail as audit

    _register_form_schemas(api)
    modules = (health, auth, processes, instances, tasks, notices, townships, catalog, audit, cases)
    for module in (*modules, operations, migration, people, documents, attachments, burden):
        api.register_blueprint(module.blp)
