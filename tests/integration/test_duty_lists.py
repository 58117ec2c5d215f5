"""Duty lists and the pre-check through the use cases, on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from engine.authz import Actor
from engine.duty_lists.catalog_files import read_rows, write
from engine.duty_lists.demo_catalog import CERTIFICATES, load_demo_catalog
from engine.duty_lists.models_catalog import DutyItem
from engine.duty_lists.services import catalog, catalog_io
from engine.duty_lists.services.catalog import ItemFilter
from engine.duty_lists.services.precheck import run_precheck
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import AuditEvent, Organization
from engine.services import accounts
from engine.services.context import Context
from engine.workflow.audit import verify_chain
from engine.workflow.services import instances
from tests.conftest import DEMO_PASSWORD
from tests.factories import application


def actor(ctx: Context, username: str) -> Actor:
    token = accounts.authenticate(ctx, username, DEMO_PASSWORD)
    return accounts.actor_for_token(ctx, token.access_token)


@pytest.fixture
def lists(ctx: Context) -> Context:
    load_demo_catalog(ctx)  # already loaded with the demo county; loading again is a no-op
    return ctx


def names(ctx: Context, who: str, **flt) -> list[str]:
    page = catalog.list_items(ctx, actor(ctx, who), ItemFilter(per_page=200, **flt))
    return [i.name for i in page.items]


def admin_events(ctx: Context) -> list[AuditEvent]:
    with ctx.db.read() as session:
        query = select(AuditEvent).where(AuditEvent.instance_id.is_(None))
        events = list(session.scalars(query.order_by(AuditEvent.seq)))
        session.expunge_all()  # keep them loaded after the read transaction ends
        return events


def test_demo_lists_cover_the_seven_categories_and_the_certificate_negative_list(lists) -> None:
    page = catalog.list_items(lists, actor(lists, "jiwei"), ItemFilter(per_page=200))
    template = [i for i in page.items if i.template]
    assert {i.category for i in template if i.list_type == "basic"} >= {
        "基层党建",
        "城乡建设",
        "经济发展",
        "村(社区)建设",
        "综合治理",
        "公共服务",
        "综合保障",
    }
    assert len([i for i in template if i.list_type in ("basic", "assisting")]) >= 36
    assert [i.name for i in template if i.list_type == "taken_back"]
    negative = [i.name for i in template if i.list_type == "negative"]
    assert len(negative) == 20 and negative == list(CERTIFICATES)
    assert load_demo_catalog(lists).created is False


def test_township_list_is_template_plus_its_additions_minus_its_removals(lists) -> None:
    nanhu = names(lists, "nanhu")
    assert "老旧小区改造协调" in nanhu and "秸秆禁烧" not in nanhu
    assert "城区占道经营秩序管理" not in nanhu  # chengguan's addition
    chengguan = names(lists, "bianban", township="chengguan")
    assert "秸秆禁烧" in chengguan and "城区占道经营秩序管理" in chengguan
    assert names(lists, "nanhu", list_type="negative") == list(CERTIFICATES)


def test_a_township_reads_only_its_own_list(lists) -> None:
    with pytest.raises(Forbidden):
        names(lists, "nanhu", township="chengguan")
    for reader in ("nongye", "sifa", "xianwei", "jiwei", "admin", "bianban"):
        assert "秸秆禁烧" in names(lists, reader, township="donghe")


def test_search_finds_items_by_fuzzy_chinese_name(lists) -> None:
    assert names(lists, "donghe", q="秸秆")[0] == "秸秆禁烧"
    assert names(lists, "donghe", q="城乡居民医保参保征缴")[0] == "城乡居民医疗保险参保征缴"
    assert names(lists, "donghe", q="航空母舰") == []


def test_create_edit_retire_are_audited_and_only_writers_may(lists) -> None:
    bianban = actor(lists, "bianban")
    before = len(admin_events(lists))
    body = {"list_type": "assisting", "category": "公共服务", "name": "老年人能力评估协助"}
    with pytest.raises(Forbidden):
        catalog.create_item(lists, actor(lists, "nongye"), body)
    created = catalog.create_item(lists, bianban, body)
    assert created.template and created.code.startswith("PH-")
    edited = catalog.edit_item(lists, bianban, created.id, {"cooperating_department": "县民政局"})
    assert edited.cooperating_department == "县民政局" and edited.version == 2
    retired = catalog.retire_item(lists, actor(lists, "admin"), created.id, {"reason": "并入"})
    assert retired.status == "retired"
    with pytest.raises(Conflict):
        catalog.retire_item(lists, bianban, created.id, {"reason": "再次"})
    events = admin_events(lists)
    assert [e.action for e in events[before:]] == [
        "duty_item_created",
        "duty_item_updated",
        "duty_item_retired",
    ]
    change = json.loads(events[before + 1].payload_json)["changes"]
    assert change == {"cooperating_department": {"from": "", "to": "县民政局"}}
    assert events[-1].role == "admin" and verify_chain(events) == []


def test_template_item_removed_for_one_township_only(lists) -> None:
    item = catalog.list_items(
        lists, actor(lists, "bianban"), ItemFilter(township="xishan", q="地质灾害防治")
    ).items[0]
    body = {"township": "xishan", "reason": "已由县自然资源局直接承担"}
    catalog.retire_item(lists, actor(lists, "bianban"), item.id, body)
    assert "地质灾害防治" not in names(lists, "xishan")
    assert "地质灾害防治" in names(lists, "beiling")
    assert admin_events(lists)[-1].action == "duty_item_removed"


def test_bad_item_is_refused_with_field_messages(lists) -> None:
    bianban = actor(lists, "bianban")
    with pytest.raises(InvalidInput) as bad:
        catalog.create_item(
            lists, bianban, {"list_type": "其他", "category": " ", "name": "秸秆禁烧"}
        )
    assert set(bad.value.errors) == {"list_type", "category"}
    with pytest.raises(InvalidInput, match="事项重复"):
        catalog.create_item(
            lists, bianban, {"list_type": "basic", "category": "经济发展", "name": "秸秆禁烧"}
        )
    with pytest.raises(InvalidInput) as unknown:
        catalog.create_item(
            lists,
            bianban,
            {"scope": "xianwei", "list_type": "basic", "category": "经济发展", "name": "新事项"},
        )
    assert "未知乡镇" in str(unknown.value.errors["scope"])


def test_simultaneous_list_changes_keep_one_unbroken_trail(lists) -> None:
    writers = [actor(lists, "bianban"), actor(lists, "admin")]
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []

    def create(who: Actor, name: str) -> None:
        barrier.wait()
        body = {"list_type": "assisting", "category": "综合治理", "name": name}
        catalog.create_item(lists, who, body)
        outcomes.append(name)

    threads = [
        threading.Thread(target=create, args=(who, name))
        for who, name in zip(writers, ("燃气安全排查", "电动自行车充电隐患排查"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["燃气安全排查", "电动自行车充电隐患排查"]
    assert verify_chain(admin_events(lists)) == []


def count_items(ctx: Context) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(DutyItem)) or 0


ROW = {"scope": "county", "list_type": "basic", "category": "公共服务", "name": "老年助餐服务"}


def test_import_with_a_bad_row_reports_line_and_reason_and_stores_nothing(lists) -> None:
    rows = [
        {**ROW, "code": "IMP-001"},
        {**ROW, "code": "IMP-002", "name": "孤独症儿童康复救助", "list_type": "基础事项"},
        {**ROW, "code": "IMP-003", "name": "婴幼儿照护服务", "scope": "nowhere"},
        {**ROW, "code": "IMP-001", "name": "重复编码"},
    ]
    items, events = count_items(lists), len(admin_events(lists))
    with pytest.raises(InvalidInput) as bad:
        catalog_io.import_items(lists, actor(lists, "admin"), "lists.csv", write("csv", rows))
    assert set(bad.value.errors["rows"]) == {"3", "4", "5"}
    assert "list_type" in bad.value.errors["rows"]["3"]
    assert "未知县或乡镇" in str(bad.value.errors["rows"]["4"]["scope"])
    assert "与第 2 行编码重复" in str(bad.value.errors["rows"]["5"]["code"])
    assert "第 3 行" in bad.value.message and "未导入任何事项" in bad.value.message
    assert count_items(lists) == items and len(admin_events(lists)) == events


def test_import_creates_and_updates_by_code_and_reports_progress(lists) -> None:
    rows = [
        {**ROW, "code": "IMP-001"},
        {**ROW, "code": "IMP-002", "scope": "beiling", "name": "林下经济产业发展"},
    ]
    seen: list[tuple[int, int]] = []
    result = catalog_io.import_items(
        lists, None, "lists.xlsx", write("xlsx", rows), lambda d, t: seen.append((d, t))
    )
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert seen == [(1, 2), (2, 2)]
    again = [{**rows[0], "description": "为老年人提供助餐"}, rows[1]]
    result = catalog_io.import_items(lists, None, "lists.csv", write("csv", again))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert "林下经济产业发展" in names(lists, "beiling")
    assert "林下经济产业发展" not in names(lists, "donghe")


def test_a_name_already_on_the_same_list_is_a_bad_row(lists) -> None:
    rows = [{**ROW, "code": "IMP-009", "name": "秸秆禁烧", "category": "经济发展"}]
    before = count_items(lists)
    with pytest.raises(InvalidInput) as bad:
        catalog_io.import_items(lists, None, "lists.csv", write("csv", rows))
    assert "同名" in str(bad.value.errors["rows"]["2"]["name"])
    assert count_items(lists) == before


def test_export_round_trips_through_import_unchanged(lists) -> None:
    for fmt in ("csv", "xlsx"):
        exported = catalog_io.export_items(lists, actor(lists, "jiwei"), fmt)
        assert len(read_rows(exported.filename, exported.data)) == count_items(lists)
        result = catalog_io.import_items(lists, None, exported.filename, exported.data)
        assert result.created == result.updated == 0
    own = catalog_io.export_items(lists, actor(lists, "nanhu"), "csv")
    assert own.filename.startswith("duty-items-nanhu-")
    with pytest.raises(Forbidden):
        catalog_io.import_items(lists, actor(lists, "nanhu"), "x.csv", own.data)


def run(ctx: Context, values: dict, *codes: str, exclude: int | None = None):
    with ctx.db.read() as session:
        found = {
            o.code: o
            for o in session.scalars(select(Organization).where(Organization.code.in_(codes)))
        }
        return run_precheck(session, ctx, values, [found[code] for code in codes], exclude)


def test_precheck_names_a_pending_duplicate_for_the_same_township(lists) -> None:
    filed = instances.start(lists, "matter_admission", application(), actor(lists, "nongye"))
    near = application(name="高标准农田项目巡查", townships=["donghe"])
    [finding] = run(lists, near, "donghe").findings
    assert finding.kind == "duplicate_matter" and finding.matter.instance_id == filed.id
    assert finding.matter.status == "pending" and finding.townships == ("donghe",)
    assert run(lists, near, "xishan").findings == ()
    assert run(lists, application(), "chengguan", exclude=filed.id).findings == ()


def test_precheck_blocks_negative_list_and_flags_lists_and_resources(lists) -> None:
    certificate = application(name="为辖区居民出具亲属关系证明", resources={"funding_yuan": 0})
    result = run(lists, certificate, "chengguan")
    assert result.blocking and result.needs_justification
    assert "亲属关系证明" in result.refusal().message
    on_list = run(lists, application(name="秸秆禁烧巡查"), "chengguan", "nanhu")
    [finding] = on_list.findings
    assert finding.kind == "on_duty_list" and finding.townships == ("chengguan",)
    taken = run(lists, application(name="校车安全管理检查"), "beiling")
    assert [f.kind for f in taken.findings] == ["taken_back"]
    assert json.loads(json.dumps(result.to_dict()))["blocking"] is True
