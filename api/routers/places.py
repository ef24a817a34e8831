"""Places (areas, gminas, offices, ride destinations): admins and coordinators write; dispatchers
read too; workers are refused.

Why these roles: coordinators register seniors in areas and order rides to destinations, so they
add the places those need (a new clinic) as they go, as admins set up the centre; dispatchers
plan by area and read places, but change no master data; a worker's own schedule already carries
the addresses their visits need.

A place is created from an address and coordinates: given, or (with
``CAREPATH_GEOCODER=nominatim``) looked up from the address and cached, so the same address is
never asked twice.  Without coordinates and without a geocoder the answer is 422 naming ``lat``;
an address the geocoder does not know is 422 naming ``street`` (or ``city``); a geocoder that
cannot answer is 503 and nothing is stored.  Deleting a place that seniors, workers, cars,
requests, rosters or planning jobs refer to is 409 saying who refers to it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.deps import CurrentUser, GeocoderDep, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.common import CONFLICT, ERRORS, GEOCODER, NOT_FOUND, Page, domain_errors
from api.schemas.places import PlaceCreate, PlacePublic, PlaceUpdate
from dispatch.providers import geocoding
from dispatch.catalog import places
from dispatch.storage.models import Place, UserRole
from dispatch.domain import PlaceKind

router = APIRouter(prefix="/places", tags=["places"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN, UserRole.COORDINATOR))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN, UserRole.COORDINATOR, UserRole.DISPATCHER))]
SORTS = {"id": col(Place.id), "name": col(Place.name), "kind": col(Place.kind), "city": col(Place.city)}


@router.get("", operation_id="places-list", name="places-list", response_model=Page[PlacePublic], responses=ERRORS)
def list_places(
    session: DbSession,
    user: Reader,
    kind: Annotated[PlaceKind | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=200, description="name starts with (any case)")] = None,
    sort: Annotated[str, sort_query(SORTS)] = "id",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[PlacePublic]:
    """Places, filtered and sorted, one page at a time."""
    rows, next_cursor = paginate(
        session, places.place_query(kind, name), id_column=col(Place.id), allowed=SORTS,
        sort=parse_sort(sort, SORTS), limit=limit, cursor=cursor, filters={"kind": kind, "name": name},
    )
    return Page[PlacePublic](items=[PlacePublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "", operation_id="places-create", name="places-create", status_code=201, response_model=PlacePublic,
    responses={**ERRORS, **CONFLICT, **GEOCODER},
)
def create_place(
    body: PlaceCreate, request: Request, session: DbSession, user: Writer, idem: Idem, geocoder: GeocoderDep,
) -> Response:
    """Add a place; lat/lon left out are looked up from the address (a configured geocoder).
    201 with ``Location``; ``Idempotency-Key`` makes retries safe."""
    with domain_errors():  # before the key is reserved: a lookup ends the transaction (dispatch.providers.geocoding)
        data = geocoding.fill_coordinates(session, geocoder, body.model_dump())
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = places.create_place(session, user.username, data)
    out = PlacePublic.model_validate(row).model_dump(mode="json")
    return idem.finish(201, out, request.url_for("places-get", place_id=row.id).path)


@router.get(
    "/{place_id}", operation_id="places-get", name="places-get", response_model=PlacePublic,
    responses={**ERRORS, **NOT_FOUND},
)
def get_place(place_id: str, session: DbSession, user: Reader) -> PlacePublic:
    """One place."""
    with domain_errors():
        return PlacePublic.model_validate(places.get_place(session, place_id))


@router.patch(
    "/{place_id}", operation_id="places-update", name="places-update", response_model=PlacePublic,
    responses={**ERRORS, **NOT_FOUND, **GEOCODER},
)
def update_place(place_id: str, body: PlaceUpdate, session: DbSession, user: Writer, geocoder: GeocoderDep) -> PlacePublic:
    """Change the fields sent; a new address without lat/lon is looked up (or refused without a geocoder)."""
    changes = body.model_dump(exclude_unset=True)
    with domain_errors():
        before = {k: getattr(places.get_place(session, place_id), k) for k in places.PLACE_FIELDS}
        changes = geocoding.fill_coordinates(session, geocoder, changes, before=before)
        return PlacePublic.model_validate(places.update_place(session, user.username, place_id, changes))


@router.delete(
    "/{place_id}", operation_id="places-delete", name="places-delete", status_code=204,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def delete_place(place_id: str, session: DbSession, user: Writer) -> Response:
    """Delete a place nothing refers to (409 naming the seniors, workers, cars, requests or rosters that do)."""
    with domain_errors():
        places.delete_place(session, user.username, place_id)
    return Response(status_code=204)
