"""A matter's or case's whole file (卷宗) as one ZIP for auditors: its documents as issued, its
attachments as uploaded, its trail with the checkpoint and inclusion proofs, and a manifest.

    manifest.json      what is in the file: each document and attachment with its SHA-256
    trail.jsonl        the instance's trail export (engine/trail/services/trail_export)
    documents/…        each issued PDF
    attachments/…      each attached file
    说明.txt           how to check it

tools/verify_export.py checks such a ZIP offline: the trail against the signed checkpoint,
each file against its manifest hash, and each hash against the trail event that recorded it
(`document_issued`, or the `attachments` of the step a file came with) — so a file is the
filed one exactly when the log the county signed says so. A file whose event is newer than
the trail read here is left out rather than shipped unproven.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.authz import Actor
from engine.models import Instance
from engine.models_documents import Attachment, IssuedDocument
from engine.trail.services import trail as trail_service
from engine.trail.services import trail_export
from engine.workflow.context import Context

README = """本压缩包为事项（案件）卷宗的导出件，内容如下：
  manifest.json   卷宗清单：每份文书、每个附件的路径与 SHA-256 校验码
  trail.jsonl     办理留痕（含签名检查点与包含证明）
  documents/      出具的文书（PDF，出具时原件）
  attachments/    附件（上传时原件）

核验方法（离线）：核验程序 verify_export.py 随 Zhunru 源代码发布（tools 目录），只依赖
Python 3 与 cryptography，可复制到任何电脑运行：
  python3 verify_export.py 本文件.zip --key 验证公钥
验证公钥请向日志运行单位另行索取，不要使用随卷宗传递的公钥。
核验内容：留痕哈希链与检查点签名、每个文件的校验码、每个校验码均记录在留痕中。
"""


@dataclass(frozen=True)
class FileExport:
    filename: str
    content: bytes


def export_file(ctx: Context, actor: Actor, instance_id: int) -> FileExport:
    """The instance's whole file (auditors, as for its trail export)."""
    trail = trail_export.export_instance(ctx, actor, instance_id, "jsonl")
    events = [json.loads(line) for line in trail.content.splitlines()[1:]]
    if ctx.settings.audit_key_file and any(e["inclusion_proof"] is None for e in events):
        # Seal the file: a fresh checkpoint over its newest events, so every file in it is
        # provable (a file recorded only by an unproven event fails verification).
        trail_service.create_checkpoint(ctx, actor)
        trail = trail_export.export_instance(ctx, actor, instance_id, "jsonl")
        events = [json.loads(line) for line in trail.content.splitlines()[1:]]
    recorded = _recorded_hashes(events)
    with ctx.db.read() as session:
        found = session.get(Instance, instance_id)
        number = (found.number if found is not None else "") or str(instance_id)
        documents = session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.instance_id == instance_id)
            .order_by(IssuedDocument.id)
        ).all()
        attachments = session.scalars(
            select(Attachment).where(Attachment.instance_id == instance_id).order_by(Attachment.id)
        ).all()
        wanted = [
            (f"documents/{d.id}-{_safe(d.title + (d.number and '-' + d.number))}.pdf", d.sha256)
            for d in documents
            if d.sha256 in recorded
        ]
        wanted += [
            (f"attachments/{a.id}-{_safe(a.name)}", a.sha256)
            for a in attachments
            if a.sha256 in recorded
        ]
    manifest: dict[str, Any] = {
        "instance_id": instance_id,
        "exported_at": ctx.clock.now().isoformat(),
        "trail": "trail.jsonl",
        "files": [],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("trail.jsonl", trail.content)
        for path, digest in wanted:
            data = ctx.blobs.get(digest)  # checked against its hash on the way out
            archive.writestr(path, data)
            manifest["files"].append({"path": path, "sha256": digest, "size": len(data)})
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        archive.writestr("说明.txt", README)
    return FileExport(f"卷宗-{_safe(number)}.zip", out.getvalue())


def _recorded_hashes(events: list[dict[str, Any]]) -> set[str]:
    """Every file hash the trail records: issued documents and attached files."""
    found = set()
    for event in events:
        payload = event.get("payload") or {}
        if event.get("action") == "document_issued" and payload.get("sha256"):
            found.add(payload["sha256"])
        for described in payload.get("attachments") or []:
            found.add(described.get("sha256"))
    return found


def _safe(name: str) -> str:
    """A name usable as a path inside the ZIP on any system."""
    return "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name)[:150]
