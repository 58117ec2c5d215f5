"""What an uploaded file is, from its content (never its name), and whether it opens as that.

The families are told apart by their signatures (puremagic); a container is then looked
into — a ZIP for the part that makes it OFD (GB/T 33190), Word, Excel, a presentation or an
OpenDocument file, an OLE2 compound file for the stream that makes it a legacy Word, Excel or
PowerPoint file (olefile) — and the file is opened as what it claims to be (pypdf, Pillow,
zipfile), so a truncated or corrupt upload is refused rather than filed.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass

import olefile
import puremagic
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from engine.errors import InvalidInput


@dataclass(frozen=True)
class FileKind:
    key: str  # pdf, ofd, docx, …: also the extension a download carries
    media_type: str
    label: str  # how users name it
    extensions: tuple[str, ...] = ()

    def fits(self, name: str) -> bool:
        suffix = name.rpartition(".")[2].lower() if "." in name else ""
        return suffix in (self.key, *self.extensions)


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
KINDS = {
    kind.key: kind
    for kind in (
        FileKind("pdf", "application/pdf", "PDF 文件"),
        FileKind("ofd", "application/ofd", "OFD 版式文件"),
        FileKind("docx", _OOXML + "wordprocessingml.document", "Word 文档", ("wps",)),
        FileKind("xlsx", _OOXML + "spreadsheetml.sheet", "Excel 表格", ("et",)),
        FileKind("pptx", _OOXML + "presentationml.presentation", "演示文稿", ("dps",)),
        FileKind("doc", "application/msword", "Word 文档", ("wps",)),
        FileKind("xls", "application/vnd.ms-excel", "Excel 表格", ("et",)),
        FileKind("ppt", "application/vnd.ms-powerpoint", "演示文稿", ("dps",)),
        FileKind("odt", _ODF + "text", "文字文档"),
        FileKind("ods", _ODF + "spreadsheet", "电子表格"),
        FileKind("odp", _ODF + "presentation", "演示文稿"),
        FileKind("png", "image/png", "图片"),
        FileKind("jpg", "image/jpeg", "图片", ("jpeg", "jpe", "jfif")),
        FileKind("gif", "image/gif", "图片"),
        FileKind("tif", "image/tiff", "图片", ("tiff",)),
        FileKind("bmp", "image/bmp", "图片"),
        FileKind("webp", "image/webp", "图片"),
    )
}
ACCEPTED = "PDF、OFD、Word、Excel、演示文稿（含 WPS 与 OpenDocument）或图片"
# Signature family (puremagic's extension for it) → how to look further.
_IMAGES = {".png": "png", ".jpeg": "jpg", ".jfif": "jpg", ".jpe": "jpg", ".jpg": "jpg"}
_IMAGES |= {".gif": "gif", ".tiff": "tif", ".tif": "tif", ".bmp": "bmp", ".webp": "webp"}
_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "tif": "TIFF"}
_PILLOW_FORMATS |= {"bmp": "BMP", "webp": "WEBP"}
_ZIP_SIGNATURES = {".docx", ".xlsx", ".pptx", ".xlsb", ".xltm", ".zip", ".jar", ".odt"}
_OLE_SIGNATURES = {".doc", ".xls", ".ppt", ".msg", ".spo", ".opt"}
# The largest image decoded to check it (a 40-megapixel phone photo or A3 scan at 600 dpi
# passes; decoding takes about 4 bytes a pixel).
MAX_PIXELS = 60_000_000
# A container may not unpack to more than this many times its size (a ZIP bomb).
_MAX_EXPANSION = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f/\\]")


def _refuse(message: str) -> InvalidInput:
    return InvalidInput("附件不能接收", {"file": [message]})


def identify(data: bytes) -> FileKind:
    """The kind of `data`, checked by opening it; anything else is InvalidInput."""
    if not data:
        raise _refuse("文件是空的")
    try:
        found = [match.extension.lower() for match in puremagic.magic_string(data)[:3]]
    except (puremagic.PureError, ValueError):
        found = []
    family = found[0] if found else ""
    if family == ".pdf":
        return _pdf(data)
    if family in _IMAGES:
        return _image(data, _IMAGES[family])
    if family in _ZIP_SIGNATURES or data[:4] == b"PK\x03\x04":
        return _container(data)
    if family in _OLE_SIGNATURES:
        return _compound(data)
    raise _refuse(f"不支持此类文件。附件须为{ACCEPTED}，按文件内容判断，不看扩展名")


def _broken(kind: FileKind) -> InvalidInput:
    return _refuse(f"文件已损坏或不完整，不能作为{kind.label}打开")


def _pdf(data: bytes) -> FileKind:
    kind = KINDS["pdf"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Lenient, as PDF readers are: a shifted xref or a stray byte is repaired.
            reader = PdfReader(io.BytesIO(data), strict=False)
            # Only an owner password (printing or copying restricted) opens without one.
            if reader.is_encrypted and not reader.decrypt(""):
                raise _refuse("PDF 文件设有打开密码，请上传可直接打开的文件")
            if len(reader.pages) < 1:
                raise _refuse("PDF 文件没有页面")
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise _broken(kind) from exc
    return kind


def _image(data: bytes, key: str) -> FileKind:
    kind = KINDS[key]
    too_many = _refuse(f"图片像素过多（超过 {MAX_PIXELS // 1_000_000} 百万像素），请缩小后上传")
    try:
        with warnings.catch_warnings():  # the size is judged below, not by Pillow's warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            if image.format != _PILLOW_FORMATS[key]:
                raise _broken(kind)
            if image.width * image.height > MAX_PIXELS:
                raise too_many
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated image fails here
    except Image.DecompressionBombError as exc:  # far beyond even Pillow's own limit
        raise too_many from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _broken(kind) from exc
    return kind


def _container(data: bytes) -> FileKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > _MAX_EXPANSION * len(data):
                raise _refuse("文件解压后过大，不能接收")
            names = {m.filename for m in members}
            key = _container_kind(archive, names)
            if key is None:
                raise _refuse(f"不支持此类压缩文件。附件须为{ACCEPTED}")
            if archive.testzip() is not None:
                raise _broken(KINDS[key])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise _refuse("文件已损坏或不完整，不能打开") from exc
    return KINDS[key]


def _container_kind(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names:
        for part, key in (
            ("word/document.xml", "docx"),
            ("xl/workbook.xml", "xlsx"),
            ("ppt/presentation.xml", "pptx"),
        ):
            if part in names:
                return key
    if "mimetype" in names:
        declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
        for key in ("odt", "ods", "odp"):
            if declared == KINDS[key].media_type:
                return key
    return None


def _compound(data: bytes) -> FileKind:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(path) for path in ole.listdir()}
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise _refuse("文件已损坏或不完整，不能打开") from exc
    for stream, key in (
        ("WordDocument", "doc"),
        ("Workbook", "xls"),
        ("Book", "xls"),
        ("PowerPoint Document", "ppt"),
    ):
        if stream in streams:
            return KINDS[key]
    raise _refuse(f"不支持此类文件。附件须为{ACCEPTED}")


def filed_name(name: str, kind: FileKind) -> str:
    """The name the file is kept under: the uploader's, without any path or control
    character, at most 200 characters, ending in the extension its content has."""
    name = _CONTROL.sub("", name.replace("\\", "/").rpartition("/")[2]).strip(" .")
    if not kind.fits(name):
        stem = name.rpartition(".")[0] if "." in name else name
        name = f"{stem or '附件'}.{kind.key}"
    stem, _, suffix = name.rpartition(".")
    return f"{stem[: 199 - len(suffix)]}.{suffix}"
