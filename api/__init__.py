"""Flask app factory: REST API under /api/v1 with its OpenAPI document. Starts no threads."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter, Map

from api import errors, idempotency
from api.auth import protect_sign_in
from api.body import StrictJSONProvider, read_json_body
from api.console import register_console
from api.rest import register_blueprints
from config import Settings
from engine.services.context import Context, build_context

API_PREFIX = "/api/v1"
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Row ids: 1 to 2^31 - 1, what every database's integer key holds; others are no route."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def _id_schema(_converter: IdConverter) -> dict[str, object]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class ZhunruApi(Api):
    """flask-smorest's Api with our error shape and messages; errors are declared per status
    (errors.document), not as one catch-all `default` response."""

    DEFAULT_ERROR_RESPONSE_NAME = None
    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error):  # type: ignore[no-untyped-def]
        return errors.handle_http_exception(error)


def create_app(settings: Settings | None = None, context: Context | None = None) -> Flask:
    """Build the app. Reads settings from the environment unless given; opens no connections."""
    settings = settings or (context.settings if context else Settings.from_env())
    settings.require_secret()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        ZHUNRU_UPLOAD_MAX_BYTES=(settings.attachment_max_mb + 1) * 1024 * 1024,
        JSON_AS_ASCII=False,
        API_TITLE="Zhunru 准入",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        API_SPEC_OPTIONS={
            "info": {"description": "事项准入、容错纠错与澄清正名的流程服务。"},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    app.json = StrictJSONProvider(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["zhunru"] = context or build_context(settings)
    app.url_map.converters["id"] = IdConverter
    _install_operations(app)
    api = ZhunruApi(app)
    api.register_converter(IdConverter, _id_schema)
    app.before_request(read_json_body)
    idempotency.register(app)
    errors.register(app)
    register_blueprints(api)
    idempotency.document(api.spec)
    errors.document(api.spec)
    register_console(app)
    protect_sign_in(app)  # last: it wraps the API's and the console's sign-in views
    return app


def _install_operations(app: Flask) -> None:
    """Request ids, JSON request lines and /metrics. api.metrics is imported here, not at the
    top: prometheus-client picks its multi-process mode when first imported (see there)."""
    from api import logs, metrics

    logs.install(app)
    metrics.install(app, app.extensions["zhunru"])
