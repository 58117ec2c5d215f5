"""The console's blueprint and what every page shares: sign-in, CSRF, error pages, local time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from api import errors as api_errors
from api.auth import address_retry_after
from api.console import labels
from engine.authz import CASE_READERS, TASK_ROLES, Actor
from engine.duty_lists.services.catalog import ALL_LISTS_READERS as LIST_READERS
from engine.errors import DomainError, Unauthenticated
from engine.services import accounts, notices
from engine.services.context import Context
from engine.workflow.services import tasks
from engine.workflow.workdays import written_date

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console-static",
)
csrf = CSRFProtect()
# The sign-in form, and the way out to the county's identity provider and back.
OPEN_ENDPOINTS = {"console.login", "console.static", "console.oidc_login", "console.oidc_callback"}
# What a person whose password an administrator issued may do before choosing their own.
PASSWORD_CHANGE_ENDPOINTS = OPEN_ENDPOINTS | {"console.account_password", "console.logout"}
INBOX_PAGES = 20  # how far the console looks for a task among the caller's own (100 a page)
# Roles that take part in admitting matters: they get the register and the burden dashboard.
RATING_READERS = frozenset(
    {"applicant", "reviewer", "legal_reviewer", "approver", "auditor", "organization"}
)
ADMISSION_ROLES = frozenset(
    {"applicant", "reviewer", "legal_reviewer", "approver", "township", "auditor"}
)

ERROR_TITLES = {
    400: "请求有误",
    403: "无权访问",
    404: "页面或事项不存在",
    405: "不支持该操作",
    409: "操作与当前状态冲突",
    413: "提交的内容过大",
    422: "提交的内容有误",
    500: "系统出错了",
}
ERROR_HINTS = {
    403: "您的账号没有办理此项的权限。如有疑问，请联系本单位管理员。",
    404: "您要找的页面或事项不存在，或不在您的查看范围内。",
    409: "该事项已被他人办理或已进入下一环节，请刷新后查看最新状态。",
    500: "请稍后重试；如果问题持续出现，请联系平台管理员。",
}


def context() -> Context:
    return current_app.extensions["zhunru"]


def me() -> Actor:
    """The signed-in user (set by `_sign_in_required` on every console request)."""
    return g.console_actor


def local_time(value: datetime | date | None, with_time: bool = True) -> Markup | str:
    """A UTC instant as the county's local time, written the way officials write dates
    (2026年12月21日 09:30), in a <time> element: one way of writing a date on every page."""
    return cn_date(value, with_time=with_time)


def due_by(task: Any) -> Markup | str:
    """A step's deadline as a county reads it: 2026年12月21日前（含当日）."""
    day = getattr(task, "due_date", None)
    if day is None:
        return "—"
    shown = f"{written_date(day)}前（含当日）"
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), shown)


@bp.app_template_filter("cn_date")
def cn_date(value: datetime | date | None, with_time: bool = False) -> Markup | str:
    """A date as officials write it, 2026年12月21日 (an instant in the county's local time,
    with the time of day if asked), in a <time> element."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(context().settings.timezone))
    shown = written_date(value)
    if with_time and isinstance(value, datetime):
        shown += value.strftime(" %H:%M")
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), shown)


def is_overdue(task: Any) -> bool:
    """Escalated by the worker, or past its due time already by the service's clock."""
    due = getattr(task, "due_at", None)
    return bool(task.overdue or (due is not None and due < context().clock.now()))


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or protocol-relative address."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for("console.home")
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else url_for("console.home")


def my_task_ids(actor: Actor) -> set[int]:
    """Ids of the open tasks in the caller's inbox (the tasks they may take)."""
    found: set[int] = set()
    if not actor.roles & TASK_ROLES:
        return found
    for page in range(1, INBOX_PAGES + 1):
        batch = tasks.inbox(context(), actor, page=page, per_page=100)
        found.update(task.id for task in batch)
        if len(batch) < 100:
            break
    return found


def render(template: str, http_status: int = 200, **values: Any) -> tuple[str, int]:
    return render_template(template, **values), http_status


@bp.before_request
def _sign_in_required() -> Response | None:
    """Every page but the sign-in page needs a signed-in user; every POST a CSRF token."""
    _load_session_actor(clear_if_invalid=True)
    if request.endpoint not in OPEN_ENDPOINTS and "console_actor" not in g:
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    actor = g.get("console_actor")
    # Someone who signed in through the identity provider used no password here: an issued one
    # they must replace does not stand between them and their work (see `start_session`).
    if actor is not None and actor.password_change_due and not session.get("external"):
        if request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
            return redirect(url_for("console.account_password"))
    if request.method == "POST":
        csrf.protect()
    return None


