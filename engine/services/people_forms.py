"""Input schemas for organisations and people (API bodies, console forms, imported rows)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, pre_load, validate, validates_schema

from engine.authz import ROLE_LABELS
from engine.workflow import fields as f

ORG_LEVEL_LABELS = {
    "city": "市（州）",
    "county": "县（市、区）",
    "department": "部门",
    "township": "乡镇（街道）",
    "village": "村（社区）",
}
# Which level an organisation of each level stands under (None: the top).
PARENT_LEVELS: dict[str, tuple[str | None, ...]] = {
    "city": (None,),
    "county": (None, "city"),
    "department": ("county", "city"),
    "township": ("county",),
    "village": ("township",),
}
# Which levels of organisation a role may be held in: a township's work only in a township, an
# application only from a department; the county's offices sit in the county or a department;
# anybody may be a cadre concerned by a case. A city's offices (市委编办, 市委社会工作部 …) read
# the burden of every county of the city and take no county's steps.
ROLE_LEVELS: dict[str, frozenset[str]] = {
    **{
        role: frozenset({"city", "county", "department"})
        for role in (
            "reviewer",
            "legal_reviewer",
            "approver",
            "auditor",
            "admin",
            "discipline",
            "case_review",
            "organization",
            "social_work",
        )
    },
    "applicant": frozenset({"department"}),
    "township": frozenset({"township"}),
    "cadre": frozenset(ORG_LEVEL_LABELS),
}
assert set(ROLE_LEVELS) == set(ROLE_LABELS)

# A sheet may say which kind of department it is (县直部门, 市直部门): both are departments.
_BY_LEVEL_LABEL = {
    **{label: code for code, label in ORG_LEVEL_LABELS.items()},
    "县直部门": "department",
    "市直部门": "department",
}
_BY_ROLE_LABEL = {label: code for code, label in ROLE_LABELS.items()}
CODE_PATTERN = r"[a-z0-9][a-z0-9_.-]{1,63}"
_SOME_ROLE = validate.Length(min=1, error="请至少选择一个角色")


# Names the API's paths use beside a code or username (/users/import, /users/export).
RESERVED = frozenset({"import", "export", "me"})


def _codes_ok(value: str) -> None:
    if not re.fullmatch(CODE_PATTERN, value):
        raise ValidationError("只能使用小写字母、数字、下划线、点和连字符，2 到 64 个字符")
    if value in RESERVED:
        raise ValidationError(f"“{value}”为系统保留字，请换一个")


class _Labels:
    """Accept a level or role written as its Chinese label (乡镇（街道）, 申请单位)."""

    @pre_load
    def _labels(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        level = data.get("level")
        if isinstance(level, str):
            data["level"] = _BY_LEVEL_LABEL.get(level.strip(), level.strip())
        roles = data.get("roles")
        if isinstance(roles, str):  # a cell or form field: 申请单位、审计监督
            roles = [
                r for r in roles.replace("，", "、").replace(",", "、").split("、") if r.strip()
            ]
        if isinstance(roles, list):
            data["roles"] = [
                _BY_ROLE_LABEL.get(r.strip(), r.strip()) if isinstance(r, str) else r for r in roles
            ]
        for key in ("code", "username", "parent", "org"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        return data


class OrganizationSchema(_Labels, f.Schema):
    """新增单位 (no code: the system gives one)."""

    code = f.String(load_default=None, allow_none=True, validate=[f.length(64, 2), _codes_ok])
    name = f.String(required=True, validate=[f.length(100), f.not_blank])
    level = f.String(required=True, validate=f.one_of(list(ORG_LEVEL_LABELS), ORG_LEVEL_LABELS))
    parent = f.String(load_default=None, allow_none=True, validate=f.length(64))


class OrganizationEditSchema(_Labels, f.Schema):
    """修改单位: rename, move under another, retire or restore; only the fields given change."""

    name = f.String(validate=[f.length(100), f.not_blank])
    parent = f.String(allow_none=True, validate=f.length(64))
    active = f.Boolean()

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("请至少修改一项内容")


class UserSchema(_Labels, f.Schema):
    """新增人员: the password is issued by the system and changed at first sign-in."""

    username = f.String(required=True, validate=[f.length(64, 2), _codes_ok])
    display_name = f.String(required=True, validate=[f.length(100), f.not_blank])
    org = f.String(required=True, validate=f.length(64, 1))
    roles = f.List(
        f.String(validate=f.one_of(list(ROLE_LABELS), ROLE_LABELS)),
        required=True,
        validate=_SOME_ROLE,
    )
    email = f.text(254)


class UserEditSchema(_Labels, f.Schema):
    """修改人员: name, organisation, roles, e-mail, active; only the fields given change."""

    display_name = f.String(validate=[f.length(100), f.not_blank])
    org = f.String(validate=f.length(64, 1))
    roles = f.List(
        f.String(validate=f.one_of(list(ROLE_LABELS), ROLE_LABELS)),
        validate=_SOME_ROLE,
    )
    email = f.String(validate=f.length(254))
    active = f.Boolean()

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("请至少修改一项内容")
