"""Ed25519 signed checkpoints in the C2SP signed-note and tlog-checkpoint formats.

A checkpoint's text is three lines — origin, tree size in decimal, base64 root hash — and a
signed note is that text, a blank line, and one line per signature:
"— <key name> <base64(key id ‖ signature)>". The key id is the first 4 bytes of
SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key), 0x01 marking Ed25519. Keys are written as the
Go `golang.org/x/mod/sumdb/note` package writes them, so any C2SP tool reads them:
signer "PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>", verifier
"<name>+<hex id>+<base64(0x01 ‖ public key)>".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
SIGNATURE_PREFIX = "— "  # em dash (U+2014), then a space
_PRIVATE = "PRIVATE+KEY+"


class NoteError(ValueError):
    """A key, note or checkpoint that cannot be read or does not verify (zh-CN message)."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"密钥名称无效：{name!r}（不能为空，不能含空白或“+”）")


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public: bytes

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, key_id(self.name, public), public)

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.seed).decode()
        return f"{_PRIVATE}{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def generate_signer(name: str) -> Signer:
    """A new Ed25519 key named `name` (by convention the log's origin)."""
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return Signer(name, seed)


def _key_parts(text: str, what: str) -> tuple[str, bytes, bytes]:
    parts = text.strip().split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3:
        raise NoteError(f"{what}格式应为 名称+密钥编号+base64")
    name, hex_id, encoded = parts
    _check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
        expected_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what}无法解码") from exc
    if len(raw) != 33 or raw[:1] != ED25519 or len(expected_id) != 4:
        raise NoteError(f"{what}不是 Ed25519 密钥")
    return name, expected_id, raw[1:]


def parse_verifier(text: str) -> Verifier:
    name, expected_id, public = _key_parts(text, "验证公钥")
    if key_id(name, public) != expected_id:
        raise NoteError("验证公钥的密钥编号与公钥不符")
    return Verifier(name, expected_id, public)


def parse_signer(text: str) -> Signer:
    if not text.strip().startswith(_PRIVATE):
        raise NoteError("签名私钥应以 PRIVATE+KEY+ 开头")
    name, expected_id, seed = _key_parts(text.strip()[len(_PRIVATE) :], "签名私钥")
    signer = Signer(name, seed)
    if signer.verifier.key_id != expected_id:
        raise NoteError("签名私钥的密钥编号与私钥不符")
    return signer


def read_signer(path: Path) -> Signer:
    try:
        return parse_signer(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NoteError(f"无法读取签名私钥文件 {path}：{exc.strerror}") from exc


def write_signer(path: Path, signer: Signer) -> None:
    """Write a new key file readable by its owner only; never overwrite an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise NoteError(f"密钥文件 {path} 已存在，不会覆盖") from exc
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(signer.text() + "\n")


# --- notes ---------------------------------------------------------------------------------


def sign_note(text: str, signer: Signer) -> str:
    """The signed note of `text` (which must end with a newline)."""
    _check_text(text)
    verifier = signer.verifier
    signature = base64.b64encode(verifier.key_id + signer.sign(text.encode())).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{verifier.name} {signature}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("签名文本必须以换行结尾")
    if any((ord(c) < 0x20 and c != "\n") or c == "\x7f" for c in text):
        raise NoteError("签名文本含有控制字符")


@dataclass(frozen=True)
class Note:
    text: str
    signed_by: list[str]


def _signatures(block: str) -> list[tuple[str, bytes]]:
    found = []
    for line in block.removesuffix("\n").split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("签名行应以“— ”开头")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError(f"“{name}”的签名无法解码") from exc
        if not name or len(raw) < 5:
            raise NoteError("签名行格式有误")
        found.append((name, raw))
    return found


def split_note(note: str) -> tuple[str, str]:
    """A signed note's text and its block of signature lines, neither checked against keys."""
    if not note.endswith("\n") or "\n\n" not in note:
        raise NoteError("不是签名文本：缺少空行分隔的签名")
    split = note.rindex("\n\n")
    text, block = note[: split + 1], note[split + 2 :]
    _check_text(text)
    if not block:
        raise NoteError("签名文本没有签名")
    return text, block


def open_note(note: str, verifiers: list[Verifier]) -> Note:
    """Split a signed note and check its signatures against the known keys.

    Signatures by unknown keys are ignored; a signature by a known key that does not verify is
    an error, and so is a note that no known key has signed.
    """
    text, block = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    signed_by = []
    for name, raw in _signatures(block):
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), raw[4:]):
            raise NoteError(f"“{name}”的签名无效：检查点可能被伪造或篡改")
        signed_by.append(name)
    if not signed_by:
        raise NoteError("没有可识别密钥的签名：检查点不是本日志的签名密钥签发的")
    return Note(text, signed_by)


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> CheckpointBody:
    """Read a checkpoint's text (origin, size, root, then any extension lines)."""
    lines = text.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise NoteError("检查点应有来源、大小、根哈希三行")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise NoteError("检查点的大小不是十进制整数")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise NoteError("检查点的根哈希无法解码") from exc
    if len(root) != 32:
        raise NoteError("检查点的根哈希不是 32 字节")
    return CheckpointBody(origin, int(size_text), root)


def open_checkpoint(note: str, verifiers: list[Verifier], origin: str) -> CheckpointBody:
    """A signed checkpoint's body, once its signature and origin are checked."""
    body = parse_checkpoint(open_note(note, verifiers).text)
    if body.origin != origin:
        raise NoteError(f"检查点来自其他日志（{body.origin}），本日志为 {origin}")
    return body


def sign_checkpoint(body: CheckpointBody, signer: Signer) -> str:
    return sign_note(body.text(), signer)
