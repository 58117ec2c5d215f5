"""The procedures bpmn/ ships, read as packages (a diagram and its forms), for tests."""

from __future__ import annotations

import io
import zipfile
from functools import cache
from pathlib import Path

from engine.services.context import register_processes
from engine.workflow.packages import Package, read_directory
from engine.workflow.specs import Diagram, parse_package

BPMN = Path(__file__).resolve().parents[1] / "bpmn"
BEFORE_SERVICE_TASKS = Path(__file__).resolve().parent / "fixtures" / "before_service_tasks"


def shipped(process_id: str) -> Package:
    """The package in bpmn/<process_id>/."""
    return read_directory(BPMN / process_id)


def before_service_tasks(process_id: str) -> Package:
    """The shipped package as it was before its effects were service tasks (the diagrams of
    counties' running instances from then): its forms as shipped now, the effects done after
    the step."""
    xml = (BEFORE_SERVICE_TASKS / f"{process_id}.bpmn").read_bytes()
    files = shipped(process_id).files
    return Package(xml, {name: body for name, body in files.items() if name.encode() in xml})


def activate_before_service_tasks(ctx, process_id: str) -> int:
    """Deploy and activate that version in `ctx`'s database; its version number."""
    from engine.workflow.services import deployments

    with ctx.db.write() as session:
        info = deployments.deploy(session, ctx, before_service_tasks(process_id), None)
    return deployments.activate(ctx, process_id, info.version, None).version


@cache
def shipped_diagram(process_id: str) -> Diagram:
    """The shipped package parsed, its forms built (with the checks the domains register)."""
    register_processes()
    return parse_package(shipped(process_id))


def zipped(package: Package) -> bytes:
    """The package as an administrator uploads it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("diagram.bpmn", package.xml)
        for name, content in sorted(package.files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()


ZIP = {"Content-Type": "application/zip"}


def upload(process_id: str, xml: bytes | str | None = None) -> bytes:
    """The shipped package zipped for upload (with ZIP headers), its diagram replaced by `xml`
    (a changed version) when given."""
    package = shipped(process_id)
    if xml is not None:
        package = Package(xml.encode() if isinstance(xml, str) else xml, package.files)
    return zipped(package)
