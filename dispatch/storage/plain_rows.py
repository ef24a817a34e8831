"""Stored rows read as plain, read-only records instead of ORM objects, for bulk reads.

Building a day's problem reads every senior, worker and active request of the centre; at 10x
that is some 40,000 rows, and making them ORM objects (identity map, instrumented attributes,
pydantic's private state, the ``selectin`` relationships) was most of the build's time.  A
record here has the model's column attributes with the values the ORM would give (the same
select of the table's columns, through the same column types: JSON lists, times, enums) and the
model's own read-only properties (``VisitRequest.ride``, ``is_ride``, ...; taken from the model
class, not rewritten), so code written against the rows (``problem_builder``, ``recurrence``)
reads either.  Relationships are not loaded: a caller that needs one sets it (``service_info``,
``shifts``).  Records are not in the session and must not be changed.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session, SQLModel

@cache
def record_class(model: type[SQLModel], extra: tuple[str, ...] = ()) -> type:
    """A tuple class with ``model``'s columns and ``extra`` attributes (relationships a caller fills)
    as fields, and the read-only properties ``model`` and its own bases define (not SQLModel's or
    pydantic's).  Equality and hashing are by identity, as for ORM objects (the values hold lists)."""
    columns = tuple(c.key for c in model.__table__.columns)  # type: ignore[attr-defined]
    properties: dict[str, Any] = {}
    for klass in reversed(model.__mro__):
        if not issubclass(klass, SQLModel) or klass is SQLModel:
            continue
        properties.update({k: v for k, v in vars(klass).items() if isinstance(v, property)})
    base = namedtuple(f"{model.__name__}Fields", columns + extra)  # type: ignore[misc]
    return type(f"{model.__name__}Record", (base,), {
        "__slots__": (), "__module__": __name__, "__eq__": object.__eq__, "__ne__": object.__ne__,
        "__hash__": object.__hash__, **properties})


def columns_of(model: type[SQLModel]) -> Select[Any]:
    """``select`` of ``model``'s table columns (add ``where``/``order_by``; read with :func:`records`)."""
    return select(*model.__table__.columns)  # type: ignore[attr-defined]


def records(session: Session, model: type[SQLModel], stmt: Select[Any] | None = None,
            extra: tuple[str, ...] = (), fill: Callable[[Any], tuple[Any, ...]] | None = None) -> list[Any]:
    """The rows of ``stmt`` (default: the whole table) as records of ``model`` (module docstring);
    ``fill(row)`` gives the values of the ``extra`` attributes (default: None each)."""
    make = record_class(model, extra)._make
    rows = session.execute(stmt if stmt is not None else columns_of(model))
    if not extra:
        return [make(row) for row in rows]
    if fill is None:
        none = (None,) * len(extra)
        return [make((*row, *none)) for row in rows]
    return [make((*row, *fill(row))) for row in rows]
