"""Seniors: coordinators and admins write; dispatchers read too; workers are refused.

The health fields (disability grade, mental disorder, health notes; RODO art. 9) are shown only
by ``GET /seniors/{id}/health?purpose=...``, to coordinators and admins, and every such read is
audited with its purpose (``senior.read_health``; ``dispatch.catalog.senior_privacy``).  Lists and
single reads leave them out (data minimisation, RODO art. 5(1)(c)): a page of fifty seniors is
not fifty reasons to read their diagnoses, and a dispatcher plans without them.

Admins export everything stored about a senior (``GET /seniors/{id}/export``, art. 15/20) and
erase a senior by anonymisation (``POST /seniors/{id}/erase``, art. 17); both audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.deps import CurrentUser, GeocoderDep, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.common import CONFLICT, ERRORS, GEOCODER, NOT_FOUND, Page, domain_errors, json_answer
from api.clock import ClockDep
from api.schemas.seniors import SeniorCreate, SeniorErased, SeniorHealthRead, SeniorPublic, SeniorUpdate
from dispatch.catalog import records as catalog
from dispatch.catalog import senior_privacy
from dispatch.providers import geocoding
from dispatch.storage.models import Senior, UserRole

router = APIRouter(prefix="/seniors", tags=["seniors"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]
HealthReader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
PurposeQuery = Annotated[str, Query(
    max_length=64, description="why the health fields are read (audited): " + ", ".join(senior_privacy.PURPOSES),
    json_schema_extra={"enum": list(senior_privacy.PURPOSES)},
)]
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
    "/{senior_id}", operation_id="seniors-get", name="seniors-get", response_model=SeniorPublic,
    responses={**ERRORS, **NOT_FOUND},
)
def get_senior(senior_id: str, session: DbSession, user: Reader) -> SeniorPublic:
    """One senior, without the health fields (``GET /seniors/{id}/health?purpose=`` has them)."""
    with domain_errors():
        return SeniorPublic.model_validate(catalog.get_senior(session, senior_id))


@router.get(
    "/{senior_id}/health", operation_id="seniors-get-health", name="seniors-get-health",
    response_model=SeniorHealthRead, responses={**ERRORS, **NOT_FOUND},
)
def get_senior_health(senior_id: str, purpose: PurposeQuery, session: DbSession, user: HealthReader) -> SeniorHealthRead:
    """The senior's health fields (disability grade, mental disorder, health notes), for a stated
    ``purpose``; coordinators and admins only, every read audited with the purpose."""
    with domain_errors():
        row = senior_privacy.read_health(session, user.username, senior_id, purpose)
    return SeniorHealthRead.model_validate(row.model_dump() | {"purpose": purpose})


@router.get(
    "/{senior_id}/export", operation_id="seniors-export", name="seniors-export",
    responses={**ERRORS, **NOT_FOUND, 200: {"description": "JSON: the senior, every record referring to them, "
                                                            "and the audit rows about them"}},
)
def export_senior(senior_id: str, session: DbSession, user: Admin, clock: ClockDep) -> Response:
    """Everything stored about one senior as JSON (RODO art. 15 and 20); admins only, audited."""
    with domain_errors():
        body = senior_privacy.export(session, user.username, senior_id, clock())
    return json_answer(body, headers={"Content-Disposition": f'attachment; filename="senior-{senior_id}.json"'})


@router.post(
    "/{senior_id}/erase", operation_id="seniors-erase", name="seniors-erase", response_model=SeniorErased,
    responses={**ERRORS, **NOT_FOUND},
)
def erase_senior(senior_id: str, session: DbSession, user: Admin, clock: ClockDep) -> SeniorErased:
    """Erase the senior's personal data by anonymisation (RODO art. 17): name, address, phone, health
    fields and notes are overwritten, active requests cancelled; planned and delivered visits and the
    audit (who did what) stay.  Admins only, audited; erasing again changes nothing (200)."""
    with domain_errors():
        row, done = senior_privacy.erase(session, user.username, senior_id, clock())
    assert row.erased_at is not None
    return SeniorErased(id=row.id, erased_at=row.erased_at, already_erased=not done)


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
