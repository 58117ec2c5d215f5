"""A county's organisations and people in bulk, as one XLSX workbook (sheets 单位 and 人员) or
a CSV file of either: every row is stored, or (any bad row, named with its sheet, line and
reason) nothing of the file. New people get system-issued passwords, handed back once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import ROLE_LABELS, Actor
from engine.errors import Conflict, DomainError, InvalidInput
from engine.models import Organization, User
from engine.services import organizations, people
from engine.services.people_forms import (
    ORG_LEVEL_LABELS,
    OrganizationSchema,
    UserEditSchema,
    UserSchema,
)
from engine.tables import FORMATS, Sheet, read_workbook, write, write_workbook
from engine.workflow.context import Context
from engine.workflow.fields import char_problem, load_input

Progress = Callable[[int, int], None]
SHOWN_PROBLEMS = 3

ORG_SHEET = Sheet(
    "单位",
    {
        "code": "单位编码",
        "name": "单位名称",
        "level": "层级",
        "parent": "上级单位编码",
        "active": "状态",
    },
    ("code", "name", "level"),
)
USER_SHEET = Sheet(
    "人员",
    {
        "username": "登录名",
        "display_name": "姓名",
        "org": "单位编码",
        "roles": "角色",
        "email": "电子邮箱",
        "active": "状态",
    },
    ("username", "display_name", "org", "roles"),
)
SHEETS = (ORG_SHEET, USER_SHEET)
# The standing column, as written and as read (either word for either table).
_ACTIVE_WORDS = {"在用": True, "启用": True, "停用": False, "已停用": False, "已撤销": False}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class NewPerson:
    username: str
    display_name: str
    org_name: str
    temporary_password: str


@dataclass(frozen=True)
class ImportResult:
    organizations_created: int
    organizations_updated: int
    people_created: int
    people_updated: int
    unchanged: int
    # The passwords the system issued to the people created: shown once, changed at sign-in.
    new_people: list[NewPerson]


def export_people(ctx: Context, actor: Actor | None, fmt: str, table: str = "") -> ExportFile:
    """Every organisation and person: a workbook with both sheets, or one table as CSV."""
    organizations.require_admin(actor)
    if fmt not in FORMATS:
        raise InvalidInput("导出格式有误", {"format": ["应为 csv 或 xlsx"]})
    if fmt == "csv" and table not in ("organizations", "people"):
        raise InvalidInput("请指明导出单位还是人员", {"table": ["应为 organizations 或 people"]})
    tree = organizations.organizations(ctx, actor)
    with ctx.db.read() as session:
        org_rows = [
            {
                "code": o.code,
                "name": o.name,
                "level": ORG_LEVEL_LABELS[o.level],
                "parent": o.parent or "",
                "active": "在用" if o.active else "已撤销",
            }
            for o in tree
        ]
        codes = {o.id: o.code for o in tree}
        user_rows = [
            {
                "username": u.username,
                "display_name": u.display_name,
                "org": codes[u.org_id],
                "roles": [ROLE_LABELS[r] for r in u.roles if r in ROLE_LABELS],
                "email": u.email,
                "active": "在用" if u.active else "停用",
            }
            for u in session.scalars(select(User).order_by(User.org_id, User.id))
            if u.org_id in codes  # the people of the organisations the caller keeps
        ]
    day = ctx.clock.now().date().isoformat()
    if fmt == "xlsx":
        data = write_workbook([(ORG_SHEET, org_rows), (USER_SHEET, user_rows)])
        return ExportFile(f"people-{day}.xlsx", FORMATS["xlsx"], data)
    sheet, rows = (ORG_SHEET, org_rows) if table == "organizations" else (USER_SHEET, user_rows)
    return ExportFile(f"{table}-{day}.csv", FORMATS["csv"], write(sheet, "csv", rows))


def import_people(
    ctx: Context,
    actor: Actor | None,
    filename: str,
    data: bytes,
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update organisations by code and people by username (their passwords are
    never imported). A bad row is reported with its sheet, line and reason, and then nothing
    of the file is stored."""
    organizations.require_admin(actor)
    problem = char_problem(filename)
    if problem is not None:
        raise InvalidInput("文件名有误", {"file": [f"文件名{problem}"]})
    tables = read_workbook(SHEETS, filename, data)
    org_rows, user_rows = tables[ORG_SHEET.title], tables[USER_SHEET.title]
    if not org_rows and not user_rows:
        raise InvalidInput("文件没有数据行", {"file": ["文件只有表头，没有可导入的单位或人员"]})
    source = {"file": filename[-200:], "sha256": hashlib.sha256(data).hexdigest()}
    now = ctx.clock.now()
    with ctx.db.write() as session:
        run = _Run(session, ctx, actor, now, len(org_rows) + len(user_rows), progress)
        for row in _parents_first(org_rows):
            run.attempt(ORG_SHEET, row.line, lambda r=row: _org_row(run, r))
        for row in user_rows:
            run.attempt(USER_SHEET, row.line, lambda r=row: _user_row(run, r.values))
        for line, org in run.retiring:  # once its people have left
            run.attempt(
                ORG_SHEET,
                line,
                lambda o=org: organizations.change_organization(
                    session, o, {"active": False}, actor, now
                ),
                tick=False,
            )
        _refuse(run.errors)
        organizations.record(
            session,
            actor,
            now,
            "people_imported",
            {**source, "organizations": len(org_rows), "people": len(user_rows)},
        )
    c = run.counts
    return ImportResult(c["oc"], c["ou"], c["pc"], c["pu"], c["same"], run.issued)


