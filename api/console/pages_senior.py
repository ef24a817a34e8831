"""The coordinator's page of one senior: decisions with what is left of each budget, care plans, requests.

Why one page: a coordinator answering "can Mrs Mazur have another hour this week?" needs the
decision, what is booked against it and the plans and requests that book it side by side.  The
numbers come from ``dispatch.catalog.entitlements.remaining_budgets``, the same count the intake
rules refuse a request on; the plans from ``dispatch.catalog.care_plans`` (each line in the words
it was entered with); the requests link to the form that changes or cancels them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from api.clock import now_utc
from api.console import PREFIX
from api.console.guards import DbSession, PageNotFound, page_user
from api.console.session import ConsoleUser
from api.console.templating import render
from dispatch.catalog import care_plans
from dispatch.catalog.entitlements import decision_query, remaining_budgets
from dispatch.clock import local_today
from dispatch.storage import models as m
from dispatch.storage.care_models import Decision

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Coordinator = Annotated[ConsoleUser, Depends(page_user(m.UserRole.COORDINATOR, m.UserRole.ADMIN))]
#: Requests listed on the page (newest first date first); older ones are reached through the API.
REQUESTS_SHOWN = 100


@router.get("/seniors/{senior_id}", response_class=HTMLResponse)
def senior_page(request: Request, session: DbSession, user: Coordinator, senior_id: str,
                on: Annotated[dt.date | None, Query()] = None) -> HTMLResponse:
    """The senior's decisions (budgets in the period holding ``on``, default today), plans and requests."""
    senior = session.get(m.Senior, senior_id[:64])
    if senior is None:
        raise PageNotFound()
    day = on or local_today(now_utc(request), request.app.state.settings.timezone)
    budgets = {b.decision.id: b for b in remaining_budgets(session, senior.id, day)}
    decisions = list(session.scalars(decision_query(senior.id).order_by(
        col(Decision.service), col(Decision.valid_from), col(Decision.id))).all())
    plans = list(session.scalars(care_plans.plan_query(senior.id)).all())
    requests = list(session.scalars(select(m.VisitRequest).where(col(m.VisitRequest.senior_id) == senior.id)
                                    .order_by(col(m.VisitRequest.first_date).desc(), col(m.VisitRequest.id))
                                    .limit(REQUESTS_SHOWN)).all())
    services = {s.code: s for s in session.scalars(select(m.Service)).all()}
    return render(request, "senior.html", {
        "senior": senior, "on": day, "decisions": decisions, "budgets": budgets, "plans": plans,
        "line_text": care_plans.line_text, "requests": requests, "services": services,
        "requests_shown": REQUESTS_SHOWN,
    }, user)
