"""A matter's whole file (卷宗) exported as one ZIP over real HTTP and checked by the auditors'
offline verifier (issue 15): documents as issued, attachments as uploaded, the trail with its
proofs; an altered, swapped, missing or smuggled file fails, naming the file."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests import files
from tests.api.test_attachments_api import uploaded
from tests.browser.walk import admitted_via_api
from tests.test_verify_export import VERIFIER, run_verifier
from tests.trail_helpers import ORIGIN, configure_key


def rezip(original: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    """The same ZIP with `change(members)` applied to its {name: bytes}."""
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@dataclass(frozen=True)
class Exported:
    content: bytes  # the ZIP
    key: str  # the verifier key
    matter: int
    basis: bytes  # the policy document filed with the application
    policy_path: str  # its path in the ZIP


def exported_file(login, ctx, tmp_path: Path) -> Exported:  # type: ignore[no-untyped-def]
    """A matter with an attachment at filing, a supplement and its 批复, under a checkpoint,
    exported by the auditor and passed by the verifier."""
    key = configure_key(ctx, tmp_path).verifier.text()
    nongye, bianban, jiwei = login("nongye"), login("bianban"), login("jiwei")
    basis = files.pdf(3)
    policy = uploaded(nongye, "政策依据.pdf", basis)
    matter = admitted_via_api(login, attachments=[policy["id"]])
    photo = files.jpeg()
    added = nongye.post(
        f"/api/v1/instances/{matter}/attachments", files={"file": ("现场照片.jpg", photo)}
    )
    assert added.status_code == 201, added.text
    reply = bianban.post(f"/api/v1/instances/{matter}/documents", json={"kind": "approval_reply"})
    assert reply.status_code == 201, reply.text
    assert jiwei.post("/api/v1/audit/checkpoints").status_code == 201

    # Only auditors export a file; others as for the trail export.
    assert nongye.get(f"/api/v1/instances/{matter}/export").status_code == 403
    assert jiwei.get("/api/v1/instances/999999/export").status_code == 404
    got = jiwei.get(f"/api/v1/instances/{matter}/export")
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        paths = {f["path"]: f for f in manifest["files"]}
        assert archive.read(next(p for p in paths if p.endswith("政策依据.pdf"))) == basis
        assert archive.read(next(p for p in paths if p.endswith("现场照片.jpg"))) == photo
        [pdf_path] = [p for p in paths if p.startswith("documents/")]
        assert archive.read(pdf_path)[:5] == b"%PDF-"
        assert paths[pdf_path]["sha256"] == reply.json()["sha256"]
        assert "说明.txt" in archive.namelist()

    path = tmp_path / "file.zip"
    path.write_bytes(got.content)
    result = run_verifier(path, "--key", key, "--origin", ORIGIN, "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 个文件，0 处不符" in result.stdout
    assert f"SHA-256 {hashlib.sha256(basis).hexdigest()[:16]}" in result.stdout
    policy_path = next(p for p in paths if p.endswith("政策依据.pdf"))
    return Exported(got.content, key, matter, basis, policy_path)


def test_the_auditor_exports_a_matters_file_and_the_verifier_passes_it(
    login, ctx, tmp_path: Path
) -> None:
    exported = exported_file(login, ctx, tmp_path)
    nongye, jiwei = login("nongye"), login("jiwei")
    # A file added after the last checkpoint: the export seals it with a fresh checkpoint.
    late = nongye.post(
        f"/api/v1/instances/{exported.matter}/attachments",
        files={"file": ("补充说明.pdf", files.pdf(4))},
    )
    assert late.status_code == 201
    fresh = tmp_path / "fresh.zip"
    fresh.write_bytes(jiwei.get(f"/api/v1/instances/{exported.matter}/export").content)
    sealed = run_verifier(fresh, "--key", exported.key, "--origin", ORIGIN, "--strict")
    assert sealed.returncode == 0 and "4 个文件，0 处不符" in sealed.stdout, sealed.stdout


def _listing(m: dict, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the manifest's file list with `change(files) -> files`."""
    listing = json.loads(m["manifest.json"])
    listing["files"] = change(listing["files"])
    m["manifest.json"] = json.dumps(listing, ensure_ascii=False).encode()


