"""Idempotency-Key over real HTTP: a retried filing or step is done once, whatever the client
does — the same key replays, another body is refused, a key is the user's own."""

from __future__ import annotations

import threading

from tests.api.test_admission_api import only_task
from tests.factories import LAWFUL, application


def count_instances(client) -> int:
    return client.get("/api/v1/instances").json()["total"]


def test_retried_filing_is_filed_once_and_replays_the_first_result(login) -> None:
    nongye = login("nongye")
    before = count_instances(nongye)
    headers = {"Idempotency-Key": "filing-2026-001"}
    first = nongye.post(
        "/api/v1/processes/matter_admission/instances", json=application(), headers=headers
    )
    assert first.status_code == 201, first.text
    retry = nongye.post(
        "/api/v1/processes/matter_admission/instances", json=application(), headers=headers
    )
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert count_instances(nongye) == before + 1

    other = nongye.post(
        "/api/v1/processes/matter_admission/instances",
        json=application(name="另一事项"),
        headers=headers,
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["errors"]
    assert count_instances(nongye) == before + 1

    without = nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    assert without.status_code == 201  # no key, no memory: a second filing
    assert count_instances(nongye) == before + 2


def test_retried_step_is_done_once_and_a_refusal_replays_too(login) -> None:
    nongye, sifa = login("nongye"), login("sifa")
    nongye.post("/api/v1/processes/matter_admission/instances", json=application())
    task = only_task(sifa, "legal_review")
    url = f"/api/v1/tasks/{task['id']}/complete"
    bad = sifa.post(url, json={"opinion": "maybe"}, headers={"Idempotency-Key": "k-bad"})
    assert bad.status_code == 422
    replay = sifa.post(url, json={"opinion": "maybe"}, headers={"Idempotency-Key": "k-bad"})
    assert (replay.status_code, replay.json()) == (422, bad.json())

    done = sifa.post(url, json=LAWFUL, headers={"Idempotency-Key": "k-1"})
    assert done.status_code == 200, done.text
    again = sifa.post(url, json=LAWFUL, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json() == done.json()
    plain = sifa.post(url, json=LAWFUL)
    assert plain.status_code == 409  # without the key the duplicate is refused by the task state


def test_keys_are_per_user_and_concurrent_retries_run_once(login) -> None:
    first, second = login("nongye"), login("nongye")
    before = count_instances(first)
    results: list[int] = []

    def send(client) -> None:
        response = client.post(
            "/api/v1/processes/matter_admission/instances",
            json=application(),
            headers={"Idempotency-Key": "same-moment"},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert count_instances(first) == before + 1
    assert set(results) <= {201, 409} and 201 in results

    # Another user's identical key is their own: it files their own matter.
    other = login("jiaoyu")
    response = other.post(
        "/api/v1/processes/matter_admission/instances",
        json=application(),
        headers={"Idempotency-Key": "same-moment"},
    )
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers


def test_malformed_key_is_a_field_error(login) -> None:
    nongye = login("nongye")
    for key in ("", "x" * 201, "有中文"):
        response = nongye.post(
            "/api/v1/processes/matter_admission/instances",
            json=application(),
            headers={"Idempotency-Key": key.encode().decode("latin-1")},
        )
        assert response.status_code == 422, (key, response.text)
        assert "Idempotency-Key" in response.json()["errors"]
