"""A county's own document layouts (issue 15): `layouts = "dir"` in documents.toml puts the
county's layouts before the shipped ones, so a county changes how its 批复 reads without a
release; a missing or broken layout stops the service at start, naming the file and line."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from config import PROJECT_ROOT
from config.documents import DocumentRulesError, load_document_rules
from engine.services import documents
from engine.services.context import Context, build_context
from tests.integration.test_admission_services import actor, admit

SHIPPED = PROJECT_ROOT / "config" / "documents.toml"


def county_rules(tmp_path: Path, layouts: dict[str, str]) -> Path:
    """The shipped rules with `layouts = "layouts"` and the given files in that directory."""
    folder = tmp_path / "layouts"
    folder.mkdir()
    for name, text in layouts.items():
        (folder / name).write_text(text, encoding="utf-8")
    rules = tmp_path / "documents.toml"
    rules.write_text('layouts = "layouts"\n' + SHIPPED.read_text(encoding="utf-8"), "utf-8")
    return rules


def test_a_countys_layout_replaces_the_shipped_one(ctx: Context, tmp_path: Path) -> None:
    own = (
        '{% extends "_base.html" %}{% block body %}<h1>{{ county }}{{ title }}</h1>'
        "<p>{{ number }}：同意{{ matter.applicant }}将“{{ matter.title }}”交由"
        "{{ matter.townships|join('、') }}承担（本县自定版式）。</p>{% endblock %}"
    )
    rules = county_rules(tmp_path, {"approval_reply.html": own})
    county = build_context(ctx.settings.with_overrides(document_rules_file=rules), clock=ctx.clock)
    try:
        matter = admit(county)
        issued = documents.issue(county, matter, "approval_reply", actor(county, "bianban"))
        pdf = documents.document_file(county, issued.id, actor(county, "nongye")).data
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        text = text.replace("\n", "")  # a line may break anywhere in Chinese
        assert "本县自定版式" in text and issued.number in text
        # Layouts the county did not write are the shipped ones.
        form = documents.issue(county, matter, "approval_form", actor(county, "bianban"))
        form_pdf = documents.document_file(county, form.id, actor(county, "bianban")).data
        form_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(form_pdf)).pages)
        assert "合法性审查意见" in form_text
    finally:
        county.db.dispose()


@pytest.mark.parametrize(
    ("layouts", "expected"),
    [
        ({"approval_reply.html": "{% if %}"}, "approval_reply.html line 1"),
        ({"approval_reply.html": '{% extends "missing.html" %}'}, "no layout"),
    ],
)
def test_a_broken_layout_stops_the_service_at_start(
    ctx: Context, tmp_path: Path, layouts: dict[str, str], expected: str
) -> None:
    rules = county_rules(tmp_path, layouts)
    with pytest.raises(DocumentRulesError, match=expected):
        build_context(ctx.settings.with_overrides(document_rules_file=rules), clock=ctx.clock)


def test_a_layouts_directory_that_is_not_there_is_named(tmp_path: Path) -> None:
    rules = county_rules(tmp_path, {})
    shutil.rmtree(tmp_path / "layouts")
    with pytest.raises(DocumentRulesError, match="layouts directory .* not found"):
        load_document_rules(rules)
