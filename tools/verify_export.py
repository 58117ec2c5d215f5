#!/usr/bin/env python3
"""Offline verifier of a Zhunru (准入) trail export (JSON Lines) or of a matter's whole file
(ZIP: documents, attachments, trail): standard library + cryptography.

    python3 tools/verify_export.py EXPORT.jsonl --key 'zhunru/trail+1a2b3c4d+AQ…'
    python3 tools/verify_export.py file-instance-7.zip --key 'zhunru/trail+1a2b3c4d+AQ…'

Get the verifier key from whoever runs the log (`zhunru audit keygen` prints it) through a
channel other than the export itself. This file imports nothing of Zhunru on purpose: copy it
anywhere, read it, run it. It checks, and reports each failure with the event it concerns:

1. Checkpoint (first line, "note"): a C2SP signed note (https://c2sp.org/signed-note) whose
   text is origin, tree size, base64 root (https://c2sp.org/tlog-checkpoint), signed with
   Ed25519 by the given key: signature line "— <name> <base64(key id ‖ signature)>", key id =
   SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4].
2. Each event's hash: SHA-256 of prev_hash (hex text) followed by the event's canonical JSON —
   keys sorted, no spaces, UTF-8 kept — of action, actor_id, actor_org_id, at, instance_id,
   payload, role, seq, task.
3. Chains: events of one matter (instance_id; null is the administrative chain) with
   consecutive seq link prev_hash to the previous hash; seq 1 links to 64 zeros; and were
   written in seq order (ids rising along the chain).
4. Inclusion: leaf = SHA-256(0x00 ‖ the 32 bytes of the event's hash), checked against the
   checkpoint's root at its size with the event's RFC 9162 inclusion proof (node =
   SHA-256(0x01 ‖ left ‖ right)). Events newer than the checkpoint carry no proof: they are
   listed, and fail only with --strict.
5. A file export (ZIP): manifest.json lists each document and attachment with its SHA-256;
   each file must hash to its entry and answer one file an event of the trail records, by
   hash and by name (document_issued's sha256, title and 文号; an entry of a payload's
   "attachments": attachments/<id>-<name>), and that event must be under the checkpoint
   (always, not only with --strict); every file the trail records must be in the ZIP once,
   and the ZIP may hold nothing the manifest does not list.

Exit status: 0 all verified, 1 something failed, 2 the input or key could not be read.
What it prints is in Chinese, for the county's auditors.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import zipfile
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
HASHED_FIELDS = ("action", "actor_id", "actor_org_id", "at", "instance_id", "payload")
HASHED_FIELDS += ("role", "seq", "task")


class Unreadable(Exception):
    """The export or the key cannot be read at all."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- checkpoint ------------------------------------------------------------------------------


def parse_key(text: str) -> tuple[str, bytes, bytes]:
    """A verifier key "name+hexid+base64(0x01 ‖ public key)" → (name, key id, public key)."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw, key_id = base64.b64decode(encoded, validate=True), bytes.fromhex(hex_id)
    except (ValueError, binascii.Error) as exc:
        raise Unreadable(f"验证公钥格式有误：{exc}") from exc
    if len(raw) != 33 or raw[0] != 1 or len(key_id) != 4:
        raise Unreadable("验证公钥不是 Ed25519 公钥")
    if sha256(name.encode() + b"\n" + raw)[:4] != key_id:
        raise Unreadable("验证公钥的编号与公钥不符")
    return name, key_id, raw[1:]


def open_checkpoint(note: str, key: tuple[str, bytes, bytes]) -> tuple[str, int, bytes]:
    """Check the note's signature by `key`; return (origin, size, root). Raises ValueError."""
    name, key_id, public = key
    if not note.endswith("\n") or "\n\n" not in note:
        raise ValueError("检查点不是签名文本（signed note）")
    split = note.rindex("\n\n")
    text, signatures = note[: split + 1], note[split + 2 :].splitlines()
    verified = False
    for line in signatures:
        if not line.startswith("— "):
            raise ValueError(f"签名行格式有误：{line!r}")
        signer, _, encoded = line[2:].rpartition(" ")
        raw = base64.b64decode(encoded)
        if signer != name or raw[:4] != key_id:
            continue  # someone else's signature (a witness, say): not ours to judge
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise ValueError(f"{name} 的签名无效：检查点被伪造或改动") from exc
        verified = True
    if not verified:
        raise ValueError(f"检查点没有 {name} 的签名")
    lines = text.split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        raise ValueError("检查点内容应为日志名、事件数、根哈希三行")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError("检查点的根哈希不是 32 字节")
    return lines[0], int(lines[1]), root


