"""Typed fields with their rules, shared by the tables' base models (``dispatch.storage.models``)
and the API bodies (``api.schemas``): local times, sane dates, skills, worker and service refs.

The rules themselves are ``dispatch.timeutil.offset_problem`` and ``dispatch.limits``; these
types apply them while a value is parsed, so a bad value is a validation error naming its
field (``window_start``) before any code compares, stores or computes with it.  Before these
types, a time with an offset compared with one without, or 9999-12-31 plus one day, ended in a
plain-text 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from dispatch import limits
from dispatch.timeutil import offset_problem

ID_LEN = 64
"""Longest id of a record (place, senior, worker, car, request): long enough for the readable slugs a
centre's data uses ("destination-swietokrzyskie-centrum-psychiatrii", 46), short enough for a URL."""
ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{ID_LEN - 1}}}$"
"""An id a person or a file gives: letters, digits, ``_ . -``, not starting with punctuation."""
POSTCODE_PATTERN = r"^\d{2}-\d{3}$"
"""A Polish postcode (25-001)."""
USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{2,63}$"
"""A login name (``dispatch.access.users`` checks it; ``UserBase`` shows it in the OpenAPI document)."""
USERNAME_RULE = "3-64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter"

#: What every time-of-day field means (appended to its description in the OpenAPI document).
LOCAL_TIME_DOC = ("local wall-clock time in the centre's time zone (CAREPATH_TIMEZONE, Europe/Warsaw by default), without an offset, e.g. 09:00; "
                  "a time with an offset (09:00+05:00, 09:00Z) is refused")
DATE_DOC = f"a date from {limits.DATE_MIN.isoformat()} to {limits.DATE_MAX.isoformat()}"


def _local_time(value: dt.time) -> dt.time:
    problem = offset_problem(value)
    if problem:
        raise PydanticCustomError("local_time", problem)
    return value


def _sane_date(value: dt.date) -> dt.date:
    problem = limits.date_problem(value)
    if problem:
        raise PydanticCustomError("date_range", problem)
    return value


def _skill(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("skill", "a skill must be a non-empty name")
    return value


LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
"""A time of day as the API reads and writes it: ``09:00``, ``09:00:00`` or with fractions, no offset."""


class _LocalTimeJsonSchema:
    """Documents a local time as a string with ``LOCAL_TIME_PATTERN``, not ``format: time``.

    JSON Schema's ``time`` format is RFC 3339's ``full-time``, which requires an offset, so every
    local time the API sends (``"06:00:00"``) violated its own OpenAPI document and the offsets a
    generator would send for it are refused (found by the schemathesis fuzzing, issue 20).
    """

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.pop("format", None)
        schema["pattern"] = LOCAL_TIME_PATTERN
        return schema


#: A time of day: local, no offset (``dispatch.timeutil`` module docstring).
LocalTime = Annotated[dt.time, AfterValidator(_local_time), _LocalTimeJsonSchema]
#: A date within ``dispatch.limits.DATE_MIN`` .. ``DATE_MAX``.
SaneDate = Annotated[dt.date, AfterValidator(_sane_date)]
#: A skill name (``driving_licence_b``).
Skill = Annotated[str, Field(max_length=limits.MAX_SKILL_LENGTH), AfterValidator(_skill)]
#: A list of skills, at most ``MAX_SKILLS``.
Skills = Annotated[list[Skill], Field(max_length=limits.MAX_SKILLS)]
#: A service code: an id of the centre's catalogue (``GET /services``), checked against it by ``dispatch``.
ServiceRef = Annotated[str, Field(min_length=1, max_length=ID_LEN, description="a service code (GET /api/v1/services)")]
#: Worker ids a senior refers to (regular or forbidden), at most ``MAX_WORKER_REFS``.
WorkerRefs = Annotated[list[Annotated[str, Field(max_length=ID_LEN)]], Field(max_length=limits.MAX_WORKER_REFS)]
