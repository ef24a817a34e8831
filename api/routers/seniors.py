"""Seniors: coordinators and admins write; dispatchers read too; workers are refused.

Health notes are shown only by ``GET /seniors/{id}`` to coordinators and admins, and every such
read is audited (``senior.read_health``).  Lists leave them out (data minimisation, RODO art.
5(1)(c)): a page of fifty seniors is not fifty reasons to read their diagnoses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.deps import CurrentUser, GeocoderDep, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.common import CONFLICT, ERRORS, GEOCODER, NOT_FOUND, Page, domain_errors, json_answer
from api.schemas.seniors import SeniorCreate, SeniorPublic, SeniorUpdate, SeniorWithHealth
from dispatch.catalog import records as catalog
from dispatch.providers import geocoding
from dispatch.storage.models import Senior, UserRole

router = APIRouter(prefix="/seniors", tags=["seniors"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]
HEALTH_READERS = frozenset({UserRole.COORDINATOR, UserRole.ADMIN})
SORTS = {
    "id": col(Senior.id),
    "last_name": col(Senior.last_name),
    "first_name": col(Senior.first_name),
    "birth_year": col(Senior.birth_year),
    "area": col(Senior.area),
}


def _location(request: Request, senior_id: str) -> str:
    return request.url_for("seniors-get", senior_id=senior_id).path


@router.get("", operation_id="seniors-list", name="seniors-list", response_model=Page[SeniorPublic], responses=ERRORS)
def list_seniors(
    session: DbSession,
    user: Reader,
    area: Annotated[str | None, Query(description="place id of the area")] = None,
    name: Annotated[str | None, Query(max_length=100, description="first or last name starts with (any case)")] = None,
    sort: Annotated[str, sort_query(SORTS)] = "id",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[SeniorPublic]:
    """Seniors without health notes, filtered and sorted, one page at a time."""
    rows, next_cursor = paginate(
        session, catalog.senior_query(area, name), id_column=col(Senior.id), allowed=SORTS,
        sort=parse_sort(sort, SORTS), limit=limit, cursor=cursor, filters={"area": area, "name": name},
    )
    return Page[SeniorPublic](items=[SeniorPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "", operation_id="seniors-create", name="seniors-create", status_code=201, response_model=SeniorPublic,
    responses={**ERRORS, **CONFLICT, **GEOCODER},
)
def create_senior(
    body: SeniorCreate, request: Request, session: DbSession, user: Writer, idem: Idem, geocoder: GeocoderDep,
) -> Response:
    """Add a senior; lat/lon left out are looked up from the address (a configured geocoder).  Answers
    201 with ``Location``.  Send ``Idempotency-Key`` to make retries safe."""
    with domain_errors():  # before the key is reserved: a lookup ends the transaction (dispatch.providers.geocoding)
        data = geocoding.fill_coordinates(session, geocoder, body.model_dump())
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = catalog.create_senior(session, user.username, data)
    out = SeniorPublic.model_validate(row).model_dump(mode="json")
    return idem.finish(201, out, _location(request, row.id))


@router.get(
    "/{senior_id}", operation_id="seniors-get", name="seniors-get", response_model=SeniorWithHealth,
    responses={**ERRORS, **NOT_FOUND, 200: {"description": "`health_notes` only for coordinators and admins"}},
)
def get_senior(senior_id: str, session: DbSession, user: Reader) -> Response:
    """One senior.  Coordinators and admins also get ``health_notes`` (each read is audited); dispatchers do not."""
    with domain_errors():
        if user.role in HEALTH_READERS:
            return json_answer(SeniorWithHealth.model_validate(catalog.read_senior_health(session, user.username, senior_id)))
        return json_answer(SeniorPublic.model_validate(catalog.get_senior(session, senior_id)))


@router.patch(
    "/{senior_id}", operation_id="seniors-update", name="seniors-update", response_model=SeniorPublic,
    responses={**ERRORS, **NOT_FOUND, **GEOCODER},
)
def update_senior(
    senior_id: str, body: SeniorUpdate, session: DbSession, user: Writer, geocoder: GeocoderDep,
) -> SeniorPublic:
    """Change the fields sent (health notes included, though the answer does not show them); a changed
    address without lat/lon is looked up again (a configured geocoder) or refused."""
    with domain_errors():
        current = catalog.get_senior(session, senior_id)
        before = {k: getattr(current, k) for k in catalog.ADDRESS_FIELDS}
        changes = geocoding.fill_coordinates(session, geocoder, body.model_dump(exclude_unset=True), before=before)
        row = catalog.update_senior(session, user.username, senior_id, changes)
    return SeniorPublic.model_validate(row)


@router.delete(
    "/{senior_id}", operation_id="seniors-delete", name="seniors-delete", status_code=204,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def delete_senior(senior_id: str, session: DbSession, user: Writer) -> Response:
    """Delete a senior who has no visit requests (409 otherwise: requests are history)."""
    with domain_errors():
        catalog.delete_senior(session, user.username, senior_id)
    return Response(status_code=204)
