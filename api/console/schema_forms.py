"""HTML forms from a package's JSON Schema (and uiSchema): fields to draw, posted values, and
submitted values to read — the same `FieldView`s `forms` draws from marshmallow schemas.

Everything a person reads comes from the schema: a property's `title` (its key only as a last
resort, which is the package author's omission), `description` or `ui:help`, the `title` of each
`oneOf` choice; a field that only applies to one answer of another comes from the schema's
`if`/`then`/`else`, never from a table kept here (a branch that only wants a field left empty
does not show it). A field a branch only makes required (a comment required when returning)
shows for every answer when its uiSchema says
`"ui:options": {"alwaysShown": true}`. Codes the schema cannot list (townships, which live in
the database) take their options and names from the page, by property name or by their mark
(`x-township`, `x-department`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from api.console.forms import FieldView, Flat
from api.console.labels import BOOL_LABELS
from engine.workflow.fields import MULTILINE_FROM
from engine.workflow.schema_forms import labelled_choices
from engine.workflow.workdays import written_date

JSON = dict[str, Any]
Condition = tuple[str, tuple[str, ...]]  # (field name within its object, values as posted)
Choices = Mapping[str, list[tuple[str, str]]]  # property name → (code, name) the page supplies
RADIO_UP_TO = 4  # more choices than this are a drop-down list
# Marks a package puts on fields whose codes live in the database (organisations): the page
# supplies their options and names under the mark, for every field so marked.
ORG_MARKS = ("x-township", "x-department")
BOOLEAN_CHOICES = [("true", BOOL_LABELS[True]), ("false", BOOL_LABELS[False])]


@dataclass(frozen=True)
class Prop:
    """One property of an object schema as the console sees it."""

    name: str
    spec: JSON
    ui: JSON
    required: bool
    shown_when: Condition | None

    @property
    def label(self) -> str:
        return str(self.ui.get("ui:title") or self.spec.get("title") or self.name)

    @property
    def hint(self) -> str:
        return str(self.ui.get("ui:help") or self.ui.get("ui:description") or "") or str(
            self.spec.get("description") or ""
        )


def posted(value: Any) -> str:
    """A JSON value as a form posts it back: booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def choices_of(spec: JSON) -> list[tuple[str, str]]:
    """(posted value, title) of a property's labelled choices (booleans: their titles when the
    form gives both, e.g. 确认进入 / 拒绝进入, else 是/否)."""
    if _type(spec) == "boolean":
        titled = [(posted(value), str(title)) for value, title in labelled_choices(spec)]
        return titled if len(titled) == 2 else list(BOOLEAN_CHOICES)
    return [(posted(value), str(title)) for value, title in labelled_choices(spec)]


def properties(schema: JSON, ui: JSON | None = None) -> list[Prop]:
    """The object's properties in `ui:order`, then those only its conditions add."""
    ui = ui or {}
    declared: dict[str, JSON] = dict(schema.get("properties") or {})
    required = set(schema.get("required") or [])
    shown: dict[str, Condition] = {}
    for condition, branch in _branches(schema, declared):
        required |= set(branch.get("required") or [])
        for name, extra in (branch.get("properties") or {}).items():
            # The property as declared wins; a branch adds what it does not say (its own fields).
            declared[name] = {**(extra or {}), **declared.get(name, {})}
        for name in [*(branch.get("required") or []), *_filled_in(branch)]:
            before = shown.get(name)
            if before is None or before[0] == condition[0]:
                values = (*before[1], *condition[1]) if before else condition[1]
                shown[name] = (condition[0], tuple(dict.fromkeys(values)))
    top = set(schema.get("required") or [])
    names = _ordered(list(declared), ui.get("ui:order"))
    props = []
    for name in names:
        prop_ui = ui.get(name) or {}
        if _always_shown(prop_ui):
            props.append(Prop(name, declared[name] or {}, prop_ui, name in top, None))
        else:
            props.append(
                Prop(name, declared[name] or {}, prop_ui, name in required, shown.get(name))
            )
    return props


def _filled_in(branch: JSON) -> list[str]:
    """The properties a branch says something of, but those it only wants left empty (a
    method not to choose when refusing): the field is not shown for that answer."""
    return [
        name
        for name, spec in (branch.get("properties") or {}).items()
        if not (isinstance(spec, Mapping) and _only_empty(spec))
    ]


def _only_empty(spec: Mapping[str, Any]) -> bool:
    return (
        spec.get("not") == {}  # not to be given at all (a yes/no that a refusal leaves out)
        or ("const" in spec and spec["const"] in (None, "", []))
        or spec.get("maxItems") == 0
        or spec.get("maxLength") == 0
        or spec.get("pattern") == r"^\s*$"
    )


