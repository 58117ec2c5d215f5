"""挂牌、工作机制、证明事项 over real HTTP (issue 16), from the shipped package
bpmn/listing_admission: what villages may be asked to hang, run or certify is a list; a
department asking for something on the negative list is refused at filing, something already
listed needs no filing, and the rest goes to 县委编办, whose approval puts it on the county's list
(seen in the duty lists) and whose refusal says why."""

from __future__ import annotations

from typing import Any

from tests.api.test_admission_api import complete
from tests.api.test_bad_input import assert_error

APPLY = "/api/v1/processes/listing_admission/instances"


def listing(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "signboard",
        "name": "农村产权交易服务站",
        "content": "在村委会办公场所悬挂服务站牌子，受理农村产权流转交易咨询",
        "basis": "县农村产权流转交易管理办法",
        "reason": "方便村民就近咨询",
    }
    values.update(changes)
    return values


def listed(client: Any, list_type: str) -> list[str]:
    page = client.get(f"/api/v1/catalog/items?list_type={list_type}&per_page=100").json()
    return [item["name"] for item in page["items"]]


def test_an_addition_is_approved_onto_the_county_list(login: Any) -> None:
    nongye, bianban = login("nongye"), login("bianban")
    assert "农村产权交易服务站" not in listed(bianban, "signboard")
    filed = nongye.post(APPLY, json=listing())
    assert filed.status_code == 201, filed.text
    done = complete(bianban, "listing_review", {"decision": "approve"})
    assert done["status"] == "listed"
    assert "农村产权交易服务站" in listed(bianban, "signboard")
    # Every township's villages inherit it: a township reads it on its own lists.
    assert "农村产权交易服务站" in listed(login("chengguan"), "signboard")
    assert any("已列入" in n["message"] for n in nongye.get("/api/v1/notifications").json())
    trail = login("jiwei").get(f"/api/v1/instances/{filed.json()['id']}/trail").json()
    assert "duty_item_created" in [e["action"] for e in trail]
    # Now on the list: asking again needs no filing.
    body = assert_error(nongye.post(APPLY, json=listing()), 422, "name")
    assert "无需报批" in " ".join(body["errors"]["name"])


def test_the_negative_list_refuses_at_filing_and_a_refusal_says_why(login: Any) -> None:
    nongye = login("nongye")
    body = assert_error(
        nongye.post(APPLY, json=listing(kind="certificate", name="亲属关系证明")), 422, "name"
    )
    assert "负面清单" in " ".join(body["errors"]["name"])
    # A listed signboard: the village's own organisations are already there.
    assert_error(nongye.post(APPLY, json=listing(name="村民委员会")), 422, "name")
    assert_error(nongye.post(APPLY, json=listing(kind="flag")), 422, "kind")
    assert login("chengguan").post(APPLY, json=listing()).status_code == 403
    filed = nongye.post(APPLY, json=listing(kind="mechanism", name="河长制村级巡河工作机制"))
    assert filed.status_code == 201, filed.text
    bianban = login("bianban")
    done = complete(bianban, "listing_review", {"decision": "refuse", "comment": "已有河长制"})
    assert done["status"] == "refused"
    assert "河长制村级巡河工作机制" not in listed(bianban, "mechanism")
