"""流程管理: the administrator's pages on procedures and their versions — upload a package,
see a version's diagram and what it changes, activate it (or roll back), move running
instances onto the version in use."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from api.console import labels
from api.console.web import bp, context, me, render
from engine.errors import Conflict, InvalidInput
from engine.workflow.diagram_svg import read_plane, render_svg
from engine.workflow.packages import Package, read_zip
from engine.workflow.services import deployments, migration
from engine.workflow.services.deployments import ProcessInfo, VersionDrawing
from engine.workflow.versions import VersionDiff

DIAGRAM_SUFFIXES = (".bpmn", ".xml")


@bp.route("/deployments")
def deployment_list() -> tuple[str, int]:
    return _list_page()


def _list_page(status: int = 200, **upload: Any) -> tuple[str, int]:
    return render(
        "deployments.html",
        status,
        processes=deployments.list_all(context(), me()),
        upload=upload,
    )


def _uploaded() -> Package:
    """The chosen file as a package: a zip, or a bare diagram."""
    chosen = request.files.get("package")
    name = (chosen.filename or "").lower() if chosen else ""
    if chosen is None or not name:
        raise InvalidInput("请选择要上传的文件", {"package": ["请选择 .zip 程序包或 .bpmn 流程图"]})
    data = chosen.read()
    if not data:
        raise InvalidInput("上传的文件是空的", {"package": ["文件没有内容，请重新选择"]})
    if name.endswith(".zip"):
        return read_zip(data)
    if name.endswith(DIAGRAM_SUFFIXES):
        return Package(data)
    raise InvalidInput("文件类型不支持", {"package": ["只能上传 .zip 程序包或 .bpmn 流程图"]})


@bp.route("/deployments", methods=["POST"])
def upload_deployment() -> Response | tuple[str, int]:
    """Deploy the uploaded package as a draft; a bad one is shown back with its reasons."""
    try:
        info = deployments.deploy_uploaded(context(), _uploaded(), me())
    except InvalidInput as exc:
        problems = [text for texts in exc.errors.values() for text in texts]
        return _list_page(422, message=exc.message, problems=problems)
    flash(f"已上传“{info.name}”第 {info.version} 版（{_state(info)}），启用后方可使用。", "success")
    return redirect(url_for("console.deployment_page", process_id=info.process_id))


def _state(info: ProcessInfo) -> str:
    return labels.VERSION_STATE_LABELS.get(info.state, info.state)


@bp.route("/deployments/<process_id>")
def deployment_page(process_id: str) -> tuple[str, int]:
    versions = deployments.history(context(), process_id, me())
    active = next((use.info for use in versions if use.info.state == "active"), None)
    return render(
        "deployment.html",
        name=versions[0].info.name,
        process_id=process_id,
        versions=versions,
        active=active,
    )


@bp.route("/deployments/<process_id>/versions/<id:version>")
def version_page(process_id: str, version: int) -> tuple[str, int]:
    """One version: its diagram, what it changes against the version in use, its running
    instances and whether each can move (`?check=<instance id>`)."""
    actor = me()
    shown = deployments.drawing(context(), process_id, version, actor)
    active = next(
        (use.info for use in deployments.history(context(), process_id, actor) if use.info.current),
        None,
    )
    compared = active is not None and active.version != version
    diff = deployments.diff(context(), process_id, version, active.version) if compared else None
    running = migration.running_on(context(), process_id, version, actor) if compared else []
    checked = request.args.get("check", type=int)
    check = (
        migration.check(context(), checked, active.version, actor)
        if active is not None and checked in {r.id for r in running}
        else None
    )
    return render(
        "deployment_version.html",
        info=shown.info,
        diagram=_picture(shown),
        steps=[labels.step_name(step.name, step.kind) for step in shown.steps],
        active=active,
        diff=_changes(diff, shown) if diff is not None else None,
        running=running,
        check=check,
        status_label=labels.status_label,
    )


def _picture(shown: VersionDrawing) -> Markup | None:
    """The version's diagram as SVG, or None when it was drawn without layout."""
    if not read_plane(shown.xml).shapes:
        return None
    title = f"“{shown.info.name}”第 {shown.info.version} 版流程图"
    return Markup(render_svg(shown.xml, title=title, legend=False))


def _changes(diff: VersionDiff, shown: VersionDrawing) -> dict[str, list[str]]:
    """The diff in words: step names (never ids), what changed about each."""
    new_names = {step.id: step.name for step in shown.steps}
    changed = []
    for item in diff.changed:
        old = labels.step_name(item.step.name, item.step.kind)
        words = labels.attribute_labels(item.attributes)
        renamed = new_names.get(item.step.id)
        if "名称" in words and renamed and renamed != item.step.name:
            old = f"{renamed}（原名“{old}”）"
        changed.append(f"{old}：{'、'.join(words)}")
    return {
        "added": [labels.step_name(s.name, s.kind) for s in diff.added],
        "removed": [labels.step_name(s.name, s.kind) for s in diff.removed],
        "changed": changed,
        "forms": [labels.step_name(s.name, s.kind) for s in diff.forms_changed],
    }


@bp.route("/deployments/<process_id>/versions/<id:version>/activate", methods=["POST"])
def activate_version(process_id: str, version: int) -> Response:
    try:
        info = deployments.activate(context(), process_id, version, me())
    except InvalidInput as exc:  # no longer passes today's vetting
        flash(f"第 {version} 版未能启用：{exc.message}", "error")
    else:
        flash(f"第 {info.version} 版已启用，新办理的事项将使用此版本。", "success")
    return redirect(url_for("console.deployment_page", process_id=process_id))


def _target() -> int | None:
    return request.form.get("to_version", type=int)


@bp.route(
    "/deployments/<process_id>/versions/<id:version>/instances/<id:instance_id>/migrate",
    methods=["POST"],
)
def migrate_instance(process_id: str, version: int, instance_id: int) -> Response:
    back = url_for("console.version_page", process_id=process_id, version=version)
    target = _target()
    if target is None:
        flash("请从页面上选择要迁移到的版本。", "error")
        return redirect(back)
    try:
        moved = migration.migrate(context(), instance_id, target, me())
    except (Conflict, InvalidInput) as exc:
        reasons = [text for texts in exc.errors.values() for text in texts]
        flash("；".join([exc.message, *reasons]) + "。", "error")
        return redirect(back)
    flash(f"“{moved.title}”已迁移到第 {moved.to_version} 版。", "success")
    return redirect(back)


@bp.route("/deployments/<process_id>/versions/<id:version>/migration", methods=["POST"])
def migrate_version(process_id: str, version: int) -> Response:
    """全部迁移: every running instance of this version that can move, the others with why."""
    back = url_for("console.version_page", process_id=process_id, version=version)
    target = _target()
    if target is None:
        flash("请从页面上选择要迁移到的版本。", "error")
        return redirect(back)
    titles = {r.id: r.title for r in migration.running_on(context(), process_id, version, me())}
    try:
        report = migration.migrate_all(context(), process_id, version, target, me())
    except InvalidInput as exc:
        flash(exc.message + "：" + "；".join(t for ts in exc.errors.values() for t in ts), "error")
        return redirect(back)
    flash(f"已迁移 {len(report.moved)} 件，未迁移 {len(report.refused)} 件。", "success")
    for instance_id, reasons in report.refused.items():
        title = titles.get(instance_id, "一件事项")
        flash(f"“{title}”未迁移：{'；'.join(reasons)}。", "error")
    return redirect(back)