def swap_in(m: dict, path: str, forged: bytes) -> None:
    """Another file under the path, the manifest rewritten to match it."""
    digest = hashlib.sha256(forged).hexdigest()
    _listing(m, lambda fs: [{**f, "sha256": digest} if f["path"] == path else f for f in fs])
    m[path] = forged


def drop(m: dict, path: str) -> None:
    _listing(m, lambda fs: [f for f in fs if f["path"] != path])
    del m[path]


def rename(m: dict, path: str, new: str) -> None:
    _listing(m, lambda fs: [{**f, "path": new} if f["path"] == path else f for f in fs])
    m[new] = m.pop(path)


def copy_as(m: dict, path: str, new: str) -> None:
    """A recorded file's bytes once more, under a second name."""
    digest = hashlib.sha256(m[path]).hexdigest()
    _listing(m, lambda fs: [*fs, {"path": new, "sha256": digest}])
    m[new] = m[path]


def forge_event(m: dict, name: str, forged: bytes) -> None:
    """An attachment_added event hash-chained onto the trail's end (no key needed for that;
    no checkpoint covers it), and its file with a manifest entry."""
    sys.path.insert(0, str(VERIFIER.parent))
    import verify_export  # the standalone tool's own event hashing

    lines = m["trail.jsonl"].decode().splitlines()
    last = json.loads(lines[-1])
    digest = hashlib.sha256(forged).hexdigest()
    event = {
        **last,
        "id": last["id"] + 1000,
        "seq": last["seq"] + 1,
        "prev_hash": last["hash"],
        "action": "attachment_added",
        "task": None,
        "payload": {"attachments": [{"id": 77, "name": name, "sha256": digest}]},
        "leaf_index": None,
        "inclusion_proof": None,
    }
    event["hash"] = verify_export.event_hash(event)
    m["trail.jsonl"] = ("\n".join([*lines, json.dumps(event, ensure_ascii=False)]) + "\n").encode()
    _listing(m, lambda fs: [*fs, {"path": f"attachments/77-{name}", "sha256": digest}])
    m[f"attachments/77-{name}"] = forged


def test_an_altered_swapped_renamed_or_forged_file_fails_naming_it(
    login, ctx, tmp_path: Path
) -> None:
    exported = exported_file(login, ctx, tmp_path)
    policy = exported.policy_path

    def verdict(change) -> str:  # type: ignore[no-untyped-def]
        tampered = tmp_path / "tampered.zip"
        tampered.write_bytes(rezip(exported.content, change))
        run = run_verifier(tampered, "--key", exported.key, "--origin", ORIGIN)
        assert run.returncode == 1, run.stdout + run.stderr
        return run.stdout

    out = verdict(lambda m: m.__setitem__(policy, exported.basis + b"%extra"))
    assert f"不符：文件 {policy}：内容与哈希不符" in out
    out = verdict(lambda m: swap_in(m, policy, files.pdf(1)))
    assert f"文件 {policy}：哈希不在留痕的任何事件中" in out
    assert "导出文件中没有" in out
    assert "导出文件中没有" in verdict(lambda m: drop(m, policy))
    out = verdict(lambda m: m.__setitem__("attachments/99-补充.pdf", files.pdf()))
    assert "不符：文件 attachments/99-补充.pdf：不在清单中" in out
    # The names must be the trail's: a file renamed, a recorded file twice under two names.
    renamed = policy.replace("政策依据", "县委同意意见")
    out = verdict(lambda m: rename(m, policy, renamed))
    assert f"文件 {renamed}：名称与留痕记录的不符" in out
    second = "attachments/98-纪委调查结论（不予追责）.pdf"
    out = verdict(lambda m: copy_as(m, policy, second))
    assert f"文件 {second}：名称与留痕记录的不符" in out
    # A forged event under no checkpoint brings no file in, with or without --strict.
    out = verdict(lambda m: forge_event(m, "撤销意见.pdf", files.pdf(5)))
    assert "文件 attachments/77-撤销意见.pdf：仅由" in out
