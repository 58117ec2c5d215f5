"""Moving instances between versions of a process over real HTTP, by an administrator."""

from __future__ import annotations

from engine.services.context import Context
from tests.api.test_admission_api import complete, only_task
from tests.api.test_bad_input import assert_error
from tests.factories import LAWFUL, PASS, application
from tests.integration.test_migration import deploy_versions


def file_matter(login, townships: list[str] | None = None) -> int:
    filed = login("nongye").post(
        "/api/v1/processes/matter_admission/instances",
        json=application(townships=townships or ["xishan"]),
    )
    assert filed.status_code == 201, filed.text
    return filed.json()["id"]


def test_an_administrator_checks_and_moves_an_instance_which_then_runs_the_new_version(
    ctx: Context, login
) -> None:
    versions = deploy_versions(ctx)
    admin, sifa, bianban, jiwei = (login(u) for u in ("admin", "sifa", "bianban", "jiwei"))
    instance_id = file_matter(login)
    path = f"/api/v1/instances/{instance_id}/migration"

    checked = admin.get(path, params={"to_version": versions.renamed})
    assert checked.status_code == 200, checked.text
    assert (checked.json()["can"], checked.json()["reasons"]) == (True, [])

    moved = admin.post(path, json={"to_version": versions.renamed})
    assert moved.status_code == 200, moved.text
    assert moved.json()["to_version"] == versions.renamed
    assert moved.json()["open_steps"] == [{"bpmn_id": "legal_review", "name": "合法性审核"}]
    assert only_task(sifa, "legal_review")["name"] == "合法性审核"
    complete(sifa, "legal_review", LAWFUL)
    after_review = complete(bianban, "review", PASS)
    assert [t["bpmn_id"] for t in after_review["open_tasks"]] == ["approve"]  # the new step
    trail = jiwei.get(f"/api/v1/instances/{instance_id}/trail").json()
    migrated = [e for e in trail if e["action"] == "instance_migrated"]
    assert [(e["actor"], e["payload"]["to_version"]) for e in migrated] == [
        ("admin", versions.renamed)
    ]


def test_a_refused_move_says_why_and_a_batch_reports_each_instance(ctx: Context, login) -> None:
    versions = deploy_versions(ctx)
    admin, sifa = login("admin"), login("sifa")
    reviewed = file_matter(login)
    complete(sifa, "legal_review", LAWFUL)
    waiting = file_matter(login)
    path = f"/api/v1/instances/{reviewed}/migration"

    checked = admin.get(path, params={"to_version": versions.renamed}).json()
    assert (checked["can"], checked["reasons"]) == (False, ["步骤“合法性审查”已修改且已办理"])
    refused = assert_error(admin.post(path, json={"to_version": versions.renamed}), 409)
    assert refused["errors"] == {"to_version": ["步骤“合法性审查”已修改且已办理"]}

    batch = admin.post(
        "/api/v1/processes/matter_admission/migration",
        json={"from_version": versions.base, "to_version": versions.renamed},
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["moved"] == [waiting]
    assert batch.json()["refused"] == {str(reviewed): ["步骤“合法性审查”已修改且已办理"]}


def test_who_may_move_what_and_bad_input(ctx: Context, login) -> None:
    versions = deploy_versions(ctx)
    admin = login("admin")
    instance_id = file_matter(login)
    path = f"/api/v1/instances/{instance_id}/migration"
    body = {"to_version": versions.renamed}

    assert_error(login("bianban").post(path, json=body), 403)  # sees it, may not move it
    assert_error(login("jiaoyu").get(path, params=body), 404)  # cannot see it at all
    assert_error(login().post(path, json=body), 401)
    assert_error(admin.post("/api/v1/instances/999999/migration", json=body), 404)
    assert_error(admin.get(path), 422, "to_version")
    assert_error(admin.get(path, params={"to_version": "二"}), 422, "to_version")
    assert_error(admin.post(path, json={"to_version": 0}), 422, "to_version")
    assert_error(admin.post(path, json={"to_version": "3"}), 422, "to_version")
    assert_error(admin.post(path, json={**body, "force": True}), 422, "force")
    unknown = assert_error(admin.post(path, json={"to_version": 99}), 422, "to_version")
    assert "没有第 99 版" in unknown["errors"]["to_version"][0]
    batch = "/api/v1/processes/{}/migration"
    assert_error(admin.post(batch.format("nothing"), json={**body, "from_version": 1}), 404)
    assert_error(admin.post(batch.format("matter_admission"), json=body), 422, "from_version")
    assert_error(
        login("nongye").post(batch.format("matter_admission"), json={**body, "from_version": 1}),
        403,
    )
