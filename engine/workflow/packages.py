"""Procedure packages: one BPMN diagram plus the JSON files it names, read from a zip or a folder.

A user task or start event names its form as SpiffArena does, in its extension elements:
`<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename"
value="review.json"/>` (and optionally `formUiSchemaFilename`). Every file a package holds must
be named by its diagram, and every file named must be in the package, so what is deployed is
exactly what an auditor reads.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from engine.errors import InvalidDiagram

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_SCHEMA = "formJsonSchemaFilename"
FORM_UI = "formUiSchemaFilename"

MAX_PACKAGE_BYTES = 4 * 1024 * 1024  # the upload, compressed
MAX_FILES = 100
MAX_FILE_BYTES = 256 * 1024  # one form file, uncompressed (the diagram has its own bound)
MAX_TOTAL_BYTES = 8 * 1024 * 1024  # everything, uncompressed
ZIP_MEDIA_TYPE = "application/zip"


@dataclass(frozen=True)
class Package:
    """A diagram and its files (name → bytes); a bare diagram has no files."""

    xml: bytes
    files: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """The package's identity: the diagram's own sha256 when it has no files (as every
        bare diagram deployed before packages), else one over the diagram and each file."""
        if not self.files:
            return hashlib.sha256(self.xml).hexdigest()
        digest = hashlib.sha256(b"zhunru-package-1\0")
        for name, content in [("", self.xml), *sorted(self.files.items())]:
            for part in (name.encode(), content):
                digest.update(len(part).to_bytes(8, "big"))
                digest.update(part)
        return digest.hexdigest()

    def stored_files(self) -> dict[str, str] | None:
        """The files as the deployment row keeps them (text; forms are UTF-8 JSON)."""
        return {name: content.decode() for name, content in self.files.items()} or None

    @classmethod
    def from_stored(cls, xml: bytes, files: Mapping[str, str] | None) -> Package:
        return cls(xml, {name: text.encode() for name, text in (files or {}).items()})


def _refuse(message: str, *problems: str) -> InvalidDiagram:
    return InvalidDiagram(message, {"package": list(problems) or [message]})


def _check_name(name: str) -> str:
    """A package file's name: a plain file name (a folder the zip tool added is dropped)."""
    path = PurePosixPath(name)
    if name.startswith("/") or "\\" in name or ".." in path.parts or not path.name:
        raise _refuse("程序包中的文件名不合法", f"文件名不合法：{name}")
    return path.name


def read_zip(data: bytes) -> Package:
    """The package in an uploaded zip: exactly one `.bpmn`, other files `.json`, all bounded."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise _refuse("程序包过大", f"程序包不能超过 {MAX_PACKAGE_BYTES // 1024 // 1024} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _refuse("程序包不是合法的 zip 文件", f"无法读取 zip：{exc}") from exc
    if len(entries) > MAX_FILES:
        raise _refuse("程序包中的文件过多", f"不能超过 {MAX_FILES} 个文件")
    if sum(info.file_size for info in entries) > MAX_TOTAL_BYTES:
        raise _refuse("程序包解压后过大", f"解压后不能超过 {MAX_TOTAL_BYTES // 1024 // 1024} MB")
    contents: dict[str, bytes] = {}
    for info in entries:
        name = _check_name(info.filename)
        if name in contents:
            raise _refuse("程序包中有重名文件", f"重名文件：{name}")
        try:
            contents[name] = archive.read(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError) as exc:
            raise _refuse("程序包中的文件无法读取", f"{name}：{exc}") from exc
    return _split(contents)


def read_directory(directory: Path) -> Package:
    """A package kept as a folder (as `bpmn/` ships them)."""
    return _split({path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()})


def _split(contents: dict[str, bytes]) -> Package:
    diagrams = [name for name in contents if name.endswith(".bpmn")]
    if len(diagrams) != 1:
        raise _refuse("程序包须恰好包含一个 .bpmn 流程图", f"找到 {len(diagrams)} 个 .bpmn 文件")
    others = {name: data for name, data in contents.items() if name != diagrams[0]}
    wrong = sorted(name for name in others if not name.endswith(".json"))
    if wrong:
        raise _refuse(
            "程序包中只能有流程图和 JSON 表单文件", *(f"不支持的文件：{n}" for n in wrong)
        )
    too_big = sorted(name for name, data in others.items() if len(data) > MAX_FILE_BYTES)
    if too_big:
        raise _refuse("表单文件过大", *(f"{n} 超过 {MAX_FILE_BYTES // 1024} KB" for n in too_big))
    return Package(contents[diagrams[0]], others)


@dataclass(frozen=True)
class FormRef:
    """The files a step names for its form."""

    schema: str
    ui: str | None = None


def _properties(element: etree._Element) -> dict[str, str]:
    found = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
    )
    return {node.get("name", ""): node.get("value", "") for node in found}


def form_refs(root: etree._Element) -> dict[str, FormRef]:
    """Step id → the form files it names, for user tasks and start events."""
    refs: dict[str, FormRef] = {}
    for element in root.xpath(".//bpmn:userTask | .//bpmn:startEvent", namespaces=NS):
        properties = _properties(element)
        schema = properties.get(FORM_SCHEMA, "").strip()
        ui = properties.get(FORM_UI, "").strip() or None
        if schema:
            refs[element.get("id", "")] = FormRef(schema, ui)
        elif ui:
            raise _refuse(
                "步骤只指定了界面文件而没有表单文件",
                f"步骤 {element.get('id', '')} 缺少 {FORM_SCHEMA}",
            )
    return refs


def none_start_id(root: etree._Element) -> str:
    """The id of the process's start event without a trigger (what an applicant starts)."""
    for element in root.xpath("./bpmn:process/bpmn:startEvent", namespaces=NS):
        if not any(etree.QName(child).localname.endswith("EventDefinition") for child in element):
            return str(element.get("id", ""))
    return ""


def check_files(refs: Mapping[str, FormRef], files: Mapping[str, bytes]) -> None:
    """Every file named is in the package and every file in it is named."""
    named = {name for ref in refs.values() for name in (ref.schema, ref.ui) if name}
    missing = sorted(named - set(files))
    unused = sorted(set(files) - named)
    problems = [f"流程图引用的文件不在程序包中：{name}" for name in missing]
    problems += [f"程序包中的文件未被流程图引用：{name}" for name in unused]
    if problems:
        raise _refuse("程序包与流程图不一致", *problems)
