"""HTML forms from the engine's marshmallow schemas: fields to draw, posted values, errors."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from api.console.labels import choice_labels, field_hint, field_label, value_label

# Fields of the marshmallow bodies (the case record's) that only apply when another field of the
# same form has one of some values ("Schema.field" → (field, values)). The page hides them
# otherwise (console.js), and a hidden field is not sent; without script they all show, and the
# schema still judges what is sent. A package form says this in its if/then (schema_forms).
SHOWN_WHEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "CaseSchema.subject_username": ("subject_kind", ("person",)),
    "CaseSchema.subject_name": ("subject_kind", ("person",)),
    "CaseSchema.subject_position": ("subject_kind", ("person",)),
    "CaseSchema.leadership_kind": ("responsibility_level", ("leadership",)),
}

Flat = dict[str, Any]  # dotted input name → str or list[str]


@dataclass
class FieldView:
    """One field as a template draws it; `name` is the dotted input name."""

    name: str
    label: str
    # text | textarea | lines | date | number | radio | select | checkboxes | group | hidden
    kind: str
    required: bool = False
    hint: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    values: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list[FieldView] = field(default_factory=list)
    minimum: int | None = None
    maximum: int | None = None
    maxlength: int | None = None
    # Shown only when the named field has one of these values (SHOWN_WHEN).
    shown_when: tuple[str, tuple[str, ...]] | None = None

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def shown_when_text(self) -> str:
        """`field=value|value`, as console.js reads it from data-shown-when."""
        if self.shown_when is None:
            return ""
        return f"{self.shown_when[0]}={'|'.join(self.shown_when[1])}"


def describe(
    schema: type[Schema],
    values: Flat | None = None,
    errors: Mapping[str, list[str]] | None = None,
    choices: Mapping[str, list[tuple[str, str]]] | None = None,
    prefix: str = "",
    hidden: Collection[str] = (),
    omit: Collection[str] = (),
) -> list[FieldView]:
    """The schema's fields in declaration order, with current values and their errors.

    `choices` gives the options by field name where the schema has none of its own: the
    townships to pick from, the county's tolerance rules, an earlier step's list. A list of
    free text without options is one entry per line. `hidden` fields are sent as they are
    (a procedure's case); `omit` fields are not drawn at all.
    """
    values, errors, choices = values or {}, errors or {}, choices or {}
    views = []
    for name, spec in schema().fields.items():
        if name in omit:
            continue
        dotted = prefix + name
        view = FieldView(
            name=dotted,
            label=field_label(name, schema.__name__),
            kind="text",
            required=spec.required,
            hint=field_hint(schema.__name__, name),
            errors=list(errors.get(dotted, [])),
            shown_when=SHOWN_WHEN.get(f"{schema.__name__}.{name}"),
        )
        if name in hidden:
            view.kind = "hidden"
            view.value = str(values.get(dotted, ""))
        elif isinstance(spec, fields.Nested):
            view.kind = "group"
            nested = type(spec.schema)
            view.children = describe(nested, values, errors, choices, dotted + ".")
        elif isinstance(spec, fields.List):
            options = _one_of(spec.inner)
            view.values = [str(v) for v in _as_list(values.get(dotted))]
            if options or name in choices:
                view.kind = "checkboxes"
                view.choices = list(choices.get(name) or choice_labels(options).items())
            else:
                view.kind = "lines"
                view.value = "\n".join(view.values)
        elif isinstance(spec, fields.Boolean):
            view.kind = "radio"
            view.choices = [("true", "是"), ("false", "否")]
            view.value = str(values.get(dotted, ""))
        else:
            _scalar(view, spec, values.get(dotted), choices.get(name))
        views.append(view)
    return views


def _scalar(
    view: FieldView, spec: fields.Field, value: Any, given: list[tuple[str, str]] | None
) -> None:
    view.value = "" if value is None else str(value)
    options = _one_of(spec)
    if given is not None:
        view.kind = "select"
        view.choices = list(given)
    elif options:
        view.kind = "radio"
        view.choices = list(choice_labels(options).items())
    elif isinstance(spec, fields.Date):
        view.kind = "date"
    elif isinstance(spec, fields.Integer):
        view.kind = "number"
        for rule in spec.validators:
            if isinstance(rule, validate.Range):
                view.minimum = int(rule.min) if rule.min is not None else None
                view.maximum = int(rule.max) if rule.max is not None else None
    else:
        for rule in spec.validators:
            if isinstance(rule, validate.Length) and rule.max is not None:
                view.maxlength = rule.max
        if getattr(spec, "multiline", False):  # engine.workflow.fields: tab and line breaks allowed
            view.kind = "textarea"


def _one_of(spec: fields.Field) -> list[str]:
    for rule in spec.validators:
        if isinstance(rule, validate.OneOf):
            return [str(choice) for choice in rule.choices]
    return []


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- from a posted form to the payload the use case validates ------------------------------


def payload_from(
    schema: type[Schema],
    form: MultiDict[str, str],
    prefix: str = "",
    choices: Collection[str] = (),
) -> dict:
    """What the browser sent, shaped like the API's JSON body; the schema still judges it.

    Empty inputs are left out, so a required field reads "此项为必填项" and an optional one takes
    its default; numbers that do not parse are passed on as text for the schema to refuse.
    A list of free text (no options of its own, none in `choices`) comes one entry a line.
    """
    payload: dict[str, Any] = {}
    for name, spec in schema().fields.items():
        key = prefix + name
        if isinstance(spec, fields.Nested):
            payload[name] = payload_from(type(spec.schema), form, key + ".", choices)
        elif isinstance(spec, fields.List):
            if _one_of(spec.inner) or name in choices:
                items = [item for item in form.getlist(key) if item.strip()]
            else:
                items = [
                    line.strip()
                    for text in form.getlist(key)
                    for line in text.splitlines()
                    if line.strip()
                ]
            if items or not spec.required:
                payload[name] = items
        else:
            raw = form.get(key, "")
            if raw.strip() == "" and raw == raw.strip():
                continue
            payload[name] = _typed(spec, raw)
    return payload


def _typed(spec: fields.Field, raw: str) -> Any:
    if isinstance(spec, fields.Boolean):
        return {"true": True, "false": False}.get(raw, raw)
    if isinstance(spec, fields.Integer):
        try:
            return int(raw.strip())
        except ValueError:
            return raw
    return raw


def flat_values(values: Mapping[str, Any], prefix: str = "") -> Flat:
    """Stored form values (as the use cases return them) as dotted input values."""
    flat: Flat = {}
    for name, value in values.items():
        key = prefix + name
        if isinstance(value, Mapping):
            flat.update(flat_values(value, key + "."))
        elif isinstance(value, list):
            flat[key] = [str(item) for item in value]
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        elif isinstance(value, date):
            flat[key] = value.isoformat()
        elif value is not None:
            flat[key] = str(value)
    return flat


def posted_values(form: MultiDict[str, str]) -> Flat:
    """What was typed, to draw the form again after an error."""
    return {key: (items if len(items) > 1 else items[0]) for key, items in form.lists()}


def flat_errors(errors: Mapping[Any, Any], prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as dotted field names; list items report on their list."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = prefix.rstrip(".") if isinstance(key, int) else prefix + str(key)
        if isinstance(value, Mapping):
            child = name + "." if not isinstance(key, int) else prefix
            for inner, messages in flat_errors(value, child).items():
                flat.setdefault(inner, []).extend(messages)
        else:
            items = value if isinstance(value, list) else [value]
            flat.setdefault(name or "_schema", []).extend(str(item) for item in items)
    return flat


def summary(errors: Mapping[str, list[str]], views: list[FieldView]) -> list[tuple[str, str]]:
    """(html id, text) of every error, for the list at the top of the form."""
    labels = {}

    def walk(items: list[FieldView], trail: str) -> None:
        for view in items:
            target = "" if view.kind == "hidden" else view.html_id
            labels[view.name] = (target, trail + view.label)
            walk(view.children, trail + view.label + " › ")

    walk(views, "")
    out = []
    for name, messages in errors.items():
        html_id, label = labels.get(name, ("", ""))
        for message in messages:
            out.append((html_id, f"{label}：{message}" if label else message))
    return out


def relocate(errors: dict[str, list[str]], schema: type[Schema]) -> dict[str, list[str]]:
    """Errors a use case names by a bare field (e.g. an unknown township found after the schema
    passed) go to the one nested field of that name, so they still show beside it."""
    names: list[str] = []

    def walk(items: list[FieldView]) -> None:
        for view in items:
            names.append(view.name)
            walk(view.children)

    walk(describe(schema))
    placed: dict[str, list[str]] = {}
    for name, messages in errors.items():
        if name not in names:
            matches = [n for n in names if n.endswith("." + name)]
            name = matches[0] if len(matches) == 1 else name
        placed.setdefault(name, []).extend(messages)
    return placed


Lookup = Mapping[str, Mapping[str, str]]  # field name → {code: label} beyond the schema's own


def read_only(
    schema: type[Schema],
    values: Mapping[str, Any],
    lookup: Lookup,
    skip: Collection[str] = (),
) -> list[tuple[str, str]]:
    """Stored values as (label, text) rows in the schema's order; nested groups flattened.

    `lookup` names the codes the schema cannot (townships, the county's tolerance rules)."""
    rows: list[tuple[str, str]] = []
    for name, spec in schema().fields.items():
        value = values.get(name)
        if name in skip:
            continue
        if isinstance(spec, fields.Nested) and isinstance(value, Mapping):
            rows += read_only(type(spec.schema), value, lookup, skip)
        elif value not in (None, "", []):
            rows.append((field_label(name, schema.__name__), shown(spec, name, value, lookup)))
    return rows


def shown(spec: fields.Field | None, name: str, value: Any, lookup: Lookup) -> str:
    """One stored value as a person reads it: codes by the field's own choices or `lookup`."""
    table: Mapping[str, str] | None = lookup.get(name)
    if table is None and spec is not None:
        inner = spec.inner if isinstance(spec, fields.List) else spec
        options = _one_of(inner)
        table = choice_labels(options) if options else None
    if table is None and isinstance(value, list):
        # Free text one entry a line (points, departments): entries may hold "、" themselves.
        return "；".join(str(item) for item in value) or "无"
    if table is None:
        return value_label(name, value)
    if isinstance(value, list):
        return "、".join(table.get(str(item), str(item)) for item in value) or "无"
    if isinstance(value, str):
        return table.get(value, value) or "—"
    return value_label(name, value)