def start_session(actor: Actor, external: bool = False) -> None:
    """Sign `actor` in to this browser: with the password form, or `external`ly through the
    county's identity provider (OIDC). Such a session is not sent to change a password an
    administrator issued: the person did not sign in with it and may never have received it,
    and the change form asks for it. The issued password stays as it was, to be replaced the
    first time it is used."""
    session.clear()  # a fresh session for the new user: nothing carried over from before
    session.permanent = True
    session["user_id"] = actor.user_id
    session["epoch"] = accounts.session_epoch(context(), actor.user_id)
    if external:
        session["external"] = True
    flash(f"欢迎，{actor.display_name or actor.org_name}", "success")


def _load_session_actor(clear_if_invalid: bool) -> None:
    """The session's user as g.console_actor, if the session is still good (same epoch)."""
    user_id, epoch = session.get("user_id"), session.get("epoch", 0)
    if not isinstance(user_id, int) or not isinstance(epoch, int) or "console_actor" in g:
        return
    try:
        g.console_actor = accounts.actor_for_session(context(), user_id, epoch)
    except Unauthenticated:
        if clear_if_invalid:
            session.clear()


@bp.app_context_processor
def _page_values() -> dict[str, Any]:
    actor = g.get("console_actor")
    # A county's people act within it; a city's office reads every county's burden picture,
    # and takes no county's steps nor reads its matters, lists or ratings.
    county = bool(actor and actor.county_id is not None)
    return {
        "me": actor,
        "has_tasks": bool(county and actor.roles & TASK_ROLES),
        "reads_admission": bool(county and actor.roles & ADMISSION_ROLES),
        "city_office": bool(actor and not county and actor.city_id is not None),
        # Duty lists: the county offices, applicants and admins read every list, a township its own.
        "reads_lists": bool(county and actor.roles & (LIST_READERS | {"township"})),
        # Case readers, and cadres, who read the cases that concern them.
        "reads_cases": bool(county and (actor.roles & CASE_READERS or actor.has("cadre"))),
        # 部门考核评价: the assessing offices, and each department its own summary.
        "reads_ratings": bool(county and actor.roles & RATING_READERS),
        "zone": _zone_name(context().settings.timezone),
        "labels": labels,
        "local_time": local_time,
        "due_by": due_by,
        "is_overdue": is_overdue,
        "unread_notices": notices.unread_count(context(), actor) if actor else 0,
        # The sign-in page's button to the county's identity provider, when there is one.
        "oidc_label": context().settings.oidc_label if context().settings.oidc_issuer else "",
    }


def _zone_name(zone: str) -> str:
    return "北京时间" if zone in {"Asia/Shanghai", "Asia/Chongqing", "PRC"} else zone


def error_page(status: int, message: str = "") -> tuple[str, int]:
    return render(
        "error.html",
        status,
        status=status,
        title=ERROR_TITLES.get(status, "出错了"),
        message=message,
        hint=ERROR_HINTS.get(status, ""),
    )


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response | tuple[str, int]:
    if isinstance(error, Unauthenticated):
        session.clear()
        return redirect(url_for("console.login"))
    return error_page(api_errors.status_of(error), error.message)


def sign_in_refused(message: str, retry_after: int) -> tuple[str, int, dict[str, str]]:
    """The sign-in form again, saying why and for how long signing in is held back (429)."""
    html = render_template(
        "login.html",
        next=request.values.get("next", ""),
        username=request.form.get("username", "").strip(),
        error=message,
    )
    return html, 429, {"Retry-After": str(retry_after)}


@bp.errorhandler(RateLimitExceeded)
def _address_held_back(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    """Too many failed sign-ins from the client's address (only the sign-in form is limited)."""
    return sign_in_refused(error.description or "", address_retry_after())


@bp.errorhandler(CSRFError)
def _csrf_error(_error: CSRFError) -> tuple[str, int]:
    return error_page(400, "页面已过期或来源不明，请返回上一页刷新后重新提交。")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return error_page(status, api_errors.HTTP_MESSAGES.get(status, ""))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> tuple[str, int]:
    current_app.logger.exception("console error", exc_info=error)
    return error_page(500)


def not_found_outside_api(api_prefix: str) -> Callable[[HTTPException], Any]:
    """App-wide 404: JSON under the API prefix as before, the console's page elsewhere."""

    def handle(error: HTTPException) -> Any:
        if request.path == api_prefix or request.path.startswith(api_prefix + "/"):
            return api_errors.handle_http_exception(error)
        _load_session_actor(clear_if_invalid=False)
        return error_page(404, api_errors.HTTP_MESSAGES[404])

    return handle
