"""Workers with their weekly shifts, and their absences.

Admins write; dispatchers read; a worker may read only their own record and absences (other
people's are 403, and so is the list).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.deps import CurrentUser, GeocoderDep, current_user, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.problems import ProblemError
from api.schemas.common import CONFLICT, ERRORS, GEOCODER, NOT_FOUND, Page, domain_errors, json_answer
from api.schemas.types import int_id_path
from api.schemas.workers import AbsenceCreate, AbsencePublic, WorkerCreate, WorkerPublic, WorkerUpdate
from dispatch.catalog import records as catalog
from dispatch.providers import geocoding
from dispatch.storage.models import UserRole, Worker, WorkerAbsence
from dispatch.domain import WorkerKind

router = APIRouter(prefix="/workers", tags=["workers"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
#: A dispatcher is the one who takes the 7:10 call "I'm sick": they record (and remove) absences too.
AbsenceWriter = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN, UserRole.DISPATCHER))]
# Coordinators read workers too: they name a senior's regular and forbidden workers.
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN, UserRole.DISPATCHER, UserRole.COORDINATOR))]
SORTS = {
    "id": col(Worker.id),
    "last_name": col(Worker.last_name),
    "first_name": col(Worker.first_name),
    "kind": col(Worker.kind),
    "home_area": col(Worker.home_area),
}


def reader_or_self(worker_id: str, user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
    """Admins, dispatchers and coordinators read any worker; a worker only themself."""
    if user.role in (UserRole.ADMIN, UserRole.DISPATCHER, UserRole.COORDINATOR):
        return user
    if user.role == UserRole.WORKER and user.worker_id == worker_id:
        return user
    raise ProblemError(403, "forbidden", "Not allowed", "you may read only your own worker record")


SelfOrReader = Annotated[CurrentUser, Depends(reader_or_self)]
AbsenceId = Annotated[int, int_id_path("the absence's id")]


@router.get("", operation_id="workers-list", name="workers-list", response_model=Page[WorkerPublic], responses=ERRORS)
def list_workers(
    session: DbSession,
    user: Reader,
    kind: Annotated[WorkerKind | None, Query()] = None,
    home_area: Annotated[str | None, Query(description="place id")] = None,
    name: Annotated[str | None, Query(max_length=100, description="first or last name starts with (any case)")] = None,
    sort: Annotated[str, sort_query(SORTS)] = "id",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[WorkerPublic]:
    """Workers with their shifts, filtered and sorted, one page at a time."""
    rows, next_cursor = paginate(
        session, catalog.worker_query(kind, home_area, name), id_column=col(Worker.id), allowed=SORTS,
        sort=parse_sort(sort, SORTS), limit=limit, cursor=cursor,
        filters={"kind": kind, "home_area": home_area, "name": name},
    )
    return Page[WorkerPublic](items=[WorkerPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "", operation_id="workers-create", name="workers-create", status_code=201, response_model=WorkerPublic,
    responses={**ERRORS, **CONFLICT, **GEOCODER},
)
def create_worker(
    body: WorkerCreate, request: Request, session: DbSession, user: Admin, idem: Idem, geocoder: GeocoderDep,
) -> Response:
    """Add a worker with a weekly shift pattern; home_lat/home_lon left out are looked up from the home
    address (a configured geocoder; the address is not stored).  201 with ``Location``.
    ``Idempotency-Key`` makes retries safe."""
    with domain_errors():  # before the key is reserved: a lookup ends the transaction (dispatch.providers.geocoding)
        data = geocoding.fill_coordinates(session, geocoder, body.model_dump(), geocoding.WORKER_HOME)
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = catalog.create_worker(session, user.username, data)
    out = WorkerPublic.model_validate(row).model_dump(mode="json")
    return idem.finish(201, out, request.url_for("workers-get", worker_id=row.id).path)


@router.get(
    "/{worker_id}", operation_id="workers-get", name="workers-get", response_model=WorkerPublic,
    responses={**ERRORS, **NOT_FOUND},
)
def get_worker(worker_id: str, session: DbSession, user: SelfOrReader) -> WorkerPublic:
    """One worker (a worker may read only themself)."""
    with domain_errors():
        return WorkerPublic.model_validate(catalog.get_worker(session, worker_id))


@router.patch(
    "/{worker_id}", operation_id="workers-update", name="workers-update", response_model=WorkerPublic,
    responses={**ERRORS, **NOT_FOUND, **GEOCODER},
)
def update_worker(worker_id: str, body: WorkerUpdate, session: DbSession, user: Admin, geocoder: GeocoderDep) -> WorkerPublic:
    """Change the fields sent; ``shifts`` replaces the whole weekly pattern; a home address sent without
    home_lat/home_lon is looked up (a configured geocoder)."""
    with domain_errors():
        catalog.get_worker(session, worker_id)
        changes = geocoding.fill_coordinates(session, geocoder, body.model_dump(exclude_unset=True),
                                             geocoding.WORKER_HOME)
        row = catalog.update_worker(session, user.username, worker_id, changes)
    return WorkerPublic.model_validate(row)


@router.delete(
    "/{worker_id}", operation_id="workers-delete", name="workers-delete", status_code=204,
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def delete_worker(worker_id: str, session: DbSession, user: Admin) -> Response:
    """Delete a worker nothing refers to (rosters, seniors' preferences, a user account: 409 otherwise)."""
    with domain_errors():
        catalog.delete_worker(session, user.username, worker_id)
    return Response(status_code=204)


@router.get(
    "/{worker_id}/absences", operation_id="workers-list-absences", name="workers-list-absences",
    response_model=list[AbsencePublic], responses={**ERRORS, **NOT_FOUND},
)
def list_absences(worker_id: str, session: DbSession, user: SelfOrReader) -> list[AbsencePublic]:
    """The worker's absences by start date (a worker may read only their own)."""
    with domain_errors():
        return [AbsencePublic.model_validate(a) for a in catalog.list_absences(session, worker_id)]


@router.post(
    "/{worker_id}/absences", operation_id="workers-create-absence", name="workers-create-absence", status_code=201,
    response_model=AbsencePublic, responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
def create_absence(
    worker_id: str, body: AbsenceCreate, request: Request, session: DbSession, user: AbsenceWriter, idem: Idem
) -> Response:
    """Record leave, sickness or training (admins and dispatchers; audited); overlapping absences are
    refused (409)."""
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = catalog.create_absence(session, user.username, worker_id, body.model_dump())
    location = request.url_for("workers-get-absence", worker_id=worker_id, absence_id=row.id).path
    return idem.finish(201, AbsencePublic.model_validate(row).model_dump(mode="json"), location)


@router.get(
    "/{worker_id}/absences/{absence_id}", operation_id="workers-get-absence", name="workers-get-absence",
    response_model=AbsencePublic, responses={**ERRORS, **NOT_FOUND},
)
def get_absence(worker_id: str, absence_id: AbsenceId, session: DbSession, user: SelfOrReader) -> Response:
    """One absence of the worker."""
    row = session.get(WorkerAbsence, absence_id)
    if row is None or row.worker_id != worker_id:
        raise ProblemError(404, "not-found", "Not found", f"absence {absence_id} of worker {worker_id!r} does not exist")
    return json_answer(AbsencePublic.model_validate(row))


@router.delete(
    "/{worker_id}/absences/{absence_id}", operation_id="workers-delete-absence", name="workers-delete-absence",
    status_code=204, responses={**ERRORS, **NOT_FOUND},
)
def delete_absence(worker_id: str, absence_id: AbsenceId, session: DbSession, user: AbsenceWriter) -> Response:
    """Remove an absence (e.g. entered by mistake; admins and dispatchers); audited with what it was."""
    with domain_errors():
        catalog.delete_absence(session, user.username, worker_id, absence_id)
    return Response(status_code=204)
