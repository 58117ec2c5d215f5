"""Response and query schemas of organisations and people (bodies are the engine's forms)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from engine.workflow import fields as f


class FormerNameSchema(ma.Schema):
    name = fields.String(metadata={"description": "原名称"})
    parent = fields.String(allow_none=True, metadata={"description": "当时的上级单位名称"})
    until = fields.DateTime(metadata={"description": "改名或调整隶属的时间"})


class OrganizationViewSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String(
        metadata={"description": "city | county | department | township | village"}
    )
    parent = fields.String(allow_none=True, metadata={"description": "上级单位编码"})
    parent_name = fields.String(allow_none=True)
    active = fields.Boolean(metadata={"description": "false：已撤销"})
    depth = fields.Integer(metadata={"description": "在单位树中的层级（0 为顶层）"})
    people = fields.Integer(metadata={"description": "在用人员数"})
    former_names = fields.List(fields.Nested(FormerNameSchema))


class UserViewSchema(ma.Schema):
    username = fields.String()
    display_name = fields.String()
    org = fields.String(metadata={"description": "所在单位编码"})
    org_name = fields.String()
    roles = fields.List(fields.String())
    email = fields.String()
    active = fields.Boolean()
    must_change_password = fields.Boolean(metadata={"description": "下次登录须修改密码"})
    claimed_tasks = fields.Integer(metadata={"description": "已认领未办结的任务数"})


class IssuedPasswordSchema(ma.Schema):
    user = fields.Nested(UserViewSchema)
    temporary_password = fields.String(
        metadata={"description": "系统生成的临时密码，只显示这一次；本人首次登录时须修改"}
    )


class UserQuerySchema(f.Schema):
    org = f.String(validate=f.length(64))
    q = f.String(validate=f.length(100))
    page = f.Integer(strict=False, load_default=1, validate=f.between(1, 100_000))
    per_page = f.Integer(strict=False, load_default=50, validate=f.between(1, 200))


class PasswordChangeSchema(f.Schema):
    current_password = f.String(required=True, validate=f.length(256, 1))
    new_password = f.String(required=True, validate=f.length(256, 1))


class NewPersonSchema(ma.Schema):
    username = fields.String()
    display_name = fields.String()
    org_name = fields.String()
    temporary_password = fields.String(metadata={"description": "只返回这一次"})


class PeopleImportSchema(ma.Schema):
    organizations_created = fields.Integer()
    organizations_updated = fields.Integer()
    people_created = fields.Integer()
    people_updated = fields.Integer()
    unchanged = fields.Integer()
    new_people = fields.List(fields.Nested(NewPersonSchema))


class PeopleExportQuerySchema(f.Schema):
    format = f.String(required=True, validate=f.one_of(["xlsx", "csv"]))
    table = f.String(load_default="", validate=f.one_of(["", "organizations", "people"]))
