"""单位与人员 pages (platform administrators) and 修改密码 (everyone): the organisation tree, an
organisation's people, a person's roles and standing; passwords the system issues are shown
once and changed by the person at the next sign-in."""

from __future__ import annotations

from typing import Any

from flask import Response as FlaskResponse
from flask import flash, redirect, request, session, url_for
from werkzeug.wrappers import Response

from api.console.web import bp, context, me, render
from engine.authz import ROLE_LABELS
from engine.errors import Conflict, DomainError, Forbidden, InvalidInput
from engine.services import accounts, organizations, people, people_io
from engine.services.people_forms import ORG_LEVEL_LABELS, PARENT_LEVELS, ROLE_LEVELS


def _errors(exc: DomainError) -> dict[str, list[str]]:
    found = {k: list(v) if isinstance(v, list) else [str(v)] for k, v in exc.errors.items()}
    return found or {"_": [exc.message]}


def _form(*keys: str) -> dict[str, Any]:
    return {k: request.form.get(k, "").strip() for k in keys if k in request.form}


def _tree_page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    tree = organizations.organizations(context(), me())
    return render(
        "people/organizations.html",
        status,
        tree=tree,
        parents=[o for o in tree if o.active and o.level in ("city", "county", "township")],
        # The common additions first; a county or a city is added once in a while.
        levels={
            k: ORG_LEVEL_LABELS[k] for k in ("department", "township", "village", "county", "city")
        },
        errors=errors or {},
        values=values or {},
    )


@bp.route("/people")
def people_page() -> tuple[str, int]:
    """单位与人员: the organisation tree, with a form to add an organisation."""
    return _tree_page()


@bp.route("/people/organizations", methods=["POST"])
def organization_add() -> Response | tuple[str, int]:
    body = _form("name", "level", "parent")
    try:
        org = organizations.create_organization(context(), me(), body)
    except InvalidInput as exc:
        return _tree_page(422, _errors(exc), body)
    flash(f"已新增单位“{org.name}”。", "success")
    return redirect(url_for("console.organization_page", code=org.code))


