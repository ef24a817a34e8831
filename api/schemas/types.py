"""Path and query parameters every router shares: sane dates and bounded integer ids.

The field types of bodies (local times, sane dates, skills, refs) are ``dispatch.fields``, shared
with the tables; these helpers apply the same rules (``dispatch.limits``) to a URL, so a bad
value is a 422 naming it (``query.version``, ``path.date``): an integer beyond 64 bits handed to
SQLite once ended in a plain-text 500.
"""

from __future__ import annotations


from fastapi import Path, Query

from dispatch import limits
from dispatch.fields import DATE_DOC


def date_path(description: str = "local date, YYYY-MM-DD") -> object:
    """A date in the path (e.g. ``/rosters/{date}``), within the sane range."""
    return Path(description=f"{description}; {DATE_DOC}")


def int_id_path(description: str) -> object:
    """An integer id in the path: 1 to the largest value the id column holds."""
    return Path(ge=1, le=limits.MAX_DB_INT, description=description)


def int_query(description: str) -> object:
    """A positive integer in the query (an id or a version): 1 to the largest a column holds."""
    return Query(ge=1, le=limits.MAX_DB_INT, description=description)
