"""Cars of the senior taxi and the handyman: admins write, dispatchers read, others are refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.cars import CarCreate, CarPublic, CarUpdate
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, Page, domain_errors
from dispatch.catalog import records as catalog
from dispatch.storage.models import Car, UserRole

router = APIRouter(prefix="/cars", tags=["cars"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN, UserRole.DISPATCHER))]
SORTS = {"id": col(Car.id), "plate": col(Car.plate), "seats": col(Car.seats), "base_place": col(Car.base_place)}


@router.get("", operation_id="cars-list", name="cars-list", response_model=Page[CarPublic], responses=ERRORS)
def list_cars(
    session: DbSession,
    user: Reader,
    base_place: Annotated[str | None, Query(description="place id")] = None,
    sort: Annotated[str, sort_query(SORTS)] = "id",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[CarPublic]:
    """Cars, one page at a time."""
    rows, next_cursor = paginate(
        session, catalog.car_query(base_place), id_column=col(Car.id), allowed=SORTS,
        sort=parse_sort(sort, SORTS), limit=limit, cursor=cursor, filters={"base_place": base_place},
    )
    return Page[CarPublic](items=[CarPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "", operation_id="cars-create", name="cars-create", status_code=201, response_model=CarPublic,
    responses={**ERRORS, **CONFLICT},
)
def create_car(body: CarCreate, request: Request, session: DbSession, user: Admin, idem: Idem) -> Response:
    """Add a car (plates are unique: 409 on a duplicate); 201 with ``Location``."""
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = catalog.create_car(session, user.username, body.model_dump())
    out = CarPublic.model_validate(row).model_dump(mode="json")
    return idem.finish(201, out, request.url_for("cars-get", car_id=row.id).path)


@router.get(
    "/{car_id}", operation_id="cars-get", name="cars-get", response_model=CarPublic, responses={**ERRORS, **NOT_FOUND}
)
def get_car(car_id: str, session: DbSession, user: Reader) -> CarPublic:
    """One car."""
    with domain_errors():
        return CarPublic.model_validate(catalog.get_car(session, car_id))


@router.patch(
    "/{car_id}", operation_id="cars-update", name="cars-update", response_model=CarPublic,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def update_car(car_id: str, body: CarUpdate, session: DbSession, user: Admin) -> CarPublic:
    """Change the fields sent."""
    with domain_errors():
        return CarPublic.model_validate(catalog.update_car(session, user.username, car_id, body.model_dump(exclude_unset=True)))


@router.delete(
    "/{car_id}", operation_id="cars-delete", name="cars-delete", status_code=204,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def delete_car(car_id: str, session: DbSession, user: Admin) -> Response:
    """Delete a car no worker drives (409 otherwise)."""
    with domain_errors():
        catalog.delete_car(session, user.username, car_id)
    return Response(status_code=204)
