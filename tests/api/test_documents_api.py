"""Documents issued on matters and cases, over real HTTP (issue 15): the office issues the
批复 once approved, with a 文号 from the county's sequence; the PDF names the county, the
parties and the decision with dates as officials write them, embeds its CJK font, and its
SHA-256 is on the trail; it is read only by those who may read the matter."""

from __future__ import annotations

import hashlib
import io
import re

from pypdf import PdfReader

from tests import accountability_factories as af
from tests.api.test_accountability_api import own_case, start
from tests.api.test_admission_api import complete
from tests.browser.walk import admitted_via_api
from tests.factories import LAWFUL, application

DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def _text(pdf: bytes) -> str:
    """The document's text, its lines joined (a line may break anywhere in Chinese)."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join(page.extract_text() for page in pages).replace("\n", "")


def _embedded_fonts(pdf: bytes) -> set[str]:
    """Names of the fonts whose glyphs travel inside the PDF (a FontFile in the descriptor)."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get_object().get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts") or [font]:
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    found.add(str(descriptor["/FontName"]))
    return found


def test_the_office_issues_the_approval_reply_with_its_number_and_hash(login) -> None:
    nongye, bianban, sifa = login("nongye"), login("bianban"), login("sifa")
    filed = nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    matter = filed.json()["id"]
    # Before approval nothing can be issued.
    early = bianban.post(f"/api/v1/instances/{matter}/documents", json={"kind": "approval_reply"})
    assert early.status_code == 409 and "尚未到" in early.json()["message"]
    assert bianban.get(f"/api/v1/instances/{matter}/documents").json()["can_issue"] == []
    complete(sifa, "legal_review", LAWFUL)

    matter = admitted_via_api(lambda u: login(u))
    offered = bianban.get(f"/api/v1/instances/{matter}/documents").json()
    assert {o["kind"] for o in offered["can_issue"]} == {"approval_form", "approval_reply"}
    mine = nongye.get(f"/api/v1/instances/{matter}/documents").json()["can_issue"]
    assert [o["kind"] for o in mine] == ["application_form"]  # the applicant's own form only

    refused = nongye.post(f"/api/v1/instances/{matter}/documents", json={"kind": "approval_reply"})
    assert refused.status_code == 403
    for bad in ({"kind": "nonsense"}, {"kind": "tolerance_decision"}, {}, {"kind": 7}):
        wrong = bianban.post(f"/api/v1/instances/{matter}/documents", json=bad)
        assert wrong.status_code == 422, (bad, wrong.text)

    issued = bianban.post(f"/api/v1/instances/{matter}/documents", json={"kind": "approval_reply"})
    assert issued.status_code == 201, issued.text
    reply = issued.json()
    assert re.fullmatch(r"清编准〔\d{4}〕1号", reply["number"]), reply
    assert reply["issuer_org"] == "县委编办" and reply["title"] == "事项准入批复"
    again = bianban.post(f"/api/v1/instances/{matter}/documents", json={"kind": "approval_reply"})
    assert again.status_code == 409

    # The applicant downloads it: the bytes hash to what the trail recorded.
    pdf = nongye.get(f"/api/v1/documents/{reply['id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    digest = hashlib.sha256(pdf.content).hexdigest()
    assert digest == reply["sha256"] == pdf.headers["X-Content-SHA256"]
    trail = nongye.get(f"/api/v1/instances/{matter}/trail").json()
    [entry] = [e for e in trail if e["action"] == "document_issued"]
    assert entry["payload"]["sha256"] == digest and entry["payload"]["number"] == reply["number"]

    text = _text(pdf.content)
    for expected in (reply["number"], "批复", "县农业农村局", "城关镇", "东河乡", "高标准农田"):
        assert expected in text, expected
    assert DATE.search(text), text
    assert "2026-" not in text  # no ISO dates in an official document
    assert any("Noto-Serif-CJK" in name for name in _embedded_fonts(pdf.content))

    # A second kind on the same matter; a township the matter is not addressed to reads none.
    form = bianban.post(f"/api/v1/instances/{matter}/documents", json={"kind": "approval_form"})
    assert form.status_code == 201 and form.json()["number"] == ""
    form_text = _text(bianban.get(f"/api/v1/documents/{form.json()['id']}/pdf").content)
    assert "合法性审查意见" in form_text and "通过" in form_text
    assert login("xishan").get(f"/api/v1/documents/{reply['id']}/pdf").status_code == 404
    assert login("xishan").get(f"/api/v1/instances/{matter}/documents").status_code == 404
    assert nongye.get("/api/v1/documents/999999/pdf").status_code == 404

    # The next matter's 批复 takes the next number.
    second = admitted_via_api(lambda u: login(u), name="农村公路日常养护巡查")
    issued = login("xianwei").post(
        f"/api/v1/instances/{second}/documents", json={"kind": "approval_reply"}
    )
    assert issued.status_code == 201
    assert issued.json()["number"] == reply["number"].replace("〕1号", "〕2号")


def test_the_tolerance_decision_states_the_outcome_and_the_appeal_deadline(login) -> None:
    zhangming, jiwei, shenli = login("zhangming"), login("jiwei"), login("jiwei_shenli")
    case = own_case(zhangming)
    started = start(zhangming, "fault_tolerance", af.ft_application(case_id=case["id"]))
    complete(jiwei, "ft_accept", af.ACCEPT)
    complete(jiwei, "ft_verify", af.ft_verification())
    complete(shenli, "ft_decide", af.ft_decision("reduced"))
    issued = shenli.post(
        f"/api/v1/instances/{started['id']}/documents", json={"kind": "tolerance_decision"}
    )
    assert issued.status_code == 201, issued.text
    assert re.fullmatch(r"清纪容〔\d{4}〕1号", issued.json()["number"])
    pdf = zhangming.get(f"/api/v1/documents/{issued.json()['id']}/pdf")
    assert pdf.status_code == 200
    text = _text(pdf.content)
    for expected in (
        "容错认定书",
        "张明",
        "城关镇副镇长",
        "认定结果：减责",
        "15日",
        case["case_no"],
    ):
        assert expected in text, (expected, text)
    # The last day to appeal is the one the procedure waits for.
    [window] = zhangming.get(f"/api/v1/instances/{started['id']}").json()["timers"]
    year, month, day = (int(part) for part in window["due_date"].split("-"))
    assert f"（至{year}年{month}月{day}日）" in text, text
    assert "reform_first_try" not in text  # the county's rules by their names


def test_the_applicant_prints_its_application_form_with_its_attachments(login) -> None:
    from tests import files
    from tests.api.test_attachments_api import uploaded

    nongye, bianban = login("nongye"), login("bianban")
    policy = uploaded(nongye, "农田建设项目管理办法.pdf", files.pdf())
    filed = nongye.post(
        "/api/v1/processes/matter_admission/instances",
        json=application(attachments=[policy["id"]]),
    ).json()
    offered = nongye.get(f"/api/v1/instances/{filed['id']}/documents").json()["can_issue"]
    assert [o["kind"] for o in offered] == ["application_form"]
    refused = bianban.post(
        f"/api/v1/instances/{filed['id']}/documents", json={"kind": "application_form"}
    )
    assert refused.status_code == 403  # the applicant's own form
    issued = nongye.post(
        f"/api/v1/instances/{filed['id']}/documents", json={"kind": "application_form"}
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["number"] == "" and issued.json()["title"] == "事项准入申请表"
    text = _text(nongye.get(f"/api/v1/documents/{issued.json()['id']}/pdf").content)
    for expected in (
        filed["number"],
        "县农业农村局",
        "高标准农田",
        "60000",
        "1. 农田建设项目管理办法.pdf",
    ):
        assert expected in text, (expected, text)
    assert DATE.search(text) and "2026-" not in text


def test_the_tolerance_filing_form_goes_to_the_filing_organ(login) -> None:
    zhangming, jiwei, shenli = login("zhangming"), login("jiwei"), login("jiwei_shenli")
    case = own_case(zhangming)
    started = start(zhangming, "fault_tolerance", af.ft_application(case_id=case["id"]))
    offered = jiwei.get(f"/api/v1/instances/{started['id']}/documents").json()["can_issue"]
    assert offered == []  # nothing to file before the decision
    complete(jiwei, "ft_accept", af.ACCEPT)
    complete(jiwei, "ft_verify", af.ft_verification())
    complete(shenli, "ft_decide", af.ft_decision("exempt"))
    issued = shenli.post(
        f"/api/v1/instances/{started['id']}/documents", json={"kind": "tolerance_filing"}
    )
    assert issued.status_code == 201, issued.text
    text = _text(shenli.get(f"/api/v1/documents/{issued.json()['id']}/pdf").content)
    for expected in ("容错免责备案表", "张明", case["case_no"], "免责（", "同级党委或政府"):
        assert expected in text, (expected, text)
    assert "exempt" not in text


def test_a_malicious_accusation_is_referred_with_a_numbered_letter(login) -> None:
    lihua, jiwei, shenli = login("lihua"), login("jiwei"), login("jiwei_shenli")
    case = own_case(lihua)
    started = start(lihua, "clearance", af.cl_application(case_id=case["id"]))
    complete(jiwei, "cl_eligibility", af.eligible())
    complete(shenli, "cl_approve", af.approved("meeting"))
    complete(jiwei, "cl_carry_out", af.carried_out("meeting", malicious=True))
    kinds = {
        o["kind"]
        for o in jiwei.get(f"/api/v1/instances/{started['id']}/documents").json()["can_issue"]
    }
    assert "referral_letter" not in kinds  # not before the referral is decided
    complete(jiwei, "cl_refer", af.referral())
    issued = jiwei.post(
        f"/api/v1/instances/{started['id']}/documents", json={"kind": "referral_letter"}
    )
    assert issued.status_code == 201, issued.text
    assert re.fullmatch(r"清纪移〔\d{4}〕1号", issued.json()["number"])
    text = _text(jiwei.get(f"/api/v1/documents/{issued.json()['id']}/pdf").content)
    for expected in (
        "移送",
        "公安机关",
        "李华",
        "诬告陷害",
        "多次实名诬告",
        issued.json()["number"],
    ):
        assert expected in text, (expected, text)


def test_the_register_prints_as_a_pdf_and_exports_as_a_table(login) -> None:
    import openpyxl

    first = admitted_via_api(lambda u: login(u))
    second = admitted_via_api(lambda u: login(u), name="农村公路日常养护巡查", townships=["donghe"])
    assert first != second
    chengguan, bianban = login("chengguan"), login("bianban")
    pdf = chengguan.get("/api/v1/register/export?format=pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = _text(pdf.content)
    # 城关镇 reads its own rows only: the first matter, not the second (东河乡's alone).
    assert "准入事项台账" in text and "高标准农田" in text and "农村公路" not in text
    assert "城关镇准入事项台账" in text and "30,000/30,000" in text  # its share of 60,000
    assert DATE.search(text) and "2026-" not in text

    table = bianban.get("/api/v1/register/export?format=xlsx&township=donghe")
    assert table.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(table.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:2] == ["乡镇（街道）", "事项名称"]
    assert sorted(r[1] for r in rows[1:]) == ["农村公路日常养护巡查", "高标准农田建设项目日常巡查"]
    assert all(r[0] == "东河乡" for r in rows[1:])
    assert bianban.get("/api/v1/register/export?format=doc").status_code == 422