# --- events ----------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_hash(event: dict[str, Any]) -> str:
    body = {name: event.get(name) for name in HASHED_FIELDS}
    return hashlib.sha256((event["prev_hash"] + canonical(body)).encode()).hexdigest()


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def name_of(event: dict[str, Any]) -> str:
    chain = "管理链" if event.get("instance_id") is None else f"事项 {event['instance_id']}"
    return f"事件 {event.get('id')}（{chain}第 {event.get('seq')} 条）"


def _written_before(event: dict[str, Any], before: dict[str, Any]) -> bool:
    """The event's id (the order the log was written) is not after the previous seq's."""
    ids = event.get("id"), before.get("id")
    return all(isinstance(i, int) for i in ids) and ids[0] <= ids[1]  # type: ignore[operator]


def check_chains(events: list[dict[str, Any]], whole: bool) -> list[str]:
    """Hashes and links; `whole` chains (a matter's export) must also run from seq 1 unbroken."""
    failures = []
    previous: dict[Any, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: (str(e.get("instance_id")), e.get("seq", 0))):
        if event_hash(event) != event.get("hash"):
            failures.append(f"{name_of(event)}：内容与哈希不符（被改动）")
        if event.get("seq") == 1 and event.get("prev_hash") != GENESIS:
            failures.append(f"{name_of(event)}：首个事件不是从创世哈希开始")
        before = previous.get(event.get("instance_id"))
        expected = before["seq"] + 1 if before is not None else 1
        if event.get("seq") == expected and before is not None:
            if event.get("prev_hash") != before.get("hash"):
                failures.append(f"{name_of(event)}：未链接到第 {before['seq']} 条")
        elif event.get("seq") != expected and whole:
            failures.append(f"{name_of(event)}：此前缺少第 {expected} 条")
        if before is not None and _written_before(event, before):
            failures.append(
                f"{name_of(event)}：写入顺序与序号不符（在第 {before['seq']} 条之前写入）"
            )
        previous[event.get("instance_id")] = event
    return failures


def check_inclusion(
    events: list[dict[str, Any]], size: int, root: bytes
) -> tuple[list[str], list[str]]:
    failures, uncovered = [], []
    for event in events:
        proof, index = event.get("inclusion_proof"), event.get("leaf_index")
        if proof is None or index is None:
            uncovered.append(name_of(event))
            continue
        try:
            leaf = sha256(b"\x00" + bytes.fromhex(event["hash"]))
            path = [bytes.fromhex(h) for h in proof]
        except (TypeError, ValueError):
            failures.append(f"{name_of(event)}：哈希或证明不是十六进制")
            continue
        if not verify_inclusion(leaf, index, size, path, root):
            failures.append(f"{name_of(event)}：不在检查点的默克尔树中（叶 {index}）")
    return failures, uncovered


