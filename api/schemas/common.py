"""Pieces shared by the resource routers: the page envelope, problem answers for domain errors,
JSON answers with headers, and the documented error responses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.problems import ProblemError
from dispatch.catalog.records import Conflict, InvalidInput, NotFound
from dispatch.providers.geocoding import GeocoderUnavailable

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next page (null: last page)."""

    items: list[T]
    next_cursor: str | None = Field(default=None, description="opaque; null on the last page")


INPUT_CONFIG = ConfigDict(extra="forbid")
"""Request bodies: unknown fields are refused (a typo such as ``priorty`` is an error, not ignored)."""
OUTPUT_CONFIG = ConfigDict(from_attributes=True)
"""Response bodies, built from table rows."""
PUBLIC_CONFIG = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)
"""``XPublic`` bodies cut from a table's base model: every field is always sent, so the OpenAPI
document says each is required even where the base model gives it a default."""


class InputModel(BaseModel):
    """Request bodies that are not cut from a table's base model (see ``INPUT_CONFIG``)."""

    model_config = INPUT_CONFIG


class OutputModel(BaseModel):
    """Response bodies that are not cut from a table's base model (see ``OUTPUT_CONFIG``)."""

    model_config = OUTPUT_CONFIG


#: ``responses=`` for routes: every error is problem+json.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token (problem+json)"},
    403: {"description": "the role may not do this (problem+json)"},
    422: {"description": "invalid input; `errors[]` names each field (problem+json)"},
    500: {"description": "unexpected server error: problem+json with an `error_id` to quote, nothing else"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such id (problem+json)"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "duplicate, or a reference that must stay (problem+json)"}}
GEOCODER: dict[int | str, dict[str, Any]] = {
    503: {"description": "the configured geocoder could not answer; nothing was stored (problem+json, Retry-After)"},
}


def problem_for(exc: Exception) -> ProblemError | None:
    """The problem+json answer for a ``dispatch`` error (None for anything else)."""
    if isinstance(exc, InvalidInput):  # import errors say so in their slug: import-invalid
        status = int(getattr(exc, "status", 422))  # intake rules: 409 when a quota or budget is used up
        return ProblemError(status, exc.slug, exc.title, str(exc), [dict(e) for e in exc.errors])
    if isinstance(exc, NotFound):
        return ProblemError(404, "not-found", "Not found", str(exc))
    if isinstance(exc, Conflict):
        errors = [{"field": exc.field, "message": str(exc)}] if exc.field else None
        return ProblemError(409, "conflict", "Conflict", str(exc), errors)
    if isinstance(exc, GeocoderUnavailable):
        return ProblemError(503, "geocoder-unavailable", "Geocoder unavailable", str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)})
    return None


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn ``NotFound`` / ``Conflict`` / ``InvalidInput`` / ``GeocoderUnavailable`` raised inside the block
    into problem+json."""
    try:
        yield
    except (NotFound, Conflict, InvalidInput, GeocoderUnavailable) as exc:
        problem = problem_for(exc)
        assert problem is not None
        raise problem from exc


def json_answer(model: BaseModel | dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    body = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return JSONResponse(body, status_code=status_code, headers=headers)


class ImportReport(BaseModel):
    """What an import wrote (201) or, for a dry run, would write (200)."""

    kind: str = Field(description="places, services, cars, workers, seniors or requests")
    dry_run: bool
    rows: int = Field(description="data rows read (blank rows skipped)")
    created: dict[str, int] = Field(description="rows written (or that would be) per table")
    ids: list[str] = Field(description="ids of the new records, in file order")
    warnings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="rows stored (or that would be) with a warning, e.g. a worker's shifts over the contract's "
                    "weekly hours (rule weekly_hours): each with row, field, rule, message and its numbers")
