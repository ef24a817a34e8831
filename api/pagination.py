"""Cursor pagination for lists that change while someone pages through them.

Keyset pagination on ``(sort field, id)``: the order is total (the id breaks ties), and a page
starts strictly after the last item of the previous one, so rows inserted or deleted meanwhile
never make an item appear twice or be skipped.  ``sort=field`` ascends, ``sort=-field``
descends (the id tie-break follows the same direction); only whitelisted, non-null columns may
be sorted on.

The cursor is opaque to clients (URL-safe base64 of a small JSON document) and remembers the
sort and a digest of the filters it was made for: reusing it with other ones is a 422 rather
than a silently wrong page.

Some filters cannot be written in SQL (``active_on`` expands RRULEs); a ``post_filter`` is then
applied to rows fetched in batches until the page is full.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fastapi import Query
from sqlalchemy import Select, and_, or_
from sqlmodel import Session

from api.problems import ProblemError
from dispatch.limits import MAX_DB_INT

MAX_LIMIT = 200
_BATCH = 200
_MAX_KEY_LENGTH = 200  # the longest sortable text column (names: 100)

LimitQuery = Query(ge=1, le=MAX_LIMIT, description=f"items per page (1-{MAX_LIMIT})")
CursorQuery = Query(description="`next_cursor` of the previous page; omit for the first page")


def sort_query(allowed: Mapping[str, Any]) -> Any:
    """The ``sort`` query parameter, documented with its whitelist."""
    names = ", ".join(allowed)
    return Query(description=f"`field` ascending or `-field` descending; fields: {names}", max_length=64)


def _bad(field: str, message: str) -> ProblemError:
    return ProblemError(422, "validation-error", "Invalid input", f"{field}: {message}",
                        [{"field": field, "message": message}])


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool

    @property
    def text(self) -> str:
        return ("-" if self.descending else "") + self.field


def parse_sort(value: str | None, allowed: Mapping[str, Any], default: str = "id") -> Sort:
    text = (value or default).strip()
    descending = text.startswith("-")
    name = text.lstrip("-+")
    if name not in allowed:
        raise _bad("sort", f"cannot sort by {name!r}; use one of {', '.join(allowed)} (prefix '-' to descend)")
    return Sort(name, descending)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _typed(value: Any, column: Any) -> Any:
    """A cursor's key value as the column's type; anything else is a 422 (a cursor is client input).

    Before this check a hand-made cursor with a 100-digit number or a non-date reached the
    database or ``fromisoformat`` and answered a plain-text 500.
    """
    try:
        python_type = column.type.python_type
    except NotImplementedError:  # pragma: no cover - every sortable column has one
        python_type = str
    bad = _bad("cursor", "not a cursor this API gave out; start again without one")
    if python_type in (dt.date, dt.time, dt.datetime):
        try:
            return python_type.fromisoformat(value)
        except (ValueError, TypeError):
            raise bad from None
    if python_type is int:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_DB_INT:
            return value
        raise bad
    if isinstance(value, str) and len(value) <= _MAX_KEY_LENGTH:  # text and text-valued enums
        return value
    raise bad


def _digest(filters: Mapping[str, Any]) -> str:
    canonical = json.dumps({k: _plain(v) for k, v in filters.items() if v is not None}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(sort: Sort, filters: Mapping[str, Any], key: tuple[Any, Any]) -> str:
    doc = {"s": sort.text, "f": _digest(filters), "k": [_plain(key[0]), _plain(key[1])]}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort, filters: Mapping[str, Any]) -> tuple[Any, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
        sort_text, digest, (value, last_id) = doc["s"], doc["f"], doc["k"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _bad("cursor", "not a cursor this API gave out; start again without one") from None
    if sort_text != sort.text or digest != _digest(filters):
        raise _bad("cursor", "the cursor belongs to a list with other filters or sort; start again without one")
    return value, last_id


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    id_column: Any,
    allowed: Mapping[str, Any],
    sort: Sort,
    limit: int,
    cursor: str | None,
    filters: Mapping[str, Any],
    post_filter: Callable[[Any], bool] | None = None,
) -> tuple[list[Any], str | None]:
    """One page of ``stmt``'s rows in ``sort`` order and the cursor of the next page (or None)."""
    column = allowed[sort.field]
    same_column = column is id_column

    def after(value: Any, last_id: Any) -> Any:
        if same_column:
            return id_column < last_id if sort.descending else id_column > last_id
        if sort.descending:
            return or_(column < value, and_(column == value, id_column < last_id))
        return or_(column > value, and_(column == value, id_column > last_id))

    order = [column.desc(), id_column.desc()] if sort.descending else [column.asc(), id_column.asc()]
    if same_column:
        order = order[:1]
    base = stmt.order_by(*order)
    position = None
    if cursor:
        value, last_id = decode_cursor(cursor, sort, filters)
        position = (_typed(value, column), _typed(last_id, id_column))

    def key(row: Any) -> tuple[Any, Any]:
        return getattr(row, sort.field), getattr(row, id_column.key)  # the id column: id, or a service's code

    items: list[Any] = []
    batch = limit + 1 if post_filter is None else max(limit + 1, _BATCH)
    while len(items) <= limit:
        query = base if position is None else base.where(after(*position))
        rows = session.scalars(query.limit(batch)).all()
        for row in rows:
            if post_filter is None or post_filter(row):
                items.append(row)
                if len(items) > limit:
                    break
        if len(rows) < batch or not rows:
            break
        position = key(rows[-1])
    if len(items) > limit:
        return items[:limit], encode_cursor(sort, filters, key(items[limit - 1]))
    return items, None
