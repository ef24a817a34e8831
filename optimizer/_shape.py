"""The shape of the JSON format, derived from ``optimizer.model``: reading, writing and the schema.

The JSON mirrors the model's frozen dataclasses one to one (same key names, same nesting), so
the model is the one description of the format and this module turns it into code:

* :func:`read` validates a JSON document against a dataclass (types, ranges, required and
  unknown keys, distinct set entries) with pydantic over the dataclasses themselves, and
  builds the instance; the first fault raises a ``FormatError`` with the JSON path and a
  message in the format's own words (pydantic's are rephrased: the paths and messages are
  what users of the CLI and the API see);
* :func:`to_json` writes an instance as JSON values, leaving out fields at their default and
  sorting sets and maps so that output is deterministic;
* :func:`json_schema` is the JSON Schema (draft 2020-12) of a dataclass, with the field
  docstrings of ``optimizer/model.py`` as descriptions.

Reading is *strict*: ``480.0``, ``"480"`` and ``true`` are not minutes (a float usually means
someone computed times in hours somewhere).  ``null`` is accepted only where the model's type
admits ``None``.  Relations between values (ids that must exist, windows in order) are not a
matter of shape: ``optimizer._validation`` checks them.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import math
import re
import textwrap
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, is_dataclass
from enum import Enum
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, FailFast, TypeAdapter, ValidationError, create_model
from pydantic_core import ErrorDetails

from optimizer._validation import FormatError, describe, item_path, key_path, loc_path

_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, use_attribute_docstrings=True)
"""Applies to the model's dataclasses through the wrapper model (pydantic passes the config of a
model on to the stdlib dataclasses inside it), so ``optimizer.model`` needs no pydantic."""

_Loc = tuple[str | int, ...]


# ============================================================================ types


def _strip(tp: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` as ``X``: the type a JSON value is read as."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


@cache
def field_types(cls: type) -> dict[str, Any]:
    """Field name -> type (with its ``Annotated`` ranges) of a dataclass of the model."""
    hints = get_type_hints(cls, include_extras=True)
    return {f.name: hints[f.name] for f in fields(cls)}


@cache
def defaults(cls: type) -> dict[str, Any]:
    """Field name -> default value of a dataclass (fields without a default are absent)."""
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out


def _is_mapping(tp: Any) -> bool:
    origin = get_origin(tp)
    return origin is not None and isinstance(origin, type) and issubclass(origin, Mapping)


def _sequence_item(tp: Any, index: int) -> Any:
    """The type of item ``index`` of a tuple, set or list type."""
    args = get_args(tp)
    if get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args[index] if 0 <= index < len(args) else None
    return args[0] if args else None


def _fixed_length(tp: Any) -> int | None:
    """The length of a fixed tuple type (``tuple[int, int]``), else None."""
    args = get_args(tp)
    if get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return len(args)
    return None


def _type_at(root: type, loc: _Loc) -> Any:
    """The model type of the value at ``loc`` in a document of ``root`` (None if unknown).

    A trailing ``(key, "[key]")`` (pydantic's location of a mapping key) gives the key type.
    """
    if loc and loc[-1] == "[key]":
        mapping = _type_at(root, loc[:-2])
        return _strip(get_args(mapping)[0]) if _is_mapping(mapping) else None
    tp: Any = root
    for step in loc:
        tp = _strip(tp)
        if is_dataclass(tp) and isinstance(step, str):
            tp = field_types(tp).get(step)  # type: ignore[arg-type]
        elif _is_mapping(tp):
            tp = get_args(tp)[1]
        elif get_origin(tp) in (tuple, frozenset, set, list) and isinstance(step, int):
            tp = _sequence_item(tp, step)
        else:
            return None
        if tp is None:
            return None
    return _strip(tp)


def _words(name: str) -> str:
    """``WorkerKind`` -> ``worker kind``: an enum's name as it reads in a message."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


# ========================================================================== reading


@cache
def _document_model(cls: type) -> type[BaseModel]:
    return create_model(f"{cls.__name__}Document", __config__=_CONFIG, document=(cls, ...))


def read(cls: type, doc: Mapping[str, Any], error: type[FormatError]) -> Any:
    """The ``cls`` instance a JSON object describes; the first fault raises ``error``.

    ``doc`` holds JSON values (as ``json.load`` makes them); it is validated as JSON text, in
    which pydantic's strict mode reads arrays as tuples and sets and strings as enum members.
    """
    _matrix_rows(cls, doc, (), error, cls)
    try:
        text = json.dumps({"document": doc}, ensure_ascii=False)
    except (TypeError, ValueError) as e:  # a dict built in Python with a value JSON cannot hold
        raise error("", f"not a JSON document: {e}") from None
    try:
        value = _document_model(cls).model_validate_json(text).document  # type: ignore[attr-defined]
    except ValidationError as e:
        path, message = _rephrase(cls, _first(e.errors(include_url=False)))
        raise error(path, message) from None
    _distinct_set_entries(cls, doc, (), error)
    return value


_UNKNOWN_KEY = ("unexpected_keyword_argument", "extra_forbidden")


def _first(errors: list[ErrorDetails]) -> ErrorDetails:
    """The error to report: the first, except that a misspelt key beats the key it misses.

    pydantic reports unknown keys after the fields of their object, so a renamed key
    (``"windwos"``) would be reported as ``windows`` missing; the unknown key, with its
    "did you mean", says what to fix.
    """
    first = errors[0]
    if first["type"] == "missing":
        for other in errors:
            if other["type"] in _UNKNOWN_KEY and other["loc"][:-1] == first["loc"][:-1]:
                return other
    return first


def _number(x: Any) -> str:
    return repr(int(x)) if isinstance(x, float) and x.is_integer() else repr(x)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _rephrase(root: type, err: ErrorDetails) -> tuple[str, str]:
    """The JSON path and the format's message for a pydantic error."""
    loc: _Loc = tuple(err["loc"][1:])  # without the wrapper's "document"
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    is_key = bool(loc) and loc[-1] == "[key]"
    at = loc[:-1] if is_key else loc
    path = loc_path(at)
    tp = _type_at(root, loc)

    if kind == "missing":
        parent = _type_at(root, at[:-1])
        length = _fixed_length(parent)
        if isinstance(at[-1], int) and length is not None:
            return loc_path(at[:-1]), f"must be an array of {length} items, got {len(value)}"
        return path, f"missing required key {at[-1]!r}"
    if kind in _UNKNOWN_KEY:
        parent = _type_at(root, at[:-1])
        keys = list(field_types(parent)) if isinstance(parent, type) and is_dataclass(parent) else []
        close = difflib.get_close_matches(str(at[-1]), keys, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return path, f"unknown key {at[-1]!r}{hint}"
    if isinstance(tp, type) and issubclass(tp, Enum) and kind in ("enum", "string_type"):
        what = _words(tp.__name__)
        if not isinstance(value, str):
            return path, f"{what} must be a string, got {describe(value)}"
        allowed = ", ".join(repr(m.value) for m in tp)
        return path, f"unknown {what} {value!r} (expected one of {allowed})"
    if is_key and kind.startswith("int_"):
        return path, f"key must be an integer written as a string, got {value!r}"
    if kind.startswith("int_"):
        return path, f"must be an integer, got {describe(value)}"
    if kind == "finite_number":
        return path, f"must be a finite number, got {value!r}"
    if kind.startswith("float_"):
        return path, f"must be a number, got {describe(value)}"
    if kind.startswith("string_") and kind != "string_too_short":
        return path, f"must be a string, got {describe(value)}"
    if kind == "string_too_short":
        return path, "must not be empty"
    if kind.startswith("bool_"):
        return path, f"must be true or false, got {describe(value)}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        if kind == "greater_than_equal" and bound == 0:
            return path, f"must not be negative, got {_number(value)}"
        word = "at least" if kind == "greater_than_equal" else "more than"
        return path, f"must be {word} {_number(bound)}, got {_number(value)}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "less than"
        return path, f"must be {word} {_number(bound)}, got {_number(value)}"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        if ctx.get("field_type") == "Dictionary":
            return path, f"must have at least {n} {'entry' if n == 1 else 'entries'}"
        return path, f"must have at least {_plural(n, 'item')}"
    if kind == "too_long":
        length = _fixed_length(tp)
        if length is not None:
            return path, f"must be an array of {length} items, got {ctx.get('actual_length')}"
        return path, f"must have at most {_plural(ctx.get('max_length', 0), 'item')}"
    if kind in ("dict_type", "dataclass_type", "dataclass_exact_type", "model_type", "mapping_type"):
        return path, f"must be an object, got {describe(value)}"
    if kind in ("tuple_type", "list_type", "set_type", "frozen_set_type", "iterable_type"):
        return path, f"must be an array, got {describe(value)}"
    return path, err["msg"]


_SCALARS = (int, float, str, bool)


def _is_scalar_array(tp: Any) -> bool:
    tp = _strip(tp)
    return get_origin(tp) in (tuple, list) and _fixed_length(tp) is None and _strip(get_args(tp)[0]) in _SCALARS


@cache
def _holds_matrices(tp: Any) -> bool:
    """Whether values of ``tp`` can contain an array of arrays of numbers (a matrix)."""
    tp = _strip(tp)
    if get_origin(tp) in (tuple, list) and _fixed_length(tp) is None and _is_scalar_array(get_args(tp)[0]):
        return True
    if is_dataclass(tp):
        return any(_holds_matrices(t) for t in field_types(tp).values())  # type: ignore[arg-type]
    return any(_holds_matrices(a) for a in get_args(tp) if a is not Ellipsis)


@cache
def _row_adapter(item: Any) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[list[item], FailFast()], config=_ROW_CONFIG)


_ROW_CONFIG = ConfigDict(strict=True, allow_inf_nan=False)


def _matrix_rows(tp: Any, value: Any, loc: _Loc, error: type[FormatError], root: type) -> None:
    """Each matrix row is checked on its own first, stopping at its first fault.

    pydantic reports every fault of a document: a 2,000 x 2,000 travel-time matrix of floats
    would be four million errors (seconds and gigabytes) to report one.  A row is read by the
    same rules (its item type in the model), so the message is the same as it would be.
    """
    tp = _strip(tp)
    if not _holds_matrices(tp):
        return
    if is_dataclass(tp) and isinstance(value, Mapping):
        for name, ftp in field_types(tp).items():  # type: ignore[arg-type]
            if name in value:
                _matrix_rows(ftp, value[name], loc + (name,), error, root)
    elif _is_mapping(tp) and isinstance(value, Mapping):
        for k, v in value.items():
            _matrix_rows(get_args(tp)[1], v, loc + (k,), error, root)
    elif get_origin(tp) in (tuple, list) and isinstance(value, list):
        row_type = _strip(get_args(tp)[0])
        if not _is_scalar_array(row_type):
            for i, item in enumerate(value):
                _matrix_rows(row_type, item, loc + (i,), error, root)
            return
        adapter = _row_adapter(get_args(row_type)[0])
        for i, row in enumerate(value):
            if isinstance(row, list):
                try:
                    adapter.validate_python(row)
                except ValidationError as e:
                    fault = e.errors(include_url=False)[0]
                    fault["loc"] = ("document", *loc, i, *fault["loc"])
                    raise error(*_rephrase(root, fault)) from None


@cache
def _holds_sets(tp: Any) -> bool:
    """Whether values of ``tp`` can contain a set somewhere (so the walk for duplicates enters them)."""
    tp = _strip(tp)
    if get_origin(tp) in (frozenset, set):
        return True
    if is_dataclass(tp):
        return any(_holds_sets(t) for t in field_types(tp).values())  # type: ignore[arg-type]
    return any(_holds_sets(a) for a in get_args(tp) if a is not Ellipsis)


def _distinct_set_entries(tp: Any, value: Any, loc: _Loc, error: type[FormatError]) -> None:
    """Sets are written as arrays of distinct values: a repeated entry is likely a typo.

    Runs on the raw document once its shape is known to be right.
    """
    tp = _strip(tp)
    if value is None or not _holds_sets(tp):
        return
    origin = get_origin(tp)
    if origin in (frozenset, set):
        seen = set()
        for i, item in enumerate(value):
            if item in seen:
                raise error(loc_path(loc + (i,)), f"duplicate entry {item!r}")
            seen.add(item)
    elif is_dataclass(tp):
        for name, ftp in field_types(tp).items():  # type: ignore[arg-type]
            if name in value:
                _distinct_set_entries(ftp, value[name], loc + (name,), error)
    elif _is_mapping(tp):
        for k, v in value.items():
            _distinct_set_entries(get_args(tp)[1], v, loc + (k,), error)
    elif origin in (tuple, list):
        for i, item in enumerate(value):
            _distinct_set_entries(_sequence_item(tp, i), item, loc + (i,), error)


# ========================================================================== writing


def to_json(obj: Any) -> dict[str, Any]:
    """The JSON object for dataclass instance ``obj``: fields at their default are left out.

    The decision to omit is made on the Python value (an empty skill set is omitted however it
    was spelled); sets become sorted arrays, maps are sorted by key, enums are written as their
    values and ``Kpis.placed_by_priority``'s integer keys as strings.  Free-form values
    (``Unassigned.details``) are written as they are; tuples in them become arrays.  A value
    JSON cannot hold (NaN, a set in free-form details) raises ``ValueError``/``TypeError``
    naming its path.
    """
    return _encode(type(obj), obj, "")


def _encode(tp: Any, value: Any, path: str) -> Any:
    return None if value is None else _encoder(tp)(value, path)


_Encoder = Callable[[Any, str], Any]


@cache
def _encoder(tp: Any) -> _Encoder:
    """The function writing values of model type ``tp`` as JSON values (made once per type)."""
    tp = _strip(tp)
    if is_dataclass(tp):
        return _dataclass_encoder(tp)  # type: ignore[arg-type]
    if tp is object or tp is Any:
        return _plain
    if isinstance(tp, type) and issubclass(tp, Enum):
        enum = tp
        return lambda value, path: enum(value).value
    if tp is float:
        return _finite
    if tp in (int, str, bool):
        return lambda value, path: value
    origin = get_origin(tp)
    if origin in (frozenset, set):
        item = _encoder(get_args(tp)[0])
        return lambda value, path: sorted(item(v, path) for v in value)
    if _is_mapping(tp):
        return _mapping_encoder(*(_strip(a) for a in get_args(tp)))
    if origin in (tuple, list):
        if _fixed_length(tp) is None and _strip(get_args(tp)[0]) in (int, str, bool):
            return lambda value, path: list(value)  # matrix rows, id lists: nothing to convert per item
        items = [_encoder(a) for a in get_args(tp) if a is not Ellipsis]
        if _fixed_length(tp) is None:
            return lambda value, path: [_or_none(items[0], v, item_path(path, i)) for i, v in enumerate(value)]
        return lambda value, path: [_or_none(e, v, item_path(path, i))
                                    for i, (e, v) in enumerate(zip(items, value, strict=True))]
    raise TypeError(f"no JSON form for the model type {tp!r}")


def _or_none(encode: _Encoder, value: Any, path: str) -> Any:
    return None if value is None else encode(value, path)


def _dataclass_encoder(cls: type) -> _Encoder:
    plan = [(name, _encoder(ftp), name in defaults(cls), defaults(cls).get(name))
            for name, ftp in field_types(cls).items()]

    def encode(value: Any, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, encode_field, has_default, default in plan:
            v = getattr(value, name)
            if has_default and v == default:
                continue
            out[name] = _or_none(encode_field, v, key_path(path, name))
        return out

    return encode


def _mapping_encoder(key_tp: Any, value_tp: Any) -> _Encoder:
    if value_tp is object or value_tp is Any:
        return _plain  # free-form: written as given, in its own order
    encode_key, encode_value = _encoder(key_tp), _encoder(value_tp)

    def encode(value: Any, path: str) -> dict[str, Any]:
        # Sorted by key (integer keys as numbers, so "10" follows "9"), for deterministic output.
        keyed = sorted((k if key_tp is int else encode_key(k, path), v) for k, v in value.items())
        return {str(k): _or_none(encode_value, v, key_path(path, str(k))) for k, v in keyed}

    return encode


def _finite(value: float, path: str) -> float:
    if isinstance(value, float) and not math.isfinite(value):
        # json.dump would write NaN, which is not JSON and which strict readers reject.
        raise ValueError(f"{path}: {value!r} cannot be written as JSON")
    return value


def _plain(value: Any, path: str) -> Any:
    """A free-form value as JSON values, or an error naming its path (not json's "Object of type X")."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _finite(value, path)
    if isinstance(value, Enum):
        return _plain(value.value, path)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{path}: JSON object keys must be strings, got {k!r}")
            out[k] = _plain(v, key_path(path, k))
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, item_path(path, i)) for i, v in enumerate(value)]
    raise TypeError(f"{path}: {type(value).__name__} cannot be written as JSON")


# =========================================================================== schema


def json_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema of a document of ``cls``: the root object, and ``$defs`` for the rest.

    pydantic's schema of the dataclasses, completed and tidied: every optional key states its
    default (also those made by a factory), integer map keys are described as strings of
    digits, each enum's description gives the meaning of each value (the docstrings under its
    members), there are no generated titles, and descriptions are plain text (docstring line
    breaks joined, ``rst`` literals as Markdown code).
    """
    raw = _document_model(cls).model_json_schema()
    definitions = dict(raw.get("$defs", {}))
    named = _named_types(cls)
    for name, node in definitions.items():
        tp = named[name]
        if isinstance(tp, type) and issubclass(tp, Enum):
            _describe_members(node, tp)
        elif is_dataclass(tp):
            _complete_fields(node, tp)  # type: ignore[arg-type]
    root = definitions.pop(cls.__name__)
    out = _tidy(root)
    out["$defs"] = {name: _tidy(node) for name, node in sorted(definitions.items())}
    return out


def _named_types(root: type) -> dict[str, type]:
    """Class name -> class, for every dataclass and enum a document of ``root`` can contain."""
    found: dict[str, type] = {}

    def walk(tp: Any) -> None:
        tp = _strip(tp)
        if isinstance(tp, type) and (issubclass(tp, Enum) or is_dataclass(tp)):
            if found.setdefault(tp.__name__, tp) is not tp:
                raise TypeError(f"two model types are called {tp.__name__}; the schema needs distinct names")
            if is_dataclass(tp):
                for t in field_types(tp).values():
                    walk(t)
        else:
            for a in get_args(tp):
                if a is not Ellipsis:
                    walk(a)

    walk(root)
    return found


def _complete_fields(node: dict[str, Any], cls: type) -> None:
    props = node.get("properties", {})
    for name, ftp in field_types(cls).items():
        prop = props[name]
        if name in defaults(cls) and "default" not in prop:
            prop["default"] = _encode(ftp, defaults(cls)[name], name)
        tp = _strip(ftp)
        if _is_mapping(tp) and _strip(get_args(tp)[0]) is int and prop.get("type") == "object":
            prop["propertyNames"] = {"pattern": "^(0|-?[1-9][0-9]*)$"}


def member_docs(cls: type[Enum]) -> dict[str, str]:
    """Enum value -> the docstring written under its member in the source (empty if none)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {m.value: "" for m in cls}
    body = ast.parse(textwrap.dedent(source)).body[0]
    docs: dict[str, str] = {}
    statements = getattr(body, "body", [])
    for stmt, following in zip(statements, statements[1:] + [None], strict=True):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str) and name in cls.__members__):
                docs[cls[name].value] = inspect.cleandoc(following.value.value)
    return {m.value: docs.get(m.value, "") for m in cls}


def _describe_members(node: dict[str, Any], cls: type[Enum]) -> None:
    docs = member_docs(cls)
    if any(docs.values()):
        meanings = "; ".join(f"``{value}``: {doc.rstrip('.')}" if doc else f"``{value}``"
                             for value, doc in docs.items())
        node["description"] = f"{node.get('description', '').rstrip()} Values: {meanings}.".strip()


def plain_text(doc: str) -> str:
    """A docstring as one paragraph per blank-line-separated block, ``literals`` as `code`."""
    paragraphs = re.split(r"\n\s*\n", doc.strip())
    text = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    return text.replace("``", "`")


_SUBSCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("items", "additionalProperties", "propertyNames", "not", "contains")


_KEY_ORDER = ("$schema", "title", "description", "type", "const", "enum", "required", "additionalProperties",
              "propertyNames", "properties", "items", "prefixItems", "anyOf", "default")


def _tidy(node: Any) -> Any:
    """Without pydantic's titles, descriptions as plain text, keys in a reading order."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    rank = {k: i for i, k in enumerate(_KEY_ORDER)}
    for key, value in sorted(node.items(), key=lambda kv: rank.get(kv[0], len(rank))):
        if key == "title":
            continue
        if key == "description":
            out[key] = plain_text(value)
        elif key in _SUBSCHEMA_MAPS:
            out[key] = {k: _tidy(v) for k, v in value.items()}
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_tidy(v) for v in value]
        elif key in _SUBSCHEMAS:
            out[key] = _tidy(value)
        else:
            out[key] = value
    return out