class _Run:
    """One import in its transaction: what it counted, issued and found wrong, row by row."""

    def __init__(
        self,
        session: Session,
        ctx: Context,
        actor: Actor | None,
        now: Any,
        total: int,
        progress: Progress | None,
    ) -> None:
        self.session, self.ctx, self.actor, self.now = session, ctx, actor, now
        self.total, self.done, self.progress = total, 0, progress
        self.errors: dict[tuple[str, int], dict[str, Any]] = {}
        self.counts = {"oc": 0, "ou": 0, "pc": 0, "pu": 0, "same": 0}
        self.issued: list[NewPerson] = []
        self.retiring: list[tuple[int, Organization]] = []

    def attempt(self, sheet: Sheet, line: int, step: Callable[[], Any], tick: bool = True) -> None:
        try:
            kind = step()
            if isinstance(kind, str):
                self.counts[kind] += 1
        except DomainError as exc:
            self.errors[(sheet.title, line)] = _fields(exc)
        if tick:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)


def _parents_first(rows: list[Any]) -> list[Any]:
    """Organisation rows ordered so a parent in the same file comes before its children."""
    pending, ordered, placed = list(rows), [], set()
    codes = {r.values.get("code") for r in rows}
    while pending:
        ready = [
            r
            for r in pending
            if r.values.get("parent") not in codes or r.values.get("parent") in placed
        ]
        if not ready:  # a cycle: leave the rest in file order, each will name its problem
            ready = pending
        for r in ready:
            ordered.append(r)
            placed.add(r.values.get("code"))
        pending = [r for r in pending if r not in ready]
    return ordered


def _active(values: dict[str, Any]) -> dict[str, Any]:
    word = values.pop("active", None)
    if word is None:
        return values
    if word not in _ACTIVE_WORDS:
        raise InvalidInput("状态有误", {"active": ["应为 在用、停用 或 已撤销"]})
    return {**values, "active": _ACTIVE_WORDS[word]}


def _org_row(run: _Run, row: Any) -> str:
    session, actor, now = run.session, run.actor, run.now
    values = _active(dict(row.values))
    active = values.pop("active", None)
    if not values.get("code"):
        raise InvalidInput("单位编码不能为空", {"code": ["请填写单位编码"]})
    loaded = load_input(OrganizationSchema(), values, "单位信息填写有误")
    existing = session.scalar(select(Organization).where(Organization.code == loaded["code"]))
    if existing is not None and not organizations.keeps(actor, existing):
        raise InvalidInput("单位编码已被使用", {"code": [f"编码 {loaded['code']} 已被使用"]})
    if existing is None:
        org = organizations.insert_organization(session, loaded, actor, now)
        kind = "oc"
    else:
        if existing.level != loaded["level"]:
            raise InvalidInput(
                "层级不能修改", {"level": [f"该单位已是{ORG_LEVEL_LABELS[existing.level]}"]}
            )
        org = existing
        changed = organizations.change_organization(
            session, org, {"name": loaded["name"], "parent": loaded["parent"]}, actor, now
        )
        kind = "ou" if changed else "same"
    if active is False and org.active:
        run.retiring.append((row.line, org))
        kind = "ou"
    elif active is True and not org.active:
        organizations.change_organization(session, org, {"active": True}, actor, now)
        kind = "ou"
    return kind


def _user_row(run: _Run, raw: dict[str, Any]) -> str:
    session, ctx, actor, now = run.session, run.ctx, run.actor, run.now
    values = _active(dict(raw))
    existing = session.scalar(select(User).where(User.username == values.get("username")))
    kept = existing is not None and organizations.keeps(
        actor, session.get(Organization, existing.org_id)
    )
    if existing is not None and not kept:
        raise InvalidInput("用户名已被使用", {"username": [f"用户名 {existing.username} 已被使用"]})
    if existing is None:
        active = values.pop("active", True)
        loaded = load_input(UserSchema(), values, "人员信息填写有误")
        password = people.temporary_password(ctx)
        user = people.insert_user(session, loaded, password, actor, now)
        if not active:
            people.change_user(session, ctx, user, {"active": False}, actor, now)
        org = session.get(Organization, user.org_id)
        assert org is not None
        run.issued.append(NewPerson(user.username, user.display_name, org.name, password))
        return "pc"
    values.pop("username")
    loaded = load_input(UserEditSchema(), values, "人员信息填写有误", partial=True)
    changed = people.change_user(session, ctx, existing, loaded, actor, now)
    return "pu" if changed else "same"


def _fields(exc: DomainError) -> dict[str, Any]:
    if isinstance(exc, Conflict) or not exc.errors:
        return {"_": [exc.message]}
    return dict(exc.errors)


def _refuse(errors: dict[tuple[str, int], dict[str, Any]]) -> None:
    if not errors:
        return
    headers = {**ORG_SHEET.columns, **USER_SHEET.columns, "_": "本行"}
    shown = []
    for sheet, line in sorted(errors)[:SHOWN_PROBLEMS]:
        reasons = "；".join(
            f"{headers.get(field, field)}：{'、'.join(map(str, messages))}"
            for field, messages in errors[(sheet, line)].items()
        )
        shown.append(f"{sheet}表第 {line} 行（{reasons}）")
    more = f"等 {len(errors)} 行" if len(errors) > SHOWN_PROBLEMS else ""
    message = f"导入文件有误，未导入任何内容：{'，'.join(shown)}{more}"
    rows = {f"{sheet}!{line}": errors[(sheet, line)] for sheet, line in sorted(errors)}
    raise InvalidInput(message, {"rows": rows})
