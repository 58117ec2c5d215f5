"""The OpenAPI document declares every status and media type the API answers with."""

from __future__ import annotations

import pytest

METHODS = {"get", "post", "put", "patch", "delete"}
COMMON = {"400", "401", "403", "404", "409", "422", "429"}
WITH_BODY = COMMON | {"413", "415"}


@pytest.fixture
def spec(login) -> dict:
    return login().get("/api/v1/openapi.json").json()


def _resolve(spec: dict, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def test_every_operation_declares_the_error_statuses_with_the_error_shape(spec) -> None:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation["responses"]
            assert "default" not in responses, (method, path)  # a catch-all checks nothing
            expected = WITH_BODY if method in {"post", "put", "patch"} else COMMON
            assert expected <= set(responses), (method, path, expected - set(responses))
            for status in expected:
                content = _resolve(spec, responses[status])["content"]
                assert content == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                }, (method, path, status)


def test_the_error_schema_is_the_shape_errors_have(spec, login) -> None:
    schema = spec["components"]["schemas"]["Error"]
    assert set(schema["required"]) == {"code", "status", "message", "errors"}
    body = login().get("/api/v1/instances").json()  # 401, with the request's id
    assert set(body) <= set(schema["properties"]) and "request_id" in body
    assert set(schema["required"]) <= set(body)


@pytest.mark.parametrize(
    ("path", "media_types"),
    [
        (
            "/api/v1/reports/burden",
            {
                "application/json",
                "text/csv",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            },
        ),
        (
            "/api/v1/catalog/export",
            {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        ),
        ("/api/v1/audit/events/export", {"application/x-ndjson", "text/csv"}),
        ("/api/v1/instances/{instance_id}/trail/export", {"application/x-ndjson", "text/csv"}),
    ],
)
def test_downloads_declare_every_format_they_answer_in(spec, path: str, media_types) -> None:
    assert set(spec["paths"][path]["get"]["responses"]["200"]["content"]) == media_types


def test_a_csv_download_answers_with_a_declared_media_type(spec, login) -> None:
    response = login("jiwei").get("/api/v1/reports/burden", params={"format": "csv"})
    assert response.status_code == 200
    declared = spec["paths"]["/api/v1/reports/burden"]["get"]["responses"]["200"]["content"]
    assert response.headers["Content-Type"].split(";")[0] in declared
