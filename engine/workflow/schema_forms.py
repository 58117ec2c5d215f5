"""Task forms as data: a package's JSON Schema files, validated on the server with zh-CN messages.

A procedure package names one JSON Schema (Draft 2020-12) per user task; `build_form` vets it
when the package is deployed and `SchemaForm.validate` answers exactly like `formkit.Form`:
the same errors, the same error shape, the same strictness as the marshmallow forms
(`engine.workflow.fields`). What the schema alone would allow but our forms never do:

- Objects are closed. An object value (the form, a property, a list item, a `$defs` entry)
  saying `"type": "object"` with neither `additionalProperties` nor `unevaluatedProperties`
  counts as `"additionalProperties": false`: it accepts the properties it declares, and those
  its `then`/`else`/`allOf`/`anyOf`/`oneOf` branches declare (a field shown only when returning).
  Such a branch field is validated where its branch applies and accepted as sent where it does
  not; a name only an `if` or a `required` mentions is refused when the form is deployed.
- Every string obeys `fields.char_problem`: single-line unless the property's `maxLength` is
  at least `fields.MULTILINE_FROM` or its uiSchema widget is `textarea`; multi-line text has
  "\\r\\n" stored as "\\n", and lengths are measured after that, untrimmed, as `fields.text` does.
- `required` means "present and, if text, not only whitespace" (`fields.not_blank`), in
  conditional branches too, so "comment required when returning" is one `then`.
- Integers are JSON integers (not 1.0, not true); numbers are finite.

Messages can be set per property or branch: `"x-messages": {"<keyword>": "<zh-CN message>"}`.
"""

from __future__ import annotations

import copy
import json
import keyword
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError, best_match, relevance
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from engine.errors import InvalidDiagram, InvalidInput
from engine.workflow import fields as f
from engine.workflow.formkit import Check
from engine.workflow.operations import DATA_PATH, TEMPLATE_HOLE

MAX_SCHEMA_BYTES = 256 * 1024
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_DATA_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
Path = tuple[str | int, ...]

# ---------------------------------------------------------------------------------------------
# Named checks: cross-checks a domain registers in code and a package names in "x-checks".

_CHECKS: dict[str, Check] = {}


def register_check(name: str, check: Check) -> None:
    """Offer `check` to packages as `name`; registering the same function again is harmless."""
    taken = _CHECKS.get(name)
    if taken is not None and taken is not check:
        raise ValueError(f"check {name!r} is already registered to {taken!r}")
    _CHECKS[name] = check


def known_checks() -> frozenset[str]:
    return frozenset(_CHECKS)


# ---------------------------------------------------------------------------------------------
# The validator: Draft 2020-12 with our integer, number, required and format rules.


