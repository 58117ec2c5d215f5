"""Chinese fuzzy matching and the pre-check rules, without a database."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

import pytest

from config import Settings, SettingsError
from engine.duty_lists.catalog import (
    ItemRef,
    MatterRef,
    Thresholds,
    _item_hits,
    _item_kind,
    effective_items,
    normalize,
    precheck,
    similarity,
)
from engine.errors import InvalidInput

T = Thresholds()


def score(a: str, b: str) -> float:
    return similarity(normalize(a), normalize(b), T.min_chars)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("高标准农田建设项目日常巡查", "高标准农田项目巡查"),
        ("农村低保对象入户核查", "低保对象入户核查"),
        ("协助开展征兵工作", "征兵"),
        ("高标准农田巡查（试点）", "高标准农田巡查"),
        ("农村人居环境整治", "农村人居环境整治督查"),
        ("城乡居民医疗保险参保征缴", "城乡居民医疗保险征缴工作"),
    ],
)
def test_near_duplicates_in_different_wording_match(a: str, b: str) -> None:
    assert score(a, b) >= T.duplicate


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("高标准农田建设项目日常巡查", "农田水利设施巡查"),
        ("高标准农田项目巡查", "农田水利设施巡查"),
        ("学生资助信息核查", "学生营养餐信息核查"),
        ("安全生产检查", "食品安全检查"),
        ("防汛抗旱", "防汛"),  # too short to count as part of the other
        ("森林防火巡查", "森林草原防灭火"),
        ("出生缺陷防治宣传", "出生证明"),
    ],
)
def test_different_matters_sharing_words_do_not_match(a: str, b: str) -> None:
    assert score(a, b) < T.duplicate


def test_certificate_named_inside_a_longer_request_matches_the_negative_list() -> None:
    assert score("为村民开具亲属关系证明", "亲属关系证明") >= T.negative
    assert score("村委会出具无犯罪记录证明", "无犯罪记录证明") >= T.negative
    assert score("村委会出具居住情况说明", "无犯罪记录证明") < T.item


def test_normalize_drops_punctuation_brackets_and_filler_words() -> None:
    assert normalize("协助开展「秸秆禁烧」日常巡查工作（试点）") == "秸秆禁烧巡查"
    assert normalize("ＡＢＣ　１２３") == "abc123"
    assert normalize("工作") == "工作"  # nothing but a filler: keep it rather than match everything


def test_thresholds_come_from_settings_and_are_checked() -> None:
    settings = Settings.from_env({"ZHUNRU_CATALOG_DUPLICATE_THRESHOLD": "70"})
    assert Thresholds.from_settings(settings).duplicate == 70
    with pytest.raises(SettingsError):
        Thresholds.from_settings(Settings(catalog_match_threshold=0))


@dataclass
class Listed:
    id: int
    scope_org_id: int
    status: str = "active"
    effective_from: date | None = None
    effective_to: date | None = None


def test_effective_list_is_template_plus_additions_minus_removals_in_effect() -> None:
    county, township, other = 1, 10, 11
    items = [
        Listed(1, county),
        Listed(2, county),  # removed for this township
        Listed(3, township),  # its own addition
        Listed(4, other),  # another township's addition
        Listed(5, county, status="retired"),
        Listed(6, county, effective_from=date(2027, 1, 1)),
        Listed(7, county, effective_to=date(2026, 6, 30)),
        Listed(8, county, effective_from=date(2026, 1, 1), effective_to=date(2026, 12, 31)),
    ]
    today = date(2026, 11, 23)
    found = effective_items(items, county, township, {2}, today)
    assert [i.id for i in found] == [1, 3, 8]


def item(item_id: int, name: str, list_type: str) -> ItemRef:
    return ItemRef(item_id, f"C-{item_id:03d}", name, list_type, "综合治理")


LISTS = {
    "chengguan": [
        item(1, "秸秆禁烧", "basic"),
        item(2, "征兵", "assisting"),
        item(3, "特种设备安全监察", "taken_back"),
        item(4, "亲属关系证明", "negative"),
        item(5, "无犯罪记录证明", "negative"),
    ],
    "donghe": [item(2, "征兵", "assisting"), item(4, "亲属关系证明", "negative")],
}
NAMES = {"chengguan": "城关镇", "donghe": "东河乡"}
RESOURCES = {"funding_yuan": 50000, "staff": 1, "powers": "现场检查"}


def check(name: str, content: str = "按要求办理", resources: dict | None = None, matters=()):
    application = {"name": name, "content": content, "resources": resources or RESOURCES}
    return precheck(application, LISTS, list(matters), NAMES, T)


def test_matter_on_a_basic_or_assisting_list_needs_no_admission() -> None:
    result = check("协助开展征兵工作")
    [finding] = result.findings
    assert finding.kind == "on_duty_list" and finding.severity == "info"
    assert finding.townships == ("chengguan", "donghe")
    assert "城关镇、东河乡" in finding.message and "无需准入" in finding.message
    assert not result.blocking and result.refusal() is None


def test_taken_back_matter_belongs_to_the_department() -> None:
    [finding] = check("特种设备安全监察检查").findings
    assert finding.kind == "taken_back" and "应由上级部门自行承担" in finding.message


def test_negative_list_blocks_with_the_item_named() -> None:
    result = check("为村民开具亲属关系证明")
    assert result.blocking
    error = result.refusal()
    assert isinstance(error, InvalidInput)
    assert "亲属关系证明" in error.message and "负面清单" in error.message
    with pytest.raises(InvalidInput, match="亲属关系证明"):
        result.raise_if_refused("有理由也不行")


def test_negative_item_mentioned_only_in_the_content_is_a_warning() -> None:
    result = check("村级证明事项代办", content="由村委会为申请人出具无犯罪记录证明")
    [finding] = result.findings
    assert finding.kind == "negative_list_mention" and finding.severity == "warning"
    assert not result.blocking


def test_duplicate_of_an_admitted_matter_is_named() -> None:
    other = MatterRef(
        7, "高标准农田建设项目日常巡查", "in_force", "nongye", "县农业农村局", ("donghe",)
    )
    unrelated = MatterRef(8, "农田水利设施巡查", "pending", "jiaoyu", "县教育局", ("donghe",))
    [finding] = check("高标准农田项目巡查", matters=[other, unrelated]).findings
    assert finding.kind == "duplicate_matter" and finding.matter == other
    assert "高标准农田建设项目日常巡查" in finding.message and "编号 7" in finding.message
    assert "东河乡已准入" in finding.message


def test_missing_resources_need_a_justification() -> None:
    result = check("村级道路巡查", resources={"funding_yuan": 0, "staff": 0, "powers": " "})
    assert result.needs_justification and result.missing_resources == ("经费", "人员", "权限")
    error = result.refusal()
    assert error is not None and "resources_justification" in error.errors
    assert result.refusal("县财政已统筹安排，乡镇现有人员可承担") is None
    stored = result.to_dict()
    assert stored["needs_justification"] and stored["findings"][0]["kind"] == "resources_missing"


def test_clean_application_has_no_findings() -> None:
    result = check("农业面源污染监测点维护")
    assert result.findings == () and result.to_dict()["blocking"] is False


def test_a_list_judged_in_one_pass_finds_what_judging_each_item_finds() -> None:
    """The pre-check finds its list hits with two rapidfuzz calls over the whole list, then
    scores only those: the same hits, with the same scores, as scoring every item one by one,
    for names near every threshold and under every list type."""
    rng = random.Random(7)
    verbs = ("组织开展", "协助做好", "负责", "配合", "督促落实", "")
    objects = ("耕地保护巡查", "亲属关系证明", "安全生产检查", "防汛值守", "低保对象入户核查")
    objects += ("森林防火宣传", "出具居住证明", "征兵", "河道保洁", "农村人居环境整治督查")

    def varied(text: str) -> str:
        chars = list(text)
        for _ in range(rng.randrange(3)):
            at = rng.randrange(len(chars) + 1)
            if chars and rng.random() < 0.5:
                del chars[min(at, len(chars) - 1)]
            else:
                chars.insert(at, rng.choice("的和工作事项村镇乡"))
        return "".join(chars)

    types = ("basic", "assisting", "taken_back", "negative")
    items = [
        ItemRef(n, f"X{n}", varied(rng.choice(verbs) + rng.choice(objects)), types[n % 4], "", "")
        for n in range(300)
    ]
    lists = {"a": items[:200], "b": items[100:]}
    for thresholds in (
        T,
        Thresholds(item=70, negative=75, duplicate=60, min_chars=2),
        Thresholds(item=96, negative=100, duplicate=80, min_chars=4),  # past what a part counts
    ):
        for _ in range(40):
            name = normalize(varied(rng.choice(verbs) + rng.choice(objects)))
            content = normalize(rng.choice(("", "需要" + varied(rng.choice(objects)))))
            one_by_one = {}
            for item in items:
                kind, found = _item_kind(name, content, item, normalize(item.name), thresholds)
                if kind is not None:
                    one_by_one[(kind, item.id)] = found
            hits = _item_hits(name, content, lists, thresholds)
            assert {(h.kind, h.item.id): h.score for h in hits} == one_by_one
            assert one_by_one or name  # not every case is empty
