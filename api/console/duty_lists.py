"""清单 pages: the townships' duty lists, searched and read in the console; kept by 县委编办 and
admins (add an item, retire one), exported as the county files them."""

from __future__ import annotations

from typing import Any

from flask import Response as FlaskResponse
from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from api.console import lookups
from api.console.web import bp, context, me, render
from engine.duty_lists.catalog import LIST_LABELS
from engine.duty_lists.catalog_forms import ITEM_FIELDS
from engine.duty_lists.services import catalog, catalog_io
from engine.errors import Conflict, DomainError, InvalidInput

PER_PAGE = 50
FILTERS = ("township", "list_type", "q")


def _filter() -> catalog.ItemFilter:
    page = request.args.get("page", "1")
    return catalog.ItemFilter(
        township=request.args.get("township") or None,
        list_type=request.args.get("list_type") or None,
        q=request.args.get("q") or None,
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
        per_page=PER_PAGE,
    )


def _page(status: int = 200, errors: dict[str, Any] | None = None, values: Any = None):
    actor = me()
    wanted = _filter()
    found, problems = None, {}
    try:
        found = catalog.list_items(context(), actor, wanted)
    except InvalidInput as exc:
        problems = exc.errors
    return render(
        "duty_lists/catalog.html",
        422 if problems else status,
        found=found,
        wanted=wanted,
        filter_errors=problems,
        pager_args={k: request.args[k] for k in FILTERS if request.args.get(k)},
        townships=lookups.townships(context(), me(), retired_too=True),
        list_types=LIST_LABELS,
        writer=bool(actor.roles & set(catalog.WRITERS)),
        reads_all=bool(actor.roles & catalog.ALL_LISTS_READERS),
        errors=errors or {},
        values=values or {},
    )


@bp.route("/catalog")
def catalog_page() -> tuple[str, int]:
    """职责清单: a township's effective list (its own, for a township), searched and paged."""
    return _page()


@bp.route("/catalog/items", methods=["POST"])
def catalog_add() -> Response | tuple[str, int]:
    """新增清单事项 (县委编办, admins): on the county template, or on one township's list."""
    body = {k: v.strip() for k, v in request.form.items() if k != "csrf_token" and v.strip()}
    body.setdefault("scope", None)
    try:
        item = catalog.create_item(context(), me(), body)
    except InvalidInput as exc:
        errors = {k: list(v) if isinstance(v, list) else [str(v)] for k, v in exc.errors.items()}
        return _page(422, errors, request.form)
    flash(f"已新增清单事项“{item.name}”。", "success")
    return redirect(url_for("console.catalog_page", township=request.form.get("scope") or None))


# What the console edits of an item (its list and dates are kept as they are).
EDITABLE = tuple(f for f in ITEM_FIELDS if f not in ("list_type", "effective_from", "effective_to"))


@bp.route("/catalog/items/<id:item_id>/edit", methods=["GET", "POST"])
def catalog_edit(item_id: int) -> Response | tuple[str, int]:
    """修改清单事项 (县委编办, admins): its content; where it belongs stays."""
    item = catalog.get_item(context(), me(), item_id)
    if request.method == "GET":
        values = {key: getattr(item, key) or "" for key in EDITABLE}
        return render("duty_lists/item_edit.html", item=item, values=values, errors={})
    body = {key: request.form.get(key, "").strip() for key in EDITABLE}
    changed = {k: v for k, v in body.items() if v != (getattr(item, k) or "")}
    try:
        if not changed:
            raise InvalidInput("未作修改", {"name": ["请至少修改一项内容"]})
        edited = catalog.edit_item(context(), me(), item_id, changed)
    except InvalidInput as exc:
        errors = {k: list(v) if isinstance(v, list) else [str(v)] for k, v in exc.errors.items()}
        return render("duty_lists/item_edit.html", 422, item=item, values=body, errors=errors)
    flash(f"已修改清单事项“{edited.name}”。", "success")
    township = None if edited.template else edited.scope.code
    return redirect(url_for("console.catalog_page", township=township, q=edited.name))


@bp.route("/catalog/items/<id:item_id>/retire", methods=["POST"])
def catalog_retire(item_id: int) -> Response:
    """废止 an item everywhere (县委编办, admins), with the reason on the trail."""
    try:
        item = catalog.retire_item(
            context(), me(), item_id, {"reason": request.form.get("reason", "").strip()}
        )
    except (InvalidInput, Conflict) as exc:
        detail = "；".join(m for ms in getattr(exc, "errors", {}).values() for m in ms)
        flash(f"未能废止：{exc.message}" + (f"（{detail}）" if detail else ""), "error")
    else:
        flash(f"已废止清单事项“{item.name}”。", "success")
    return redirect(request.referrer or url_for("console.catalog_page"))


@bp.route("/catalog/export.<any(csv, xlsx):fmt>")
def catalog_export(fmt: str) -> FlaskResponse | tuple[str, int]:
    """The list as the county files it: a township's effective list, or every list."""
    try:
        exported = catalog_io.export_items(context(), me(), fmt, request.args.get("township"))
    except DomainError as exc:
        flash(exc.message, "error")
        return _page(exc_status(exc))
    return FlaskResponse(
        exported.data,
        content_type=exported.content_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


def exc_status(exc: DomainError) -> int:
    return 422 if isinstance(exc, InvalidInput) else 403