def _is_integer(_: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(_: Any, instance: Any) -> bool:
    # NaN and infinities arrive through Python's json module but have no place in stored JSON.
    return _is_integer(_, instance) or (isinstance(instance, float) and math.isfinite(instance))


def _required(validator: Any, required: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """Draft 2020-12 `required`, plus fields.not_blank: one error per field, under its name."""
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if name not in instance:
            yield ValidationError(_MISSING, path=(name,))
        elif isinstance(instance[name], str) and not instance[name].strip():
            yield ValidationError(_BLANK, path=(name,))


_MISSING = "此项为必填项"
_BLANK = "不能只填空白"

_Validator = validators.extend(
    Draft202012Validator,
    validators={"required": _required},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)

_FORMATS = FormatChecker(["date", "email"])
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(instance: object) -> bool:
    # jsonschema checks date-time only with the rfc3339-validator extra; RFC 3339 is this shape.
    if not isinstance(instance, str):
        return True
    return bool(_DATE_TIME.fullmatch(instance)) and bool(datetime.fromisoformat(instance))


_FORMAT_MESSAGES = {
    "date": "应为日期，格式 YYYY-MM-DD",
    "date-time": "应为 ISO 8601 日期时间",
    "email": "应为电子邮件地址",
}

# ---------------------------------------------------------------------------------------------
# Labels and messages.


_EMPTY_CHOICE = {"type": "null"}


def labelled_choices(prop: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(value, label) of a choice property: `oneOf`/`anyOf` of `{"const", "title"}` (beside
    which a `{"type": "null"}` branch lets the choice be left empty), else `enum` (each value
    its own label); [] when the property is not a choice."""
    for combinator in ("oneOf", "anyOf"):
        branches = prop.get(combinator)
        if isinstance(branches, list) and branches:
            labelled = [b for b in branches if isinstance(b, Mapping) and "const" in b]
            if labelled and all(b in labelled or b == _EMPTY_CHOICE for b in branches):
                return [(b["const"], str(b.get("title", b["const"]))) for b in labelled]
    enum = prop.get("enum")
    return [(value, str(value)) for value in enum] if isinstance(enum, list) else []


_TYPE_MESSAGES = {
    "string": "应为文本",
    "integer": "应为整数",
    "number": "应为数字",
    "boolean": "应为 true 或 false",
    "array": "应为列表",
    "object": "应为 JSON 对象",
    "null": "应为空",
}


def _type_message(error: ValidationError) -> str:
    if error.instance is None:
        return "此项不能为空"
    wanted = error.validator_value
    wanted = [wanted] if isinstance(wanted, str) else [t for t in wanted if t != "null"]
    return _TYPE_MESSAGES.get(wanted[0] if wanted else "null", "取值无效")


def _length_message(error: ValidationError) -> str:
    low_key, high_key = (
        ("minItems", "maxItems") if "Items" in error.validator else ("minLength", "maxLength")
    )
    low, high = error.schema.get(low_key), error.schema.get(high_key)
    if low and high is not None:
        return f"长度应在 {low} 到 {high} 之间"
    return f"长度不能超过 {high}" if error.validator == high_key else f"长度不能少于 {low}"


def _range_message(error: ValidationError) -> str:
    low, high = error.schema.get("minimum"), error.schema.get("maximum")
    if low is not None and high is not None and error.validator in ("minimum", "maximum"):
        return f"应在 {low} 到 {high} 之间"
    bound = error.validator_value
    return {
        "minimum": f"不能小于 {bound}",
        "maximum": f"不能大于 {bound}",
        "exclusiveMinimum": f"应大于 {bound}",
        "exclusiveMaximum": f"应小于 {bound}",
    }[error.validator]


def _choice_message(error: ValidationError) -> str:
    choices = labelled_choices(error.schema)
    if error.validator == "const":
        label = error.schema.get("title", json.dumps(error.validator_value, ensure_ascii=False))
        return f"应为{label}"
    if not choices:  # a oneOf whose value fits more than one branch, or none with no reason
        return "取值无效"
    return "应为以下之一：" + "、".join(label for _, label in choices)


_MESSAGES: dict[str, Callable[[ValidationError], str]] = {
    "type": _type_message,
    "required": lambda error: error.message,
    "enum": _choice_message,
    "const": _choice_message,
    "oneOf": _choice_message,
    "anyOf": _choice_message,
    "minLength": _length_message,
    "maxLength": _length_message,
    "minItems": _length_message,
    "maxItems": _length_message,
    "minimum": _range_message,
    "maximum": _range_message,
    "exclusiveMinimum": _range_message,
    "exclusiveMaximum": _range_message,
    "format": lambda error: _FORMAT_MESSAGES.get(error.validator_value, "格式不正确"),
    "pattern": lambda _: "格式不正确",
    "uniqueItems": lambda _: "不能重复",
    "multipleOf": lambda error: f"应为 {error.validator_value} 的整数倍",
    "additionalProperties": lambda _: "不允许的字段",
    "unevaluatedProperties": lambda _: "含有不允许的字段",
    "dependentRequired": lambda _: _MISSING,
}


def _relevant(error: ValidationError) -> ValidationError:
    """The sub-error of a failed oneOf/anyOf that names a field (jsonschema's best match: the
    branch whose type fits the value), unless the combinator is a labelled choice."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        if labelled_choices(error.schema):
            break
        best = best_match([error])
        error = best if best is not error else min(error.context, key=relevance)
    return error


def _extras(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return [
        name
        for name in instance
        if name not in declared and not any(re.search(p, name) for p in patterns)
    ]


def _text_problem(text: str, multiline: bool) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates such as "\ud800"
        return "不是有效的 UTF-8 文本"
    return f.char_problem(text, multiline)


def _max_length(schema: Mapping[str, Any]) -> int:
    """The longest text `schema` allows, looking into a nullable text's anyOf/oneOf."""
    branches = [schema, *schema.get("anyOf", ()), *schema.get("oneOf", ())]
    return max(b.get("maxLength", 0) for b in branches if isinstance(b, Mapping))


def _ui(ui: Any, key: str) -> Mapping[str, Any]:
    found = ui.get(key) if isinstance(ui, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _nest(problems: list[tuple[Path, str]]) -> dict[str, Any]:
    """marshmallow's error shape: field → messages, nested objects and list indices as dicts,
    problems of an object itself under "_schema"."""
    tree: dict[Any, Any] = {}
    for path, message in problems:
        node = tree
        *parents, last = path or ("_schema",)
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {"_schema": child} if child else {}
            node = child
        messages = node.setdefault(last, [])
        if isinstance(messages, dict):
            messages = messages.setdefault("_schema", [])
        if message not in messages:
            messages.append(message)
    return tree


# ---------------------------------------------------------------------------------------------
# A built form.


@dataclass(frozen=True)
class _Rules:
    """The closed schema a form enforces, its validator, and where each value sits in it."""

    root: dict[str, Any]
    ui: Mapping[str, Any]
    validator: Any
    resolver: Any  # referencing's, for the $ref of a declared property

    def resolve(self, schema: Any) -> Mapping[str, Any] | None:
        for _ in range(32):  # a $ref to a $ref …, bounded
            if not isinstance(schema, Mapping) or "$ref" not in schema:
                break
            target = self.resolver.lookup(schema["$ref"]).contents
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema if isinstance(schema, Mapping) else None

    def child(self, schema: Any, key: str | int) -> Mapping[str, Any] | None:
        """The declared schema of `key` (a property name or a list index) inside `schema`."""
        schema = self.resolve(schema)
        if schema is None:
            return None
        if isinstance(key, int):
            prefix = schema.get("prefixItems", [])
            return self.resolve(prefix[key] if key < len(prefix) else schema.get("items"))
        found = schema.get("properties", {}).get(key)
        if isinstance(found, Mapping) and _BRANCH in found:
            found = found[_BRANCH]
        for pattern, sub in schema.get("patternProperties", {}).items():
            if found is None and re.search(pattern, key):
                found = sub
        return self.resolve(found if found is not None else schema.get("additionalProperties"))

    def at(self, path: Path) -> Mapping[str, Any]:
        schema: Mapping[str, Any] | None = self.root
        for key in path:
            schema = self.child(schema, key)
        return schema or {}

    def clean(self, value: Any, schema: Any, ui: Any, path: Path, problems: list) -> Any:
        """A copy of `value` with multi-line text normalised; problems of any text noted."""
        if isinstance(value, str):
            multiline = _max_length(self.resolve(schema) or {}) >= f.MULTILINE_FROM or (
                isinstance(ui, Mapping) and ui.get("ui:widget") == "textarea"
            )
            problem = _text_problem(value, multiline)
            if problem is not None:
                problems.append((path, problem))
            return f._LINE_BREAKS.sub("\n", value) if multiline else value
        if isinstance(value, Mapping):
            return {key: self._clean_item(value, key, schema, ui, path, problems) for key in value}
        if isinstance(value, list):
            return [
                self.clean(item, self.child(schema, i), _ui(ui, "items"), (*path, i), problems)
                for i, item in enumerate(value)
            ]
        return value

    def _clean_item(
        self, value: Mapping, key: Any, schema: Any, ui: Any, path: Path, problems: list
    ) -> Any:
        if isinstance(key, str) and (problem := _text_problem(key, False)) is not None:
            problems.append(((*path, key), problem))
        child = self.child(schema, key)
        if child is None and self._closed(schema):
            return value[key]  # a field the form does not have is refused whole, not looked into
        return self.clean(value[key], child, _ui(ui, key), (*path, key), problems)

    def _closed(self, schema: Any) -> bool:
        resolved = self.resolve(schema)
        return resolved is not None and resolved.get("additionalProperties") is False

    def with_defaults(self, value: Any, schema: Any) -> Any:
        """`value` with each absent property's `default`, at every depth."""
        schema = self.resolve(schema)
        if schema is None:
            return value
        if isinstance(value, dict):
            for name, prop in schema.get("properties", {}).items():
                prop = self.resolve(prop) or {}
                if name not in value and "default" in prop:
                    value[name] = copy.deepcopy(prop["default"])
            for key in value:
                value[key] = self.with_defaults(value[key], self.child(schema, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                value[i] = self.with_defaults(item, self.child(schema, i))
        return value

    def problems(self, error: ValidationError) -> Iterator[tuple[Path, str]]:
        """Where one schema violation goes in the error tree, and its zh-CN message."""
        error = _relevant(error)
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False:
            for extra in _extras(error.instance, error.schema):
                yield (*path, extra), "不允许的字段"
        elif error.validator == "dependentRequired":
            for name, needs in error.validator_value.items():
                for need in needs if name in error.instance else ():
                    if need not in error.instance:
                        yield (*path, need), self.message(error, (*path, need))
        elif (
            error.validator == "type"
            and _says_object(error.validator_value)
            and error.instance is not None
            and path
        ):
            yield (*path, "_schema"), self.message(error, path)  # as marshmallow's Nested does
        else:
            yield path, self.message(error, path)

    def message(self, error: ValidationError, path: Path) -> str:
        if error.validator == "type" and error.instance is None:
            return _type_message(error)  # "此项不能为空", whatever the wrong type's message is
        for schema in (error.schema, self.at(path)):
            custom = schema.get("x-messages", {}) if isinstance(schema, Mapping) else {}
            if error.validator in custom:
                return custom[error.validator]
        compose = _MESSAGES.get(str(error.validator))
        return compose(error) if compose else "取值无效"


def _says_object(declared: Any) -> bool:
    return declared == "object" or (isinstance(declared, list) and "object" in declared)


@dataclass(frozen=True)
class SchemaForm:
    """One task's form from a package: its JSON Schema, uiSchema, data key and named checks."""

    name: str
    json_schema: dict[str, Any]
    ui_schema: dict[str, Any] | None
    data_key: str | None
    checks: tuple[str, ...]
    title: str
    _rules: _Rules = field(repr=False, compare=False)

    def title_for(self, values: Mapping[str, Any]) -> str | None:
        """The title `x-title` makes of a submission's values, or None without a template."""
        template = self.json_schema.get("x-title")
        if not isinstance(template, str):
            return None
        title = TEMPLATE_HOLE.sub(lambda hole: _title_value(values, hole.group(1)), template)
        return title.strip()[:TITLE_MAX] or None

    def validate(self, payload: Any, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate client input; return JSON-ready values with defaults applied.

        `context` feeds the form's named checks, run only once the form itself is valid.
        """
        if not isinstance(payload, Mapping):
            raise InvalidInput("表单应为 JSON 对象", {"_schema": ["应为 JSON 对象"]})
        rules = self._rules
        problems: list[tuple[Path, str]] = []
        values = rules.clean(payload, rules.root, rules.ui, (), problems)
        broken = {path for path, _ in problems}  # a text's own problem is all marshmallow says
        errors = list(rules.validator.iter_errors(values))
        # A value of the wrong type (or null) is told only that, as a marshmallow field is:
        # not also that it is none of the choices, or not the constant a branch wants.
        mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
        for error in errors:
            if error.validator != "type" and tuple(error.absolute_path) in mistyped:
                continue
            problems.extend(p for p in rules.problems(error) if p[0] not in broken)
        if problems:
            # A list or object whose parts are wrong is told about its parts, as marshmallow's
            # List and Nested do (and one error tree never mixes list indices with names).
            inner = {path[:i] for path, _ in problems for i in range(len(path))}
            problems = [(path, message) for path, message in problems if path not in inner]
            raise InvalidInput("表单填写有误", _nest(problems))
        values = rules.with_defaults(values, rules.root)
        found: dict[str, Any] = {}
        for name in self.checks:
            for key, messages in _CHECKS[name](values, context or {}).items():
                found[key] = [*found.get(key, []), *messages] if key in found else messages
        if found:
            raise InvalidInput("表单填写有误", found)
        return values

    def data_for(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        return {self.data_key or key: values}


# ---------------------------------------------------------------------------------------------
# Building a form from a package's files: every refusal is an InvalidDiagram naming the file.

_ONE = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems")
_ONE += ("contains", "propertyNames", "if", "then", "else", "not")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Applied to the same value as the schema holding them: their properties are that object's.
_IN_PLACE = {"allOf", "anyOf", "oneOf", "if", "then", "else", "not", "dependentSchemas"}
_DECLARING = _IN_PLACE - {"if", "not"}
_OPEN_WORDS = {"additionalProperties", "unevaluatedProperties"}
_BRANCH = "x-zhunru-declared-in-branch"
_OLD_KEYWORDS = {
    "dependencies": "dependentRequired 或 dependentSchemas",
    "additionalItems": "items",
}


def _children(schema: dict[str, Any], pointer: str) -> Iterator[tuple[str, str, dict]]:
    for word in _ONE:
        if isinstance(schema.get(word), dict):
            yield word, f"{pointer}/{word}", schema[word]
    for word in _MANY:
        for i, sub in enumerate(schema.get(word) or ()):
            if isinstance(sub, dict):
                yield word, f"{pointer}/{word}/{i}", sub
    for word in _NAMED:
        for name, sub in (schema.get(word) or {}).items():
            if isinstance(sub, dict):
                yield word, f"{pointer}/{word}/{name.replace('~', '~0').replace('/', '~1')}", sub


def _subschemas(
    schema: dict[str, Any], pointer: str = "#", owner: dict[str, Any] | None = None
) -> Iterator[tuple[str, dict, dict]]:
    """Every subschema with its JSON pointer and the object schema whose properties it speaks
    of (itself, or for an allOf/if/then… branch the schema it is a branch of). Values such as
    `default` and `enum` are data, not schemas."""
    owner = schema if owner is None else owner
    yield pointer, schema, owner
    for word, where, sub in _children(schema, pointer):
        yield from _subschemas(sub, where, owner if word in _IN_PLACE else None)


class _Refused(Exception):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise _Refused(f"键 {twice} 出现了不止一次")
    return dict(pairs)


def _load(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_SCHEMA_BYTES:
        raise _Refused(f"文件超过 {MAX_SCHEMA_BYTES // 1024} KiB")
    try:
        loaded = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_refuse_duplicates,
            parse_constant=lambda word: _refuse_constant(word),
        )
    except UnicodeDecodeError as exc:
        raise _Refused("不是 UTF-8 文本") from exc
    except json.JSONDecodeError as exc:
        raise _Refused(f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）") from exc
    if not isinstance(loaded, dict):
        raise _Refused("应为 JSON 对象")
    return loaded


def _refuse_constant(word: str) -> None:
    raise _Refused(f"JSON 中不能有 {word}")


def _ref_problems(pointer: str, sub: dict[str, Any], resolver: Any) -> Iterator[str]:
    for word in ("$ref", "$dynamicRef"):
        ref = sub.get(word)
        if ref is None:
            continue
        if not ref.startswith("#"):
            yield f"{pointer}：只能引用本文件内的定义（#…），不能引用 {ref}"
            continue
        try:
            resolver.lookup(ref)
        except Unresolvable:
            yield f"{pointer}：引用 {ref} 找不到"


def _subschema_problems(pointer: str, sub: dict[str, Any], resolver: Any) -> Iterator[str]:
    yield from _ref_problems(pointer, sub, resolver)
    if "$id" in sub:
        yield f"{pointer}：不支持 $id，表单只能是一个文件"
    if "$schema" in sub and (pointer != "#" or sub["$schema"].rstrip("#") != DIALECT):
        yield f"{pointer}：只支持 JSON Schema 2020-12（顶层 $schema 为 {DIALECT}）"
    if "format" in sub and sub["format"] not in _FORMAT_MESSAGES:
        yield f"{pointer}：不支持的格式 {sub['format']}（可用：{'、'.join(_FORMAT_MESSAGES)}）"
    messages = sub.get("x-messages", {})
    if not isinstance(messages, dict) or not all(isinstance(m, str) for m in messages.values()):
        yield f"{pointer}：x-messages 应为 关键字 → 提示文字"
    for word, instead in _OLD_KEYWORDS.items():
        if word in sub:
            yield f"{pointer}：JSON Schema 2020-12 不再有 {word}，请改用 {instead}"


def _extension_problems(schema: dict[str, Any]) -> Iterator[str]:
    checks = schema.get("x-checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        yield "x-checks 应为校验规则名称的列表"
    else:
        for name in checks:
            if name not in _CHECKS:
                yield f"未知的校验规则 {name}"
    yield from _title_problems(schema)
    key = schema.get("x-data-key")
    if key is not None and not (
        isinstance(key, str) and _DATA_KEY.fullmatch(key) and not keyword.iskeyword(key)
    ):
        yield "x-data-key 应为标识符（字母开头，仅含字母、数字和下划线，至多 64 个字符）"


# `"x-title": "借调：{person_name}（{position}）"` names an instance after its start form: each
# hole is a field of the form (a dotted path into a group, as operation parameters name data),
# read by plain lookup, never code.
TITLE_MAX = 200


def _title_problems(schema: dict[str, Any]) -> Iterator[str]:
    template = schema.get("x-title")
    if template is None:
        return
    if not isinstance(template, str) or not 0 < len(template) <= TITLE_MAX:
        yield f"x-title 应为 1 到 {TITLE_MAX} 个字的标题模板"
        return
    holes = TEMPLATE_HOLE.findall(template)
    if template.count("{") != len(holes) or template.count("}") != len(holes):
        yield "x-title 的花括号不成对"
    for hole in holes:
        if not (DATA_PATH.fullmatch(hole) and _declared_path(schema, hole.split("."))):
            yield f"x-title 中的 {{{hole}}} 不是本表单的字段"


def _declared_path(schema: Any, parts: list[str]) -> bool:
    """Whether `parts` walks declared properties of the form, group by group."""
    for part in parts:
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        if not isinstance(properties, Mapping) or part not in properties:
            return False
        schema = properties[part]
    return True


def _title_value(values: Mapping[str, Any], path: str) -> str:
    current: Any = values
    for part in path.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return "" if current is None or isinstance(current, Mapping | list) else str(current)


def _undeclared(pointer: str, sub: dict[str, Any], owner: dict[str, Any]) -> Iterator[str]:
    """Names a closed object's schema or branches use but do not declare: such a form could
    never be submitted (the name is refused as unknown) or its condition never hold."""
    if owner.get("additionalProperties") is not False or owner.get("patternProperties"):
        return
    declared = owner.get("properties", {})
    for name in dict.fromkeys([*sub.get("required", []), *sub.get("properties", {})]):
        if name not in declared:
            yield f"{pointer}：{name} 未在所属对象的 properties 中声明"


def _default_problems(pointer: str, sub: dict[str, Any], validator: Any) -> Iterator[str]:
    if "default" in sub and not validator.evolve(schema=sub).is_valid(sub["default"]):
        yield f"{pointer}：默认值不符合本项自身的要求"


def _problems(schema: dict[str, Any], rules: _Rules) -> list[str]:
    problems = [] if schema.get("type") == "object" else ["顶层的 type 应为 object"]
    for pointer, sub, _ in _subschemas(schema):
        problems.extend(_subschema_problems(pointer, sub, rules.resolver))
    if problems:  # below needs every $ref resolvable
        return problems
    for pointer, sub, owner in _subschemas(rules.root):
        problems.extend(_undeclared(pointer, sub, owner))
        problems.extend(_default_problems(pointer, sub, rules.validator))
    problems.extend(_extension_problems(schema))
    return problems


def _branch_properties(schema: dict[str, Any]) -> dict[str, Any]:
    """Properties an object's then/else/allOf/anyOf/oneOf branches declare (an `if` only reads,
    a `not` only forbids), each with its first declaration."""
    found: dict[str, Any] = {}
    for word, _, sub in _children(schema, "#"):
        if word in _DECLARING:
            for name, prop in {**_branch_properties(sub), **sub.get("properties", {})}.items():
                found.setdefault(name, prop)
    return found


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy in which each object value that does not say otherwise refuses undeclared
    properties. A property declared in a branch is known (accepted whether or not the branch
    applies, validated where it does); its placeholder tells `_Rules.child` where it lives."""
    closed = copy.deepcopy(schema)
    for _, sub, owner in _subschemas(closed):
        if sub is owner and _says_object(sub.get("type")) and not sub.keys() & _OPEN_WORDS:
            declared = sub.setdefault("properties", {})
            for name, prop in _branch_properties(sub).items():
                declared.setdefault(name, {_BRANCH: prop})
            sub["additionalProperties"] = False
    return closed


def build_form(name: str, schema: bytes, ui_schema: bytes | None = None) -> SchemaForm:
    """Vet a package's form file (and its uiSchema) and build the form it describes."""
    try:
        json_schema = _load(schema)
        ui = _load(ui_schema) if ui_schema is not None else None
        _Validator.check_schema(json_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    except _Refused as exc:
        raise InvalidDiagram(f"表单 {name} 无效", {"files": [f"{name}：{exc}"]}) from exc
    except SchemaError as exc:
        where = "/".join(["#", *(str(p) for p in exc.absolute_path)])
        problem = f"{name}：不是有效的 JSON Schema 2020-12（{where}：{exc.message}）"
        raise InvalidDiagram(f"表单 {name} 无效", {"files": [problem]}) from exc
    closed = _closed(json_schema)
    resolver = Registry().resolver_with_root(DRAFT202012.create_resource(closed))
    rules = _Rules(closed, ui or {}, _Validator(closed, format_checker=_FORMATS), resolver)
    problems = _problems(json_schema, rules)
    if problems:
        raise InvalidDiagram(f"表单 {name} 无效", {"files": [f"{name}：{p}" for p in problems]})
    return SchemaForm(
        name=name,
        json_schema=json_schema,
        ui_schema=ui,
        data_key=json_schema.get("x-data-key"),
        checks=tuple(dict.fromkeys(json_schema.get("x-checks", []))),
        title=json_schema.get("title", ""),
        _rules=rules,
    )
