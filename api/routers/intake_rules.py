"""Intake rules per service (``dispatch.catalog.intake_rules``): admins set them, everyone who enters or
plans requests reads them.  A service without rules has only "no dates in the past"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlmodel import Session, col

from api.deps import CurrentUser, get_session, require_roles
from api.schemas.care import IntakeRulePublic, IntakeRuleSet
from api.schemas.common import ERRORS, NOT_FOUND, domain_errors
from dispatch.catalog import intake_rules
from dispatch.storage.care_models import IntakeRule
from dispatch.catalog.records import NotFound
from dispatch.storage.models import Service, UserRole

router = APIRouter(prefix="/intake-rules", tags=["intake-rules"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]


@router.get("", operation_id="intake-rules-list", name="intake-rules-list", response_model=list[IntakeRulePublic],
            responses=ERRORS)
def list_rules(session: DbSession, user: Reader) -> list[IntakeRulePublic]:
    """The rules of every service in the catalogue (defaults for a service without stored rules)."""
    codes = session.scalars(select(Service.code).order_by(col(Service.code))).all()
    return [IntakeRulePublic.model_validate(intake_rules.rule_for(session, code)) for code in codes]


@router.get("/{service}", operation_id="intake-rules-get", name="intake-rules-get", response_model=IntakeRulePublic,
            responses={**ERRORS, **NOT_FOUND})
def get_rule(service: str, session: DbSession, user: Reader) -> IntakeRulePublic:
    with domain_errors():
        if session.get(Service, service) is None:
            raise NotFound("service", service)
        return IntakeRulePublic.model_validate(intake_rules.rule_for(session, service))


@router.put("/{service}", operation_id="intake-rules-set", name="intake-rules-set", response_model=IntakeRulePublic,
            responses={**ERRORS, **NOT_FOUND})
def set_rule(service: str, body: IntakeRuleSet, session: DbSession, user: Admin) -> IntakeRulePublic:
    """Replace the service's rules (audited): quotas per month and year, lead time in working days,
    service days and hours, cancellation deadline in working days, no dates in the past."""
    with domain_errors():
        row: IntakeRule = intake_rules.set_rule(session, user.username, service, body.model_dump())
    return IntakeRulePublic.model_validate(row)
