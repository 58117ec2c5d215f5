"""A matter's whole file (卷宗) exported as one ZIP over real HTTP and checked by the auditors'
offline verifier (issue 15): documents as issued, attachments as uploaded, the trail with its
proofs; an altered, swapped, missing or smuggled file fails, naming the file."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from tests import files
from tests.api.test_attachments_api import uploaded
from tests.browser.walk import admitted_via_api
from tests.test_verify_export import run_verifier
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


def test_the_auditor_exports_a_matters_file_and_the_verifier_passes_it(
    login, ctx, tmp_path: Path
) -> None:
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
    assert "3 files, 0 failures" in result.stdout
    assert f"sha256 {hashlib.sha256(basis).hexdigest()[:16]}" in result.stdout

    def verdict(members_change) -> str:  # type: ignore[no-untyped-def]
        tampered = tmp_path / "tampered.zip"
        tampered.write_bytes(rezip(got.content, members_change))
        run = run_verifier(tampered, "--key", key, "--origin", ORIGIN)
        assert run.returncode == 1, run.stdout + run.stderr
        return run.stdout

    policy_path = next(p for p in paths if p.endswith("政策依据.pdf"))
    # A file altered after export.
    out = verdict(lambda m: m.__setitem__(policy_path, basis + b"%extra"))
    assert f"FAIL file {policy_path}: content does not match its hash" in out

    # A different file put in, with the manifest rewritten to match it: the trail disagrees.
    def swap(m: dict) -> None:
        forged = files.pdf(1)
        listing = json.loads(m["manifest.json"])
        for entry in listing["files"]:
            if entry["path"] == policy_path:
                entry["sha256"] = hashlib.sha256(forged).hexdigest()
        m[policy_path] = forged
        m["manifest.json"] = json.dumps(listing).encode()

    out = verdict(swap)
    assert f"file {policy_path}: its hash is recorded on no event of the trail" in out
    assert "which the export lacks" in out

    # A file taken out (with its manifest entry), and a file smuggled in.
    def drop(m: dict) -> None:
        listing = json.loads(m["manifest.json"])
        listing["files"] = [e for e in listing["files"] if e["path"] != policy_path]
        del m[policy_path]
        m["manifest.json"] = json.dumps(listing).encode()

    assert "which the export lacks" in verdict(drop)
    out = verdict(lambda m: m.__setitem__("attachments/99-补充.pdf", files.pdf()))
    assert "FAIL file attachments/99-补充.pdf: not listed in the manifest" in out
