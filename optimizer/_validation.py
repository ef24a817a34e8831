"""Typed reading of untrusted JSON, with errors that say *what* is wrong and *where*.

Problem files are written by people and by other programs (the dispatch layer, benchmark
converters, hand-edited test cases).  A bare ``KeyError: 'end'`` from deep inside the solver
is useless in a file of 300 visits, so everything read from JSON goes through this module:
each value is checked where it is read, and a failure names the JSON path of the offending
value (``visits[3].windows[0].end``) and what is wrong with it.

Only the first error is reported: the checks run in document order and later checks rely on
earlier ones (a location index can only be range-checked once the locations are known).
"""

from __future__ import annotations

import difflib
import math
import re
from enum import Enum
from collections.abc import Collection, Mapping
from typing import Any, NoReturn, TypeVar

E = TypeVar("E", bound=Enum)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FormatError(ValueError):
    """A JSON document does not follow its carepath format.

    ``path`` locates the offending value the way one would write it in Python or jq
    (``visits[3].windows[0].end``; empty for the document as a whole) and ``message`` says
    what is wrong with it; ``str()`` gives both as ``"path: message"``.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path or '<document>'}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling passes ``str(self)`` as the only argument; keep both fields
        # so errors survive multiprocessing (the solver may run in a worker process).
        return (type(self), (self.path, self.message))


class ProblemFormatError(FormatError):
    """A problem document (``carepath-problem/1``) is malformed or inconsistent."""


class SolutionFormatError(FormatError):
    """A solution document (``carepath-solution/1``) is malformed."""


def key_path(path: str, key: str) -> str:
    """The path of ``key`` inside the object at ``path`` (odd keys are quoted, jq-style)."""
    if _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def item_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


def describe(value: Any) -> str:
    """A short rendering of a JSON value for error messages (``'abc'``, ``480.5``, ``an array``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()
"""Default marker for keys that must be present."""

_MISSING: Any = object()


class Reader:
    """Checks JSON values for one kind of document; every failure raises ``error`` at a path."""

    def __init__(self, error: type[FormatError]) -> None:
        self.error = error

    def fail(self, path: str, message: str) -> NoReturn:
        raise self.error(path, message)

    # ------------------------------------------------------------------ scalars

    def integer(self, value: Any, path: str, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        # bool is an int in Python but ``true`` is never a sensible number of minutes, and a
        # float (even 480.0) usually means someone computed times in hours somewhere.
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be an integer, got {describe(value)}")
        self._range(value, path, minimum, maximum)
        return value

    def number(self, value: Any, path: str, *, minimum: float | None = None,
               maximum: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"must be a number, got {describe(value)}")
        if not math.isfinite(value):
            self.fail(path, f"must be a finite number, got {value!r}")
        self._range(value, path, minimum, maximum)
        return float(value)

    def _range(self, value: float, path: str, minimum: float | None, maximum: float | None) -> None:
        if minimum is not None and value < minimum:
            if minimum == 0:
                self.fail(path, f"must not be negative, got {value!r}")
            self.fail(path, f"must be at least {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            self.fail(path, f"must be at most {maximum}, got {value!r}")

    def string(self, value: Any, path: str, *, nonempty: bool = False) -> str:
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {describe(value)}")
        if nonempty and not value:
            self.fail(path, "must not be empty")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {describe(value)}")
        return value

    def enum(self, value: Any, path: str, cls: type[E], what: str) -> E:
        """An enum member from its value; ``what`` names the enum in the message ("worker kind")."""
        if not isinstance(value, str):
            self.fail(path, f"{what} must be a string, got {describe(value)}")
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in cls)
            self.fail(path, f"unknown {what} {value!r} (expected one of {allowed})")

    # ---------------------------------------------------------------- containers

    def array(self, value: Any, path: str, *, min_items: int = 0) -> list[tuple[Any, str]]:
        """The items of a JSON array, each with its path."""
        if not isinstance(value, list):
            self.fail(path, f"must be an array, got {describe(value)}")
        if len(value) < min_items:
            self.fail(path, f"must have at least {min_items} item{'s' if min_items > 1 else ''}")
        return [(item, item_path(path, i)) for i, item in enumerate(value)]

    def string_set(self, value: Any, path: str) -> frozenset[str]:
        """A set of strings written as an array; duplicates are rejected as a likely typo."""
        seen: set[str] = set()
        for item, ipath in self.array(value, path):
            s = self.string(item, ipath, nonempty=True)
            if s in seen:
                self.fail(ipath, f"duplicate entry {s!r}")
            seen.add(s)
        return frozenset(seen)

    def enum_set(self, value: Any, path: str, cls: type[E], what: str) -> frozenset[E]:
        """A set of enum members written as an array of distinct values."""
        seen: set[E] = set()
        for item, ipath in self.array(value, path):
            member = self.enum(item, ipath, cls, what)
            if member in seen:
                self.fail(ipath, f"duplicate entry {item!r}")
            seen.add(member)
        return frozenset(seen)

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        """A JSON object with free-form keys (capacities, parameters)."""
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, got {describe(value)}")
        return value

    def int_map(self, value: Any, path: str, *, minimum: int | None = None) -> dict[str, int]:
        return {
            k: self.integer(v, key_path(path, k), minimum=minimum)
            for k, v in self.mapping(value, path).items()
        }

    def json_value(self, value: Any, path: str) -> Any:
        """Any JSON value (for free-form details); rejects what json.dump would not write back."""
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return self.number(value, path)
        if isinstance(value, list):
            return [self.json_value(v, p) for v, p in self.array(value, path)]
        if isinstance(value, dict):
            return {k: self.json_value(v, key_path(path, k)) for k, v in value.items()}
        self.fail(path, f"is not a JSON value ({type(value).__name__})")

    def object(self, value: Any, path: str, allowed: Collection[str], *,
               check_unknown: bool = True) -> Obj:
        """A JSON object whose keys must all be in ``allowed``."""
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, got {describe(value)}")
        obj = Obj(self, value, path, allowed)
        if check_unknown:
            obj.reject_unknown()
        return obj


class Obj:
    """One JSON object with a fixed set of keys, read key by key with typed getters.

    Getters take a default: ``REQUIRED`` for keys that must be present; any other default
    is returned when the key is absent.  An explicit ``null`` is accepted only where the
    default is ``None``, because it then means the same as leaving the key out.
    """

    def __init__(self, reader: Reader, value: Mapping[str, Any], path: str,
                 allowed: Collection[str]) -> None:
        self.r = reader
        self.value = value
        self.at = path
        self.allowed = allowed

    def reject_unknown(self) -> None:
        for key in self.value:
            if not isinstance(key, str):  # only possible for dicts built in Python
                self.r.fail(self.at, f"keys must be strings, got {key!r}")
            if key not in self.allowed:
                close = difflib.get_close_matches(key, list(self.allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.r.fail(self.path(key), f"unknown key {key!r}{hint}")

    def path(self, key: str) -> str:
        return key_path(self.at, key)

    def _absent(self, key: str, default: Any) -> bool:
        """Whether to use ``default`` for ``key``; fails if the key is required and missing."""
        value = self.value.get(key, _MISSING)
        if value is _MISSING or (value is None and default is None):
            if default is REQUIRED:
                self.r.fail(self.path(key), f"missing required key {key!r}")
            return True
        return False

    def raw(self, key: str, default: Any = REQUIRED) -> Any:
        """The unchecked value of ``key``, or ``default``."""
        return default if self._absent(key, default) else self.value[key]

    def integer(self, key: str, default: Any = REQUIRED, *, minimum: int | None = None,
                maximum: int | None = None) -> Any:
        if self._absent(key, default):
            return default
        return self.r.integer(self.value[key], self.path(key), minimum=minimum, maximum=maximum)

    def number(self, key: str, default: Any = REQUIRED, *, minimum: float | None = None,
               maximum: float | None = None) -> Any:
        if self._absent(key, default):
            return default
        return self.r.number(self.value[key], self.path(key), minimum=minimum, maximum=maximum)

    def string(self, key: str, default: Any = REQUIRED, *, nonempty: bool = False) -> Any:
        if self._absent(key, default):
            return default
        return self.r.string(self.value[key], self.path(key), nonempty=nonempty)

    def boolean(self, key: str, default: Any = REQUIRED) -> Any:
        if self._absent(key, default):
            return default
        return self.r.boolean(self.value[key], self.path(key))

    def enum(self, key: str, cls: type[E], what: str, default: Any = REQUIRED) -> Any:
        if self._absent(key, default):
            return default
        return self.r.enum(self.value[key], self.path(key), cls, what)

    def array(self, key: str, default: Any = REQUIRED, *, min_items: int = 0) -> list[tuple[Any, str]]:
        if self._absent(key, default):
            return []
        return self.r.array(self.value[key], self.path(key), min_items=min_items)

    def string_set(self, key: str) -> frozenset[str]:
        if self._absent(key, frozenset()):
            return frozenset()
        return self.r.string_set(self.value[key], self.path(key))

    def enum_set(self, key: str, cls: type[E], what: str) -> frozenset[E]:
        if self._absent(key, frozenset()):
            return frozenset()
        return self.r.enum_set(self.value[key], self.path(key), cls, what)

    def int_map(self, key: str, *, minimum: int | None = None) -> dict[str, int]:
        if self._absent(key, {}):
            return {}
        return self.r.int_map(self.value[key], self.path(key), minimum=minimum)

    def json_object(self, key: str) -> dict[str, Any]:
        if self._absent(key, {}):
            return {}
        return self.r.json_value(self.r.mapping(self.value[key], self.path(key)), self.path(key))

    def object(self, key: str, allowed: Collection[str], default: Any = REQUIRED) -> Obj | None:
        if self._absent(key, default):
            return None
        return self.r.object(self.value[key], self.path(key), allowed)
