"""The catalogue of services: admins write; coordinators and dispatchers read; workers are refused.

Why these roles: a service's worker kinds, skills and calendar change how every request of it is
planned, for the whole centre, so only admins change the catalogue; coordinators read it to
order visits and dispatchers to plan them.  Services are not deleted (requests and rosters refer
to them); ``kind`` cannot change while requests refer to the service (409).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, Page, domain_errors
from api.schemas.services import ServiceCreate, ServicePublic, ServiceUpdate
from dispatch.catalog import services as service_catalog
from dispatch.storage.models import Service, ServiceKind, UserRole

router = APIRouter(prefix="/services", tags=["services"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN, UserRole.COORDINATOR, UserRole.DISPATCHER))]
SORTS = {"code": col(Service.code), "name_pl": col(Service.name_pl), "name_en": col(Service.name_en)}


@router.get("", operation_id="services-list", name="services-list", response_model=Page[ServicePublic],
            responses=ERRORS)
def list_services(
    session: DbSession,
    user: Reader,
    kind: Annotated[ServiceKind | None, Query()] = None,
    sort: Annotated[str, sort_query(SORTS)] = "code",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[ServicePublic]:
    """The services, one page at a time."""
    rows, next_cursor = paginate(
        session, service_catalog.service_query(kind), id_column=col(Service.code), allowed=SORTS,
        sort=parse_sort(sort, SORTS), limit=limit, cursor=cursor, filters={"kind": kind},
    )
    return Page[ServicePublic](items=[ServicePublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "", operation_id="services-create", name="services-create", status_code=201, response_model=ServicePublic,
    responses={**ERRORS, **CONFLICT},
)
def create_service(body: ServiceCreate, request: Request, session: DbSession, user: Admin, idem: Idem) -> Response:
    """Add a service (409 if the code exists); 201 with ``Location``."""
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = service_catalog.create_service(session, user.username, body.model_dump())
    out = ServicePublic.model_validate(row).model_dump(mode="json")
    return idem.finish(201, out, request.url_for("services-get", code=row.code).path)


@router.get(
    "/{code}", operation_id="services-get", name="services-get", response_model=ServicePublic,
    responses={**ERRORS, **NOT_FOUND},
)
def get_service(code: str, session: DbSession, user: Reader) -> ServicePublic:
    """One service."""
    with domain_errors():
        return ServicePublic.model_validate(service_catalog.get_service(session, code))


@router.patch(
    "/{code}", operation_id="services-update", name="services-update", response_model=ServicePublic,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def update_service(code: str, body: ServiceUpdate, session: DbSession, user: Admin) -> ServicePublic:
    """Change the fields sent; they apply to the service's requests from the next plan on."""
    with domain_errors():
        return ServicePublic.model_validate(
            service_catalog.update_service(session, user.username, code, body.model_dump(exclude_unset=True)))
