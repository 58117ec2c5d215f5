"""The demo county's duty lists: a county template in 襄城's seven categories, township changes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.authz import Actor
from engine.duty_lists.models_catalog import DutyItem, DutyItemRemoval
from engine.duty_lists.services.catalog import record, snapshot, the_county
from engine.models import Organization
from engine.workflow import audit
from engine.workflow.context import Context

TOWNSHIP_BASIS = (
    "《关于加强基层治理体系和治理能力现代化建设的意见》；本县乡镇（街道）履行职责事项清单"
)
VILLAGE_BASIS = "《中华人民共和国村民委员会组织法》；本县村（社区）工作事项清单"
CERTIFICATE_BASIS = "《关于改进和规范基层群众性自治组织出具证明工作的指导意见》（民发〔2020〕74号）"

# list type → category → (name, cooperating department or, for taken-back items, the department)
TEMPLATE: dict[str, dict[str, list[tuple[str, str]]]] = {
    "basic": {
        "基层党建": [
            ("基层党组织建设", "县委组织部"),
            ("党员教育管理和发展党员", "县委组织部"),
            ("村（社区）“两委”换届选举", "县委组织部、县民政局"),
            ("党风廉政建设", "县纪委监委"),
            ("意识形态和宣传思想", "县委宣传部"),
            ("统一战线和民族宗教事务", "县委统战部"),
            ("群团组织建设", "县总工会、团县委、县妇联"),
        ],
        "城乡建设": [
            ("乡村规划建设管理", "县自然资源局、县住建局"),
            ("农村人居环境整治", "县农业农村局"),
            ("农村生活垃圾治理", "县住建局"),
            ("农村公路养护管理", "县交通运输局"),
            ("农村危房改造", "县住建局"),
            ("集镇市容环境卫生管理", "县城管局"),
            ("违法建设巡查制止", "县自然资源局、县城管局"),
        ],
        "经济发展": [
            ("辖区经济发展规划", "县发改委"),
            ("招商引资和项目服务", "县商务局"),
            ("粮食生产和重要农产品稳产保供", "县农业农村局"),
            ("农民专业合作社和家庭农场培育", "县农业农村局"),
            ("农村集体经济发展", "县农业农村局"),
            ("秸秆禁烧", "县生态环境局、县农业农村局"),
            ("动物防疫", "县农业农村局"),
            ("统计调查", "县统计局"),
        ],
        "村(社区)建设": [
            ("村（居）民自治指导", "县民政局"),
            ("村务公开和民主管理", "县民政局"),
            ("村规民约修订指导", "县民政局"),
            ("村级财务监督管理", "县农业农村局"),
            ("社区网格化服务管理", "县委政法委"),
        ],
        "综合治理": [
            ("矛盾纠纷排查化解", "县委政法委、县司法局"),
            ("信访事项办理", "县信访局"),
            ("安全生产监督检查", "县应急管理局"),
            ("防汛抗旱", "县应急管理局、县水利局"),
            ("森林防火", "县林业局"),
            ("食品安全协管", "县市场监管局"),
            ("禁毒宣传和社区戒毒", "县公安局"),
            ("人民调解", "县司法局"),
            ("地质灾害防治", "县自然资源局"),
        ],
        "公共服务": [
            ("城乡居民医疗保险参保征缴", "县医保局、县税务局"),
            ("城乡居民养老保险经办", "县人社局"),
            ("最低生活保障对象审核", "县民政局"),
            ("特困人员供养服务", "县民政局"),
            ("残疾人服务", "县残联"),
            ("退役军人服务保障", "县退役军人事务局"),
            ("就业创业服务", "县人社局"),
            ("控辍保学", "县教育局"),
            ("爱国卫生和健康教育", "县卫健委"),
        ],
        "综合保障": [
            ("乡镇财政预决算管理", "县财政局"),
            ("政务公开", "县政府办"),
            ("档案管理", "县档案馆"),
            ("便民服务中心运行", "县政务服务和大数据管理局"),
            ("保密管理", "县委保密办"),
        ],
    },
    "assisting": {
        "基层党建": [("人大代表选举", "县人大常委会"), ("新时代文明实践站建设", "县委宣传部")],
        "城乡建设": [
            ("农村饮水安全工程运行管护", "县水利局"),
            ("河湖长制巡河", "县水利局"),
            ("耕地保护和违法占地巡查", "县自然资源局"),
        ],
        "经济发展": [
            ("农业保险承保理赔", "县财政局"),
            ("土地承包经营权确权登记", "县农业农村局"),
        ],
        "村(社区)建设": [("城乡社区综合服务站建设", "县民政局")],
        "综合治理": [
            ("消防安全网格化管理", "县消防救援大队"),
            ("道路交通安全劝导", "县公安局交警大队"),
            ("反电信网络诈骗宣传", "县公安局"),
            ("生态环境问题巡查", "县生态环境局"),
        ],
        "公共服务": [
            ("学生资助信息核实", "县教育局"),
            ("适龄儿童预防接种通知", "县卫健委"),
            ("征兵", "县人武部"),
        ],
        "综合保障": [("12345热线工单办理", "县政务服务和大数据管理局")],
    },
    "taken_back": {
        "城乡建设": [
            ("建设工程质量安全监督", "县住建局"),
            ("不动产登记", "县自然资源局"),
            ("道路运输经营许可", "县交通运输局"),
        ],
        "经济发展": [
            ("农药兽药经营许可", "县农业农村局"),
            ("渔业行政执法", "县农业农村局"),
            ("环境影响评价审批", "县生态环境局"),
        ],
        "综合治理": [
            ("特种设备安全监察", "县市场监管局"),
            ("工矿企业安全生产行政执法", "县应急管理局"),
            ("药品经营使用监管", "县市场监管局"),
        ],
        "公共服务": [
            ("校车安全管理", "县教育局"),
            ("医疗机构执业监管", "县卫健委"),
            ("义务教育教师招聘", "县教育局"),
        ],
    },
    "own": {
        "村(社区)建设": [
            ("召集村民会议和村民代表会议", "乡镇（街道）"),
            ("村集体资产资源管理", "乡镇（街道）"),
            ("村（社区）公共卫生和环境维护", "乡镇（街道）"),
        ],
        "综合治理": [("村（社区）人民调解委员会调解", "乡镇（街道）")],
    },
    "assist": {
        "公共服务": [
            ("协助社会救助对象走访摸排", "乡镇（街道）"),
            ("协助基本公共卫生服务", "乡镇（街道）"),
        ],
        "综合治理": [("协助社会治安防控", "乡镇（街道）")],
    },
}
# The national list of certificates villages and communities must not issue, as extended here.
CERTIFICATES = (
    "亲属关系证明 居民身份信息证明 无犯罪记录证明 婚姻状况证明 出生证明 死亡证明 疾病证明 "
    "残疾证明 财产证明 遗失证明 户籍登记信息证明 政治面貌证明 民族成分证明 计划生育情况证明 "
    "就业失业状况证明 个人收入证明 纳税情况证明 社会保险参保缴费证明 学历学位证明 职业资格证明"
).split()
# What villages may be asked to hang and run (挂牌、工作机制清单): the four signboards of a
# village's own organisations, and one mechanism the law sets up.
_ORGANISATION_LAW = "《中华人民共和国村民委员会组织法》"
LISTED = (
    ("signboard", "挂牌", "村党组织", "《中国共产党农村基层组织工作条例》"),
    ("signboard", "挂牌", "村民委员会", _ORGANISATION_LAW),
    ("signboard", "挂牌", "村务监督委员会", _ORGANISATION_LAW),
    ("signboard", "挂牌", "村集体经济组织", "《中华人民共和国农村集体经济组织法》"),
    ("mechanism", "工作机制", "村民会议和村民代表会议", _ORGANISATION_LAW),
)
PREFIXES = {"basic": "JB", "assisting": "PH", "taken_back": "SH", "own": "LZ", "assist": "XZ"}
PREFIXES |= {"signboard": "GP", "mechanism": "JZ"}

# township → additions (list type, category, name, cooperating department) and removals.
ADDITIONS: dict[str, list[tuple[str, str, str, str]]] = {
    "chengguan": [("basic", "城乡建设", "城区占道经营秩序管理", "县城管局")],
    "donghe": [("assisting", "城乡建设", "河道采砂巡查", "县水利局")],
    "xishan": [
        ("basic", "综合治理", "景区周边环境秩序维护", "县文化广电和旅游局"),
        ("assisting", "城乡建设", "矿山生态修复巡查", "县自然资源局"),
    ],
    "nanhu": [
        ("basic", "城乡建设", "老旧小区改造协调", "县住建局"),
        ("basic", "村(社区)建设", "住宅小区物业服务监督", "县住建局"),
    ],
    "beiling": [("basic", "综合治理", "护林员队伍管理", "县林业局")],
}
REMOVALS: dict[str, list[tuple[str, str]]] = {
    "nanhu": [
        ("秸秆禁烧", "街道无耕地，不承担秸秆禁烧"),
        ("森林防火", "辖区无林地"),
        ("粮食生产和重要农产品稳产保供", "街道无耕地"),
        ("农村公路养护管理", "辖区道路由县城管局养护"),
    ],
    "chengguan": [("森林防火", "辖区无林地")],
}


@dataclass(frozen=True)
class DemoCatalogResult:
    created: bool
    items: int
    removals: int


def _template_items() -> list[dict[str, str]]:
    rows = []
    for list_type, categories in TEMPLATE.items():
        for category, entries in categories.items():
            for name, other in entries:
                taken_back = list_type == "taken_back"
                village = list_type in ("own", "assist")
                rows.append(
                    {
                        "list_type": list_type,
                        "category": category,
                        "name": name,
                        "responsible_body": other if taken_back else "乡镇（街道）",
                        "cooperating_department": "" if taken_back else other,
                        "basis": VILLAGE_BASIS if village else TOWNSHIP_BASIS,
                    }
                )
    rows += [
        {
            "list_type": "negative",
            "category": "证明事项",
            "name": name,
            "description": f"村（社区）不得出具{name}，由有关部门依职责办理或以告知承诺等方式解决",
            "responsible_body": "村（居）民委员会",
            "basis": CERTIFICATE_BASIS,
        }
        for name in CERTIFICATES
    ]
    rows += [
        {
            "list_type": kind,
            "category": category,
            "name": name,
            "responsible_body": "村（居）民委员会",
            "basis": basis,
        }
        for kind, category, name, basis in LISTED
    ]
    return rows


def _coded(rows: list[dict[str, str]], prefix: str) -> list[dict[str, str]]:
    counters: dict[str, int] = {}
    for row in rows:
        kind = PREFIXES.get(row["list_type"], "FM")
        counters[kind] = counters.get(kind, 0) + 1
        row["code"] = f"{prefix}-{kind}-{counters[kind]:03d}"
    return rows


def load_demo_catalog(ctx: Context, actor: Actor | None = None) -> DemoCatalogResult:
    """Load the demo lists once (after load_demo); running it again changes nothing."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        audit.lock_admin_chain(session)
        orgs = {o.code: o for o in session.scalars(select(Organization))}
        county = the_county(session, actor)
        if session.scalar(select(DutyItem.id).where(DutyItem.scope_org_id == county.id).limit(1)):
            return DemoCatalogResult(created=False, items=0, removals=0)
        plan = [(county, row) for row in _coded(_template_items(), "QH")]
        for code, additions in ADDITIONS.items():
            rows = [
                {"list_type": t, "category": c, "name": n, "cooperating_department": d}
                for t, c, n, d in additions
            ]
            for row in _coded(rows, code.upper()[:2]):
                row |= {"responsible_body": orgs[code].name, "basis": TOWNSHIP_BASIS}
                plan.append((orgs[code], row))
        entries = []
        by_name: dict[str, DutyItem] = {}
        for scope, row in plan:
            item = DutyItem(scope_org_id=scope.id, status="active", **row)
            item.created_at = item.updated_at = now
            session.add(item)
            session.flush()
            if scope is county:
                by_name[item.name] = item
            entries.append(audit.Entry("duty_item_created", None, snapshot(item, scope.code)))
        removals = 0
        for code, removed in REMOVALS.items():
            for name, reason in removed:
                item = by_name[name]
                session.add(
                    DutyItemRemoval(
                        item_id=item.id,
                        township_org_id=orgs[code].id,
                        reason=reason,
                        removed_at=now,
                    )
                )
                payload = {"id": item.id, "scope": county.code, "code": item.code}
                payload |= {"reason": reason}
                entries.append(
                    audit.Entry("duty_item_removed", None, {**payload, "township": code})
                )
                removals += 1
        record(session, ctx, actor, entries, now)
        return DemoCatalogResult(created=True, items=len(plan), removals=removals)