def _org_page(code: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    actor = me()
    org = organizations.organization(context(), actor, code)
    tree = organizations.organizations(context(), actor)
    allowed = PARENT_LEVELS[org.level]
    return render(
        "people/organization.html",
        status,
        org=org,
        members=people.users(context(), actor, org=code, per_page=200),
        parents=[o for o in tree if o.active and o.level in allowed and o.id != org.id],
        roles={r: label for r, label in ROLE_LABELS.items() if org.level in ROLE_LEVELS[r]},
        level_labels=ORG_LEVEL_LABELS,
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        issued=extra.pop("issued", None),
        **extra,
    )


@bp.route("/people/organizations/<string:code>")
def organization_page(code: str) -> tuple[str, int]:
    """One organisation: its people, a form to add one, rename or move it, retire it."""
    return _org_page(code)


@bp.route("/people/organizations/<string:code>/edit", methods=["POST"])
def organization_edit(code: str) -> Response | tuple[str, int]:
    org = organizations.organization(context(), me(), code)
    body: dict[str, Any] = _form("name", "parent")
    if body.get("parent", org.parent) == (org.parent or ""):
        body.pop("parent", None)
    if body.get("name") == org.name:
        body.pop("name")
    if "active" in request.form:
        body = {"active": request.form["active"] == "1"}
    try:
        changed = organizations.update_organization(context(), me(), code, body)
    except InvalidInput as exc:
        return _org_page(code, 422, errors=_errors(exc), values=body)
    except Conflict as exc:
        flash(f"未能办理：{exc.message}", "error")
        return redirect(url_for("console.organization_page", code=code))
    if "active" in body:
        flash(f"已{'恢复' if changed.active else '撤销'}单位“{changed.name}”。", "success")
    else:
        flash(f"已保存“{changed.name}”的修改。", "success")
    return redirect(url_for("console.organization_page", code=code))


@bp.route("/people/organizations/<string:code>/people", methods=["POST"])
def person_add(code: str) -> tuple[str, int]:
    body: dict[str, Any] = {**_form("username", "display_name", "email"), "org": code}
    body["roles"] = request.form.getlist("roles")
    try:
        issued = people.create_user(context(), me(), body)
    except InvalidInput as exc:
        return _org_page(code, 422, errors=_errors(exc), values=body)
    return _org_page(code, 201, issued=issued)


def _person_page(username: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    actor = me()
    person = people.user(context(), actor, username)
    tree = organizations.organizations(context(), actor)
    return render(
        "people/person.html",
        status,
        person=person,
        orgs=[o for o in tree if o.active or o.code == person.org],
        roles=ROLE_LABELS,
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        issued=extra.pop("issued", None),
        is_self=person.id == actor.user_id,
    )


@bp.route("/people/users/<string:username>")
def person_page(username: str) -> tuple[str, int]:
    """One person: name, organisation, roles, e-mail; deactivate; reset the password."""
    return _person_page(username)


@bp.route("/people/users/<string:username>/edit", methods=["POST"])
def person_edit(username: str) -> Response | tuple[str, int]:
    person = people.user(context(), me(), username)
    if "active" in request.form:
        body: dict[str, Any] = {"active": request.form["active"] == "1"}
    else:
        body = _form("display_name", "org", "email")
        body["roles"] = request.form.getlist("roles")
        current = {
            "display_name": person.display_name,
            "org": person.org,
            "email": person.email,
            "roles": person.roles,
        }
        body = {k: v for k, v in body.items() if sorted(v) != sorted(current[k])}
        if not body:
            flash("未作修改。", "success")
            return redirect(url_for("console.person_page", username=username))
    try:
        changed = people.update_user(context(), me(), username, body)
    except InvalidInput as exc:
        return _person_page(username, 422, errors=_errors(exc), values=body)
    except (Conflict, Forbidden) as exc:
        flash(f"未能办理：{exc.message}", "error")
        return redirect(url_for("console.person_page", username=username))
    if body.keys() == {"active"}:
        done = "启用" if changed.active else "停用（其已认领的任务已退回本单位待办）"
        flash(f"已{done}{changed.display_name}的账号。", "success")
    else:
        flash(f"已保存{changed.display_name}的修改。", "success")
    return redirect(url_for("console.person_page", username=username))


@bp.route("/people/users/<string:username>/password-reset", methods=["POST"])
def person_password_reset(username: str) -> tuple[str, int]:
    issued = people.reset_password(context(), me(), username)
    return _person_page(username, issued=issued)


@bp.route("/account/password", methods=["GET", "POST"])
def account_password() -> Response | tuple[str, int]:
    """修改密码: one's own; the first thing a person does after an administrator issued one."""
    actor = me()
    if request.method == "GET":
        return render(
            "people/password.html",
            errors={},
            forced=actor.password_change_due,
            policy=context().settings,
        )
    try:
        if request.form.get("new_password") != request.form.get("new_password_again"):
            raise InvalidInput("两次输入的新密码不一致", {"new_password_again": ["两次输入不一致"]})
        accounts.change_password(
            context(),
            actor,
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
        )
    except InvalidInput as exc:
        return render(
            "people/password.html",
            422,
            errors=_errors(exc),
            forced=actor.password_change_due,
            policy=context().settings,
        )
    session["epoch"] = accounts.session_epoch(context(), actor.user_id)
    flash("密码已修改；您在其他设备上的登录已失效。", "success")
    return redirect(url_for("console.home"))


@bp.route("/people/export.xlsx")
def people_export() -> FlaskResponse:
    """导出: every organisation and person, one workbook (sheets 单位 and 人员)."""
    exported = people_io.export_people(context(), me(), "xlsx")
    return FlaskResponse(
        exported.data,
        content_type=exported.content_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@bp.route("/people/import", methods=["POST"])
def people_import() -> tuple[str, int]:
    """批量导入: all rows or none; the new people's temporary passwords are shown once."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("请选择要导入的文件", {"file": ["请选择 .xlsx 或 .csv 文件"]})
        result = people_io.import_people(context(), me(), upload.filename, upload.read())
    except InvalidInput as exc:
        rows = exc.errors.get("rows") or {}
        problems = [exc.message] if rows else [m for ms in _errors(exc).values() for m in ms]
        return _tree_page(422, {"file": problems}, {})
    return render("people/imported.html", result=result)
