"""A senior's absences (hospital, holiday): no care-plan visits on those days.

Coordinators and admins write, dispatchers read (``dispatch.catalog.senior_absences``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session

from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.schemas.care import SeniorAbsenceCreate, SeniorAbsencePublic
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, domain_errors
from api.schemas.types import int_id_path
from dispatch.catalog import senior_absences
from dispatch.storage.models import UserRole

router = APIRouter(prefix="/seniors", tags=["seniors"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]
AbsenceId = Annotated[int, int_id_path("the absence's id")]


@router.get("/{senior_id}/absences", operation_id="seniors-list-absences", name="seniors-list-absences",
            response_model=list[SeniorAbsencePublic], responses={**ERRORS, **NOT_FOUND})
def list_absences(senior_id: str, session: DbSession, user: Reader) -> list[SeniorAbsencePublic]:
    """The senior's absences by start date."""
    with domain_errors():
        return [SeniorAbsencePublic.model_validate(a) for a in senior_absences.list_absences(session, senior_id)]


@router.post("/{senior_id}/absences", operation_id="seniors-create-absence", name="seniors-create-absence",
             status_code=201, response_model=SeniorAbsencePublic, responses={**ERRORS, **NOT_FOUND, **CONFLICT})
def create_absence(senior_id: str, body: SeniorAbsenceCreate, request: Request, session: DbSession, user: Writer,
                   idem: Idem) -> Response:
    """Record a hospital stay or holiday; overlapping absences are refused (409)."""
    if (replay := idem.begin(body.model_dump(mode="json"))) is not None:
        return replay
    with domain_errors():
        row = senior_absences.create_absence(session, user.username, senior_id, body.model_dump())
    return idem.finish(201, SeniorAbsencePublic.model_validate(row).model_dump(mode="json"),
                       str(request.url_for("seniors-list-absences", senior_id=senior_id).path))


@router.delete("/{senior_id}/absences/{absence_id}", operation_id="seniors-delete-absence",
               name="seniors-delete-absence", status_code=204, responses={**ERRORS, **NOT_FOUND})
def delete_absence(senior_id: str, absence_id: AbsenceId, session: DbSession, user: Writer) -> Response:
    """Remove an absence entered by mistake (audited)."""
    with domain_errors():
        senior_absences.delete_absence(session, user.username, senior_id, absence_id)
    return Response(status_code=204)