def read_export(path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_export(handle.read())
    except OSError as exc:
        raise Unreadable(f"无法读取 {path}：{exc}") from exc


def parse_export(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise Unreadable(f"留痕导出文件不是 JSON Lines 格式：{exc}") from exc
    if not records or records[0].get("type") != "checkpoint":
        raise Unreadable("导出文件的第一行应为检查点")
    return records[0], [r for r in records[1:] if r.get("type") == "event"]


def check_events(
    head: dict[str, Any],
    events: list[dict[str, Any]],
    key_text: str,
    origin: str | None,
    strict: bool,
) -> list[str]:
    key = parse_key(key_text)
    whole = set(head.get("scope") or {}) == {"instance_id"}
    failures = check_chains(events, whole)
    uncovered: list[str] = []
    if head.get("note") is None:
        failures.append("导出文件没有检查点：这些事件无从证明")
    else:
        try:
            found_origin, size, root = open_checkpoint(head["note"], key)
            print(f"检查点：{found_origin}，{size} 个事件，根哈希 {root.hex()}")
            if origin is not None and found_origin != origin:
                failures.append(f"检查点来自日志 {found_origin}，不是 {origin}")
            missed, uncovered = check_inclusion(events, size, root)
            failures += missed
        except (ValueError, binascii.Error) as exc:
            failures.append(f"检查点：{exc}")
    for name in uncovered:
        message = f"{name}：晚于检查点，尚不能证明"
        if strict:
            failures.append(message)
        else:
            print(f"提示：{message}")
    return failures


def safe(name: str) -> str:
    """A name as the export writes it into a path (as Zhunru's file export does)."""
    return "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name)[:150]


def recorded_files(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every file the trail records, first event first: an issued document (its path ends in
    its title and 文号), or a file that came with a step or was added on its own (its path is
    attachments/<id>-<name>); each with its hash, the event and whether the checkpoint proves
    that event."""
    found: list[dict[str, Any]] = []
    for event in sorted(events, key=lambda e: e.get("id") or 0):
        payload = event.get("payload") or {}
        proven = event.get("inclusion_proof") is not None
        if event.get("action") == "document_issued" and payload.get("sha256"):
            title = str(payload.get("title") or "")
            if payload.get("number"):
                title += "-" + str(payload["number"])
            found.append(
                {
                    "sha256": payload["sha256"],
                    "event": name_of(event),
                    "proven": proven,
                    "prefix": "documents/",
                    "suffix": f"-{safe(title)}.pdf",
                }
            )
        for described in payload.get("attachments") or []:
            if isinstance(described, dict) and described.get("sha256"):
                path = f"attachments/{described.get('id')}-{safe(str(described.get('name')))}"
                found.append(
                    {
                        "sha256": described["sha256"],
                        "event": name_of(event),
                        "proven": proven,
                        "prefix": path,
                        "suffix": "",
                    }
                )
    return found


def _claims(record: dict[str, Any], path: str, digest: str) -> bool:
    if record["sha256"] != digest:
        return False
    if record["suffix"]:
        return path.startswith(record["prefix"]) and path.endswith(record["suffix"])
    return path == record["prefix"]


def check_files(
    archive: zipfile.ZipFile, manifest: dict[str, Any], recorded: list[dict[str, Any]]
) -> list[str]:
    """Each file hashes to its manifest entry and answers, by hash and by name, one file the
    trail records — under the checkpoint; the export holds every recorded file once and
    nothing the manifest does not list."""
    failures, used = [], set()
    listed = {manifest.get("trail", "trail.jsonl"), "manifest.json", "说明.txt"}
    for entry in manifest.get("files") or []:
        path, digest = str(entry.get("path")), str(entry.get("sha256"))
        listed.add(path)
        try:
            data = archive.read(path)
        except KeyError:
            failures.append(f"文件 {path}：清单中有，压缩包中没有")
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            failures.append(f"文件 {path}：内容与哈希不符（被改动）")
            continue
        match = next(
            (i for i, r in enumerate(recorded) if i not in used and _claims(r, path, digest)),
            None,
        )
        if match is None:
            known = any(r["sha256"] == digest for r in recorded)
            why = "名称与留痕记录的不符" if known else "哈希不在留痕的任何事件中"
            failures.append(f"文件 {path}：{why}")
            continue
        used.add(match)
        record = recorded[match]
        if not record["proven"]:
            failures.append(
                f"文件 {path}：仅由{record['event']}记录，该事件晚于检查点"
                "（不能证明：请在签发新的检查点后重新导出）"
            )
            continue
        print(f"文件 {path}：SHA-256 {digest[:16]}…，由{record['event']}记录")
    for i, record in enumerate(recorded):
        if i not in used:
            failures.append(
                f"{record['event']}：记录了文件 {record['sha256'][:16]}…，导出文件中没有"
            )
    for name in archive.namelist():
        if name not in listed and not name.endswith("/"):
            failures.append(f"文件 {name}：不在清单中")
    return failures


def verify(path: str, key_text: str, origin: str | None, strict: bool) -> int:
    """A trail export (.jsonl), or a matter's whole file (.zip) with its documents."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                manifest = json.loads(archive.read("manifest.json"))
                trail = archive.read(manifest.get("trail", "trail.jsonl")).decode("utf-8")
                head, events = parse_export(trail)
                failures = check_events(head, events, key_text, origin, strict)
                failures += check_files(archive, manifest, recorded_files(events))
                files = len(manifest.get("files") or [])
        except (KeyError, ValueError, zipfile.BadZipFile, AttributeError) as exc:
            raise Unreadable(f"{path} 不是可读的卷宗导出文件：{exc}") from exc
        summary = f"共 {len(events)} 个事件、{files} 个文件"
    else:
        head, events = read_export(path)
        failures = check_events(head, events, key_text, origin, strict)
        summary = f"共 {len(events)} 个事件"
    for failure in failures:
        print(f"不符：{failure}")
    print(f"{summary}，{len(failures)} 处不符")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", help="准入导出的留痕（.jsonl）或卷宗（.zip）")
    parser.add_argument("--key", help="验证公钥：名称+十六进制编号+base64")
    parser.add_argument("--key-file", help="存放验证公钥的文件")
    parser.add_argument("--origin", help="应有的日志名（检查点第一行）")
    parser.add_argument("--strict", action="store_true", help="没有包含证明的事件也算不符")
    args = parser.parse_args(argv)
    try:
        key_text = args.key or (
            open(args.key_file, encoding="utf-8").read() if args.key_file else ""
        )
        if not key_text:
            raise Unreadable("请用 --key 或 --key-file 提供验证公钥")
        return verify(args.export, key_text, args.origin, args.strict)
    except (Unreadable, OSError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
