"""Attachments over real HTTP (issue 15): a department files its application with the policy
document and the funding estimate, a reviewer adds an opinion file with its step, anyone
taking part adds a supplement; every file is judged by its content, kept under its SHA-256,
described on the trail with the step it came with, and read only by those who may read the
matter. A broken, foreign or oversize upload gets a clear 4xx and stores nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests import files
from tests.api.test_admission_api import complete, only_task
from tests.factories import LAWFUL, application, rejected

FILE = "/api/v1/processes/matter_admission/instances"


def upload(client, name: str, data: bytes):
    return client.post("/api/v1/attachments", files={"file": (name, data)})


def uploaded(client, name: str, data: bytes) -> dict:
    response = upload(client, name, data)
    assert response.status_code == 201, response.text
    return response.json()


def blobs(root: Path) -> set[str]:
    return {p.parent.name + p.name for p in root.rglob("*") if p.is_file()}


def test_an_application_files_with_its_attachments_and_the_trail_proves_them(login, ctx) -> None:
    nongye, sifa, bianban, jiaoyu = (
        login("nongye"),
        login("sifa"),
        login("bianban"),
        login("jiaoyu"),
    )
    basis, estimate = files.pdf(2), files.docx()
    # A name that lies about the content is corrected to what the content is.
    policy = uploaded(nongye, "农田建设项目管理办法.pdf", basis)
    funding = uploaded(nongye, "材料/经费测算.pdf", estimate)
    assert policy["kind"] == "pdf" and policy["label"] == "PDF 文件"
    assert policy["sha256"] == hashlib.sha256(basis).hexdigest() and policy["size"] == len(basis)
    assert funding["kind"] == "docx" and funding["name"] == "经费测算.docx"
    assert policy["instance_id"] is None
    pending = nongye.get("/api/v1/attachments").json()
    assert {a["id"] for a in pending} == {policy["id"], funding["id"]}
    # Not yet filed, an upload is its uploader's alone.
    assert bianban.get(f"/api/v1/attachments/{policy['id']}/file").status_code == 404
    assert bianban.get("/api/v1/attachments").json() == []

    body = application(attachments=[policy["id"], funding["id"]])
    filed = nongye.post(FILE, json=body)
    assert filed.status_code == 201, filed.text
    matter = filed.json()["id"]
    assert nongye.get("/api/v1/attachments").json() == []

    listed = bianban.get(f"/api/v1/instances/{matter}/attachments").json()
    assert [a["name"] for a in listed] == ["农田建设项目管理办法.pdf", "经费测算.docx"]
    assert listed[0]["uploaded_by"] and listed[0]["organization"] == "县农业农村局"
    got = bianban.get(f"/api/v1/attachments/{funding['id']}/file")
    assert got.status_code == 200 and got.content == estimate
    assert got.headers["X-Content-SHA256"] == funding["sha256"]
    assert got.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "filename*=UTF-8''" in got.headers["Content-Disposition"]
    # Another department reads neither the list nor the file.
    assert jiaoyu.get(f"/api/v1/instances/{matter}/attachments").status_code == 404
    assert jiaoyu.get(f"/api/v1/attachments/{policy['id']}/file").status_code == 404

    trail = nongye.get(f"/api/v1/instances/{matter}/trail").json()
    [started] = [e for e in trail if e["action"] == "instance_started"]
    assert [(a["name"], a["sha256"]) for a in started["payload"]["attachments"]] == [
        ("农田建设项目管理办法.pdf", policy["sha256"]),
        ("经费测算.docx", funding["sha256"]),
    ]

    # A reviewer's opinion file goes with the step it is given in.
    opinion = uploaded(sifa, "合法性审查意见.png", files.png())
    task = only_task(sifa, "legal_review")
    done = sifa.post(
        f"/api/v1/tasks/{task['id']}/complete", json={**LAWFUL, "attachments": [opinion["id"]]}
    )
    assert done.status_code == 200, done.text
    trail = nongye.get(f"/api/v1/instances/{matter}/trail").json()
    [step] = [e for e in trail if e["action"] == "task_completed"]
    assert step["payload"]["attachments"][0]["sha256"] == opinion["sha256"]
    assert "attachments" not in step["payload"]["form"]
    listed = nongye.get(f"/api/v1/instances/{matter}/attachments").json()
    assert [a["task"] for a in listed][2] == "legal_review"
    assert listed[0]["task"] == started["task"] and listed[0]["task"] != "legal_review"

    # The applicant adds a supplement on its own; it is on the trail too.
    minutes = files.ofd()
    added = nongye.post(
        f"/api/v1/instances/{matter}/attachments", files={"file": ("会议纪要.ofd", minutes)}
    )
    assert added.status_code == 201, added.text
    assert added.json()["kind"] == "ofd" and added.json()["instance_id"] == matter
    trail = nongye.get(f"/api/v1/instances/{matter}/trail").json()
    assert trail[-1]["action"] == "attachment_added"
    assert trail[-1]["payload"]["attachments"][0]["sha256"] == hashlib.sha256(minutes).hexdigest()
    # Someone who takes no part in it may not add to it.
    other = jiaoyu.post(
        f"/api/v1/instances/{matter}/attachments", files={"file": ("x.pdf", files.pdf())}
    )
    assert other.status_code == 404
    assert {
        a["sha256"] for a in nongye.get(f"/api/v1/instances/{matter}/attachments").json()
    } <= blobs(ctx.settings.blob_dir)


def test_a_file_goes_with_one_step_only_and_only_its_uploaders(login, ctx) -> None:
    nongye, nongye_liu, jiaoyu = login("nongye"), login("nongye_liu"), login("jiaoyu")
    mine = uploaded(nongye, "依据.pdf", files.pdf())
    # A colleague, another office, a made-up id, a malformed list: refused, nothing filed.
    before = len(nongye.get("/api/v1/instances").json()["items"])
    for client, ids in (
        (nongye_liu, [mine["id"]]),
        (jiaoyu, [mine["id"]]),
        (nongye, [mine["id"], 999999]),
        (nongye, "1"),
        (nongye, [True]),
        (nongye, list(range(1, 30))),
    ):
        refused = client.post(FILE, json=application(attachments=ids))
        assert refused.status_code == 422, (ids, refused.text)
        assert "attachments" in refused.json()["errors"], refused.json()
    assert len(nongye.get("/api/v1/instances").json()["items"]) == before
    assert [a["id"] for a in nongye.get("/api/v1/attachments").json()] == [mine["id"]]

    first = nongye.post(FILE, json=application(attachments=[mine["id"]]))
    assert first.status_code == 201
    again = nongye.post(FILE, json=application(attachments=[mine["id"]]))
    assert again.status_code == 422 and "已随其他步骤提交" in str(again.json()["errors"])


def test_uploads_are_judged_by_content_and_bad_ones_store_nothing(login, ctx) -> None:
    nongye, admin = login("nongye"), login("admin")
    root = ctx.settings.blob_dir
    kept = blobs(root)
    limit = ctx.settings.attachment_max_mb * 1024 * 1024
    cases = {
        "空文件.pdf": b"",
        "说明.pdf": "这只是文字，不是 PDF".encode(),
        "程序.pdf": b"MZ\x90\x00" + b"\x00" * 4000,
        "截断.pdf": files.pdf()[:300],
        "截断.png": files.png(256)[:-200],
        "压缩包.docx": files.plain_zip(),
        "超限.pdf": b"%PDF-1.7\n" + b"0" * (limit + 10),
    }
    for name, data in cases.items():
        refused = upload(nongye, name, data)
        assert refused.status_code == 422, (name, refused.status_code, refused.text[:200])
        message = refused.json()["errors"]["file"][0]
        assert any("\u4e00" <= c <= "\u9fff" for c in message), message
    # A body well beyond the limit is cut off before it is read.
    huge = upload(nongye, "很大.pdf", b"0" * (limit + 3 * 1024 * 1024))
    assert huge.status_code == 413
    assert upload(nongye, "", b"").status_code == 422
    no_file = nongye.post("/api/v1/attachments", data={"x": "1"})
    assert no_file.status_code == 422 and "file" in no_file.json()["errors"]
    assert nongye.get("/api/v1/attachments").json() == []
    assert blobs(root) == kept
    # An administrator does no steps, so uploads nothing.
    assert upload(admin, "a.pdf", files.pdf()).status_code == 403
    assert nongye.post("/api/v1/attachments").status_code in (415, 422)


def test_a_finished_matter_takes_no_more_files(login) -> None:
    nongye, sifa, bianban = login("nongye"), login("sifa"), login("bianban")
    filed = nongye.post(FILE, json=application()).json()["id"]
    complete(sifa, "legal_review", LAWFUL)
    assert complete(bianban, "review", rejected())["status"] == "rejected"
    late = nongye.post(
        f"/api/v1/instances/{filed}/attachments", files={"file": ("迟到.pdf", files.pdf())}
    )
    assert late.status_code == 409 and "已办结" in late.json()["message"]


def test_an_upload_retried_with_its_idempotency_key_is_stored_once(login) -> None:
    """On a weak line a clerk's phone sends the same upload again: each send has its own
    multipart boundary, yet the retry gets the first answer and nothing more is stored."""
    nongye = login("nongye")
    data, key = files.pdf(2), {"Idempotency-Key": "upload-7f3a-0001"}
    first = nongye.post("/api/v1/attachments", files={"file": ("依据.pdf", data)}, headers=key)
    again = nongye.post("/api/v1/attachments", files={"file": ("依据.pdf", data)}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert [a["id"] for a in nongye.get("/api/v1/attachments").json()] == [first.json()["id"]]
    other = nongye.post(
        "/api/v1/attachments", files={"file": ("依据.pdf", files.pdf(3))}, headers=key
    )
    assert other.status_code == 422  # the key was used for another file
