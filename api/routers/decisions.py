"""Decisions (entitlements): a senior's budget of hours or rides of a service per period.

Coordinators and admins write; dispatchers read too.  ``POST /decisions/import`` takes a
spreadsheet like the other imports (``dispatch.exchange.decision_import``): all rows or none, every
problem with its line and column, ``?dry_run=true`` to check only.  ``GET
/decisions/usage`` answers what a senior was granted and has booked of a service in a range
(``dispatch.catalog.entitlements``), the numbers the intake rules check and a report settles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sqlmodel import Session, col

from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.problems import ProblemError
from api.schemas.care import DecisionCreate, DecisionPublic, DecisionUpdate
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, ImportReport, Page, domain_errors
from dispatch.fields import SaneDate
from dispatch.exchange import decision_import
from dispatch.catalog import entitlements
from dispatch.exchange import imports
from dispatch.storage.care_models import Decision
from dispatch.storage.models import ID_LEN, UserRole

router = APIRouter(prefix="/decisions", tags=["decisions"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]
SORTS = {"id": col(Decision.id), "senior_id": col(Decision.senior_id), "valid_from": col(Decision.valid_from)}


class UsagePublic(BaseModel):
    """Granted and booked for one senior and service in ``[from, to]``."""

    senior_id: str
    service: str
    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")
    granted_hours: float = Field(description="hours granted by the decisions valid in the range, pro rata by days")
    granted_rides: float
    booked_hours: float = Field(description="on-site hours of the requests in the range (planned, not delivered)")
    booked_rides: int = Field(description="days with a booking (a ride = outbound + return on one day)")


@router.get("", operation_id="decisions-list", name="decisions-list", response_model=Page[DecisionPublic],
            responses=ERRORS)
def list_decisions(
    session: DbSession, user: Reader,
    senior_id: Annotated[str | None, Query(max_length=ID_LEN)] = None,
    service: Annotated[str | None, Query(max_length=ID_LEN)] = None,
    valid_on: Annotated[SaneDate | None, Query(description="only decisions valid on this day")] = None,
    sort: Annotated[str, sort_query(SORTS)] = "id",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[DecisionPublic]:
    """Decisions, filtered, one page at a time."""
    rows, next_cursor = paginate(
        session, entitlements.decision_query(senior_id, service, valid_on), id_column=col(Decision.id),
        allowed=SORTS, sort=parse_sort(sort, SORTS), limit=limit, cursor=cursor,
        filters={"senior_id": senior_id, "service": service, "valid_on": valid_on},
    )
    return Page[DecisionPublic](items=[DecisionPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/usage", operation_id="decisions-usage", name="decisions-usage", response_model=UsagePublic,
            responses=ERRORS)
def usage(
    session: DbSession, user: Reader,
    senior_id: Annotated[str, Query(max_length=ID_LEN)],
    service: Annotated[str, Query(max_length=ID_LEN)],
    start: Annotated[SaneDate, Query(alias="from")],
    end: Annotated[SaneDate, Query(alias="to")],
) -> UsagePublic:
    """Hours and rides granted to a senior for a service in ``[from, to]``, and booked by their requests."""
    if end < start:
        raise ProblemError(422, "validation-error", "Invalid input", "to is before from",
                           [{"field": "to", "message": f"{end} is before {start}"}])
    granted = entitlements.granted_in_period(session, senior_id, service, start, end)
    used = entitlements.used_in_period(session, senior_id, service, start, end)
    return UsagePublic(senior_id=senior_id, service=service, start=start, end=end, granted_hours=round(granted.hours, 2),
                       granted_rides=round(granted.rides, 2), booked_hours=round(used.minutes / 60, 2),
                       booked_rides=used.days)


@router.post("", operation_id="decisions-create", name="decisions-create", status_code=201,
             response_model=DecisionPublic, responses={**ERRORS, **CONFLICT})
def create_decision(body: DecisionCreate, request: Request, session: DbSession, user: Writer, idem: Idem) -> Response:
    """Enter a decision (201 with ``Location``); every broken rule is listed with its field."""
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = entitlements.create_decision(session, user.username, body.model_dump())
    out = DecisionPublic.model_validate(row).model_dump(mode="json")
    return idem.finish(201, out, request.url_for("decisions-get", decision_id=row.id).path)


_IMPORT_DOC = f"""Import decisions from a spreadsheet (coordinators and admins): CSV as Polish Excel saves it
(`;`, UTF-8 with or without BOM, dates as `01.12.2026`, decimal commas) or XLSX (first sheet).  All or
nothing: any bad cell answers 422 `import-invalid` listing every problem as `{{"row", "field", "message"}}`
(row = the line Excel shows); `?dry_run=true` checks and writes nothing.  Columns:

{imports.describe(decision_import.DECISION_COLUMNS)}"""


@router.post("/import", operation_id="decisions-import", name="decisions-import", status_code=201,
             response_model=ImportReport, responses={**ERRORS, 200: {"description": "dry run", "model": ImportReport}},
             description=_IMPORT_DOC)
def import_decisions(
    file: Annotated[UploadFile, File(description="a .csv (';'-separated) or .xlsx file")],
    session: DbSession, user: Writer, idem: Idem,
    dry_run: Annotated[bool, Query(description="check every row, write nothing")] = False,
) -> Response:
    content = file.file.read(imports.MAX_FILE_BYTES + 1)
    if len(content) > imports.MAX_FILE_BYTES:
        raise ProblemError(413, "payload-too-large", "File too large", "split the file")
    if (replay := idem.begin({"sha256": hashlib.sha256(content).hexdigest(), "filename": file.filename or ""})):
        return replay
    with domain_errors():
        result = decision_import.import_decisions(session, user.username, content, file.filename, dry_run=dry_run)
    report = ImportReport(kind=result.kind, dry_run=result.dry_run, rows=result.rows, created=result.created,
                          ids=result.ids)
    return idem.finish(200 if dry_run else 201, report.model_dump(mode="json"))


@router.get("/{decision_id}", operation_id="decisions-get", name="decisions-get", response_model=DecisionPublic,
            responses={**ERRORS, **NOT_FOUND})
def get_decision(decision_id: str, session: DbSession, user: Reader) -> DecisionPublic:
    with domain_errors():
        return DecisionPublic.model_validate(entitlements.get_decision(session, decision_id))


@router.patch("/{decision_id}", operation_id="decisions-update", name="decisions-update",
              response_model=DecisionPublic, responses={**ERRORS, **NOT_FOUND})
def update_decision(decision_id: str, body: DecisionUpdate, session: DbSession, user: Writer) -> DecisionPublic:
    """Change the fields sent (e.g. end a decision early with ``valid_to``); the whole record is re-checked."""
    with domain_errors():
        row = entitlements.update_decision(session, user.username, decision_id, body.model_dump(exclude_unset=True))
    return DecisionPublic.model_validate(row)


@router.delete("/{decision_id}", operation_id="decisions-delete", name="decisions-delete", status_code=204,
               responses={**ERRORS, **NOT_FOUND})
def delete_decision(decision_id: str, session: DbSession, user: Writer) -> Response:
    """Remove a decision entered by mistake (audited with what it was)."""
    with domain_errors():
        entitlements.delete_decision(session, user.username, decision_id)
    return Response(status_code=204)
