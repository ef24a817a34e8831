"""Reports: hours and rides granted, planned, delivered and left (issue 17 item 4).

Coordinators and admins settle the month with the city from it; dispatchers read it too (they
already read rosters and decisions, and see who is short of their norm when planning).  Workers do
not (other workers' hours and seniors' budgets are not theirs to see).  No health data.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from api.deps import CurrentUser, get_session, require_roles
from api.schemas.common import ERRORS, domain_errors
from dispatch.exchange import hours_report
from dispatch.fields import DATE_DOC, SaneDate
from dispatch.storage import models as m

router = APIRouter(prefix="/reports", tags=["reports"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Reader = Annotated[
    CurrentUser, Depends(require_roles(m.UserRole.COORDINATOR, m.UserRole.ADMIN, m.UserRole.DISPATCHER))
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/hours", operation_id="reports-hours", responses={
    **ERRORS, 200: {"content": {"application/json": {}, "text/csv": {}, XLSX: {}},
                    "description": "the report as JSON, CSV (`;`, UTF-8 with BOM, decimal comma) or XLSX"}})
def hours(
    request: Request,
    session: DbSession,
    user: Reader,
    from_date: Annotated[SaneDate, Query(alias="from", description=f"first day (local); {DATE_DOC}")],
    to_date: Annotated[SaneDate, Query(alias="to", description="last day, inclusive (at most 366 days)")],
    by: Annotated[Literal["senior", "worker", "service"], Query(description="one row per senior and service, "
                                                                           "per service, or per worker")] = "senior",
    format: Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")] = "json",
) -> Any:
    """Per senior (or service) and unit: hours or rides **granted** (decisions, pro rata by days),
    **planned** (published rosters), **delivered** (check-ins finished as delivered, actual minutes),
    **not_delivered** (absent or refused) and **left** (granted - delivered).  Per worker: the **norm**
    (weekly_hours x days / 7), planned hours on site and travel, delivered hours, and delivered - norm.
    Dates are local and inclusive; a DST day counts the hours it really has."""
    with domain_errors():
        report = hours_report.hours_report(session, from_date, to_date, by, request.app.state.settings.timezone)
    if format == "json":
        return report.to_json()
    content = hours_report.to_xlsx(report) if format == "xlsx" else hours_report.to_csv(report)
    media = XLSX if format == "xlsx" else "text/csv; charset=utf-8"
    return Response(content, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{hours_report.filename(report, format)}"'})
