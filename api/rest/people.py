"""Organisations and people (/organizations, /users): kept by the platform's administrators."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from api.auth import context, current_actor
from api.body import json_body
from api.rest import FILE_UPLOAD, json_request, uploaded_file
from api.schemas_people import (
    IssuedPasswordSchema,
    OrganizationViewSchema,
    PeopleExportQuerySchema,
    PeopleImportSchema,
    UserQuerySchema,
    UserViewSchema,
)
from engine.services import organizations, people, people_io
from engine.services.people_forms import OrganizationEditSchema, UserEditSchema
from engine.services.people_forms import OrganizationSchema as OrganizationBody
from engine.services.people_forms import UserSchema as UserBody

blp = Blueprint("people", __name__, url_prefix="/api/v1", description="单位与人员管理")


@blp.route("/organizations")
class Organizations(MethodView):
    @blp.response(200, OrganizationViewSchema(many=True))
    def get(self) -> Any:
        """The organisation tree, each after its parent, retired ones with their history."""
        return organizations.organizations(context(), current_actor())

    @blp.doc(requestBody=json_request(OrganizationBody))
    @blp.response(201, OrganizationViewSchema)
    def post(self) -> Any:
        """Add an organisation (a department, township or village) under its parent."""
        actor = current_actor()
        return organizations.create_organization(context(), actor, json_body())


@blp.route("/organizations/<string:code>")
class Organization(MethodView):
    @blp.response(200, OrganizationViewSchema)
    def get(self, code: str) -> Any:
        return organizations.organization(context(), current_actor(), code)

    @blp.doc(requestBody=json_request(OrganizationEditSchema))
    @blp.response(200, OrganizationViewSchema)
    def patch(self, code: str) -> Any:
        """Rename, move under another parent, retire (active: false) or restore."""
        actor = current_actor()
        return organizations.update_organization(context(), actor, code, json_body())


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, UserViewSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """People, in one organisation or all, searched by name."""
        return people.users(context(), current_actor(), **query)

    @blp.doc(requestBody=json_request(UserBody))
    @blp.response(201, IssuedPasswordSchema)
    def post(self) -> Any:
        """Add a person; the answer carries a temporary password, changed at first sign-in."""
        actor = current_actor()
        return people.create_user(context(), actor, json_body())


@blp.route("/users/<string:username>")
class User(MethodView):
    @blp.response(200, UserViewSchema)
    def get(self, username: str) -> Any:
        return people.user(context(), current_actor(), username)

    @blp.doc(requestBody=json_request(UserEditSchema))
    @blp.response(200, UserViewSchema)
    def patch(self, username: str) -> Any:
        """Change name, organisation, roles, e-mail, or deactivate (claimed tasks go back)."""
        actor = current_actor()
        return people.update_user(context(), actor, username, json_body())


@blp.route("/users/<string:username>/password-reset")
class PasswordReset(MethodView):
    @blp.response(200, IssuedPasswordSchema)
    def post(self, username: str) -> Any:
        """Issue a new temporary password; the person's sessions end."""
        return people.reset_password(context(), current_actor(), username)


@blp.route("/users/import")
class Import(MethodView):
    @blp.doc(requestBody=FILE_UPLOAD)
    @blp.response(200, PeopleImportSchema)
    def post(self) -> Any:
        """Import organisations and people (XLSX sheets 单位 and 人员, or one CSV table): every
        row is stored, or (any bad row) none. New people's temporary passwords come back once."""
        actor = current_actor()
        return people_io.import_people(context(), actor, *uploaded_file())


@blp.route("/users/export")
class Export(MethodView):
    @blp.arguments(PeopleExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses={"200": {"description": "XLSX（单位、人员两张表）或 CSV（一张表）"}})
    def get(self, query: dict[str, Any]) -> Any:
        """Every organisation and person, as the county files them (no passwords)."""
        exported = people_io.export_people(
            context(), current_actor(), query["format"], query["table"]
        )
        return Response(
            exported.data,
            content_type=exported.content_type,
            headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
        )