def _always_shown(ui: Any) -> bool:
    options = ui.get("ui:options") if isinstance(ui, Mapping) else None
    return isinstance(options, Mapping) and options.get("alwaysShown") is True


def _branches(schema: JSON, declared: Mapping[str, JSON]) -> Iterator[tuple[Condition, JSON]]:
    """(condition, branch) of each `if`/`then`/`else`, at the top or inside `allOf`: an `if`
    on one property's `const` or `enum`; `else` holds for that property's other choices."""
    for block in [schema, *(schema.get("allOf") or [])]:
        test = block.get("if") or {}
        tested = test.get("properties") or {}
        if len(tested) != 1:
            continue
        ((name, rule),) = tested.items()
        values = (
            rule.get("enum") if "enum" in rule else [rule.get("const")] if "const" in rule else None
        )
        if not values:
            continue
        wanted = tuple(posted(v) for v in values)
        if isinstance(block.get("then"), Mapping):
            yield (name, wanted), block["then"]
        if isinstance(block.get("else"), Mapping):
            others = [v for v, _ in choices_of(declared.get(name) or {}) if v not in wanted]
            if others:
                yield (name, tuple(others)), block["else"]


def _ordered(names: list[str], order: Any) -> list[str]:
    """RJSF's `ui:order`: listed names first in that order, the rest where `*` stands (else
    after them); names the schema does not have are ignored."""
    if not isinstance(order, list):
        return names
    listed = [name for name in order if name in names]
    rest = [name for name in names if name not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    before = [n for n in order[:star] if n in names]
    return before + rest + [n for n in order[star + 1 :] if n in names]


def _type(spec: JSON) -> str:
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in spec:
        return "object"
    return str(kind or "string")


def _items(spec: JSON) -> JSON:
    items = spec.get("items")
    return items if isinstance(items, Mapping) else {}


def _named(prefix: str, condition: Condition | None) -> Condition | None:
    return (prefix + condition[0], condition[1]) if condition else None


# --- the fields to draw ---------------------------------------------------------------------


def describe(
    schema: JSON,
    ui: JSON | None = None,
    values: Flat | None = None,
    errors: Mapping[str, list[str]] | None = None,
    prefix: str = "",
    hidden: Collection[str] = (),
    omit: Collection[str] = (),
    choices: Choices | None = None,
) -> list[FieldView]:
    """The schema's fields with current values (dotted names) and the errors beside them.

    `hidden` fields are sent as they are (fixed by the page); `omit` fields are not drawn;
    `choices` are the options of fields whose codes the schema cannot list."""
    values, errors, choices = values or {}, errors or {}, choices or {}
    views = []
    for prop in properties(schema, ui):
        if prop.name in omit:
            continue
        dotted = prefix + prop.name
        view = FieldView(
            name=dotted,
            label=prop.label,
            kind="text",
            required=prop.required,
            hint=prop.hint,
            errors=list(errors.get(dotted, [])),
            shown_when=_named(prefix, prop.shown_when),
        )
        _draw(view, prop, values, errors, hidden, choices)
        views.append(view)
    return views


def _draw(
    view: FieldView,
    prop: Prop,
    values: Flat,
    errors: Mapping[str, list[str]],
    hidden: Collection[str],
    choices: Choices,
) -> None:
    spec, widget, raw = prop.spec, prop.ui.get("ui:widget"), values.get(view.name)
    kind = _type(spec)
    if prop.name in hidden or widget == "hidden":
        view.kind, view.value = "hidden", posted(raw) if not isinstance(raw, list) else ""
    elif kind == "object":
        view.kind = "group"
        view.children = describe(spec, prop.ui, values, errors, view.name + ".", choices=choices)
    elif kind == "array":
        view.values = [str(v) for v in (raw if isinstance(raw, list) else [raw] if raw else [])]
        view.choices = list(_supplied(choices, prop) or choices_of(_items(spec)))
        if view.choices:
            view.kind = "checkboxes"
        else:
            view.kind, view.value = "lines", "\n".join(view.values)
    else:
        view.value = posted(raw)
        view.choices = list(_supplied(choices, prop) or choices_of(spec))
        if view.choices:
            many = len(view.choices) > RADIO_UP_TO or widget == "select"
            view.kind = "select" if many and widget != "radio" else "radio"
        else:
            _scalar(view, spec, kind, widget)


def _supplied(supplied: Mapping[str, Any], prop: Prop) -> Any:
    """What the page supplies for a property: by its name, else by the mark it carries."""
    mark = next((m for m in ORG_MARKS if prop.spec.get(m) is True), "")
    return supplied.get(prop.name) or supplied.get(mark)


def _scalar(view: FieldView, spec: JSON, kind: str, widget: Any) -> None:
    if kind in ("integer", "number"):
        view.kind = "number"
        view.minimum = _bound(spec.get("minimum"))
        view.maximum = _bound(spec.get("maximum"))
    elif spec.get("format") == "date" or widget == "date":
        view.kind = "date"
    else:
        longest = spec.get("maxLength")
        view.maxlength = longest if isinstance(longest, int) else None
        if widget == "textarea" or (view.maxlength or 0) >= MULTILINE_FROM:
            view.kind = "textarea"


def _bound(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def defaults(schema: JSON) -> JSON:
    """The schema's `default` values, nested as the payload is: what a new form starts with."""
    found: JSON = {}
    for prop in properties(schema):
        if _type(prop.spec) == "object":
            inner = defaults(prop.spec)
            if inner:
                found[prop.name] = inner
        elif "default" in prop.spec:
            found[prop.name] = prop.spec["default"]
    return found


# --- from a posted form to the JSON payload the use case validates ---------------------------


def payload_from(
    schema: JSON, form: MultiDict[str, str], ui: JSON | None = None, prefix: str = ""
) -> JSON:
    """What the browser sent, typed as the schema declares; the schema still judges it.

    Empty inputs are left out (a required one then reads "此项为必填项"); a field whose
    condition the posted answer does not meet is not sent (the page hides it); text that does
    not parse as a number is passed on for the schema to refuse.
    """
    payload: JSON = {}
    for prop in properties(schema, ui):
        key = prefix + prop.name
        gate = _named(prefix, prop.shown_when)
        if gate and form.get(gate[0], "") not in gate[1]:
            continue
        kind = _type(prop.spec)
        if kind == "object":
            inner = payload_from(prop.spec, form, prop.ui, key + ".")
            if inner or prop.required:
                payload[prop.name] = inner
        elif kind == "array":
            items = _posted_items(prop.spec, form.getlist(key))
            if items:
                payload[prop.name] = items
        else:
            raw = form.get(key, "")
            if raw == "":
                continue
            payload[prop.name] = typed(prop.spec, raw)
    return payload


def _posted_items(spec: JSON, posted_texts: list[str]) -> list[Any]:
    items = _items(spec)
    if choices_of(items):
        return [typed(items, text) for text in posted_texts if text.strip()]
    lines = [line.strip() for text in posted_texts for line in text.splitlines()]
    return [typed(items, line) for line in lines if line]


def typed(spec: JSON, raw: str) -> Any:
    """A posted text as the JSON value the schema expects (a choice's own value and type)."""
    for value, _ in labelled_choices(spec) if _type(spec) != "boolean" else []:
        if posted(value) == raw:
            return value
    kind = _type(spec)
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in ("integer", "number"):
        for parse in (int, float) if kind == "number" else (int,):
            try:
                return parse(raw.strip())
            except ValueError:
                continue
    return raw


# --- submitted values, to read --------------------------------------------------------------


def read_only(
    schema: JSON,
    values: Mapping[str, Any],
    ui: JSON | None = None,
    skip: Collection[str] = (),
    names: Mapping[str, Mapping[str, str]] | None = None,
) -> list[tuple[str, str]]:
    """Stored values as (label, text) rows in the form's order; nested groups flattened.
    `names` name the codes the schema cannot list (townships), by property name."""
    rows: list[tuple[str, str]] = []
    names = names or {}
    for prop in properties(schema, ui):
        value = values.get(prop.name)
        if prop.name in skip or value in (None, "", [], {}):
            continue
        if _type(prop.spec) == "object" and isinstance(value, Mapping):
            rows += read_only(prop.spec, value, prop.ui, skip, names)
        else:
            rows.append((prop.label, shown(prop.spec, value, _supplied(names, prop))))
    return rows


def shown(spec: JSON, value: Any, names: Mapping[str, str] | None = None) -> str:
    """One stored value as a person reads it: a choice by its title (or the page's name for
    it), 是/否, a list joined."""
    if isinstance(value, list):
        items = _items(spec)
        texts = [shown(items, item, names) for item in value]
        return ("、" if choices_of(items) or names else "；").join(texts) or "无"
    titles = {**dict(choices_of(spec)), **(names or {})}
    if posted(value) in titles:
        return titles[posted(value)]
    if isinstance(value, Mapping):
        return "；".join(f"{label}：{text}" for label, text in read_only(spec, value))
    if (spec or {}).get("format") == "date" and isinstance(value, str):
        return _iso_date_written(value)
    return posted(value)


def _iso_date_written(value: str) -> str:
    """An ISO date as officials write it (2026年12月21日); anything else as it is."""
    try:
        return written_date(date.fromisoformat(value))
    except ValueError:
        return value
