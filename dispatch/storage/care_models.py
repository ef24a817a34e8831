"""Stored care decisions: seniors' absences, entitlements (decisions), care plans, intake rules.

What a Polish social-services centre decides on paper (domain.md 1.3: "MOPR decision after a
family interview sets scope, period, place and fee"; 1.1: the taxi's quotas and lead time) as
tables, in the ``XBase`` / ``X(table=True)`` family: field rules live in the base, API bodies
(``XCreate``/``XUpdate``/``XPublic``) are cut from it in ``api/schemas/care.py``.

* ``SeniorAbsence``: the senior is away (hospital, holiday): a care plan creates no visits then.
* ``Decision``: per senior and service, a budget of hours or rides per day/week/month/year,
  valid from-to, with the decision's reference number ("MOPR-OP.8221.123.2026").
* ``CarePlan`` with ``CarePlanLine`` rows ("Mon-Fri 07:30-09:00 hygiene 60 min"), expanded into
  visit requests; ``CarePlanVisit`` remembers which request each (line, date) became, which makes
  expanding twice create nothing new.
* ``IntakeRule``: one row per service of the rules every submission is checked against
  (``dispatch.catalog.intake_rules``).
* ``RequestCancellation``: when a request was cancelled and up to which date its occurrences
  still count against the quota (a late cancellation counts, domain.md 1.1).

Tables are registered with ``SQLModel.metadata`` by ``dispatch.storage.models`` (imported at its end).
"""


import datetime as dt
from enum import Enum

from sqlalchemy import JSON, CheckConstraint, Index, Time, UniqueConstraint, false, text
from sqlmodel import Field, Relationship, SQLModel

from dispatch.fields import LocalTime
from dispatch.storage.db import UTCDateTime, ValueEnum
from dispatch.clock import system_clock
from dispatch.fields import ID_LEN

#: Longest decision reference number ("MOPR-OP.8221.123.2026" is 21).
REFERENCE_LEN = 100


class BudgetUnit(str, Enum):
    """What a decision grants: hours of a visit service, or rides (a ride = outbound + return on one day)."""

    HOURS = "hours"
    RIDES = "rides"


class BudgetPeriod(str, Enum):
    """The calendar period a budget is granted per (a week runs Monday to Sunday)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


# --------------------------------------------------------------------------- absences


class SeniorAbsenceBase(SQLModel):
    from_date: dt.date
    to_date: dt.date
    reason: str = Field(default="", max_length=200)
    """E.g. "hospital", "holiday at the daughter's" (domain.md 1.3: no visits while in hospital)."""


class SeniorAbsence(SeniorAbsenceBase, table=True):
    """The senior is away on every day of [from_date, to_date]: a care plan creates no visits then."""

    __tablename__ = "senior_absences"
    __table_args__ = (CheckConstraint("to_date >= from_date", name="date_order"),)
    id: int | None = Field(default=None, primary_key=True)
    senior_id: str = Field(foreign_key="seniors.id", index=True, max_length=ID_LEN, ondelete="CASCADE")


# --------------------------------------------------------------------------- decisions


class DecisionBase(SQLModel):
    senior_id: str = Field(foreign_key="seniors.id", index=True, max_length=ID_LEN)
    service: str = Field(foreign_key="services.code", index=True, max_length=ID_LEN)
    reference: str = Field(min_length=1, max_length=REFERENCE_LEN)
    unit: BudgetUnit = Field(sa_type=ValueEnum(BudgetUnit))
    amount: float = Field(gt=0, le=100_000)
    """Hours (decimal: 1.5 is 90 minutes) or rides granted per ``period``."""
    period: BudgetPeriod = Field(sa_type=ValueEnum(BudgetPeriod))
    valid_from: dt.date
    valid_to: dt.date
    note: str = Field(default="", max_length=500)


class Decision(DecisionBase, table=True):
    """A centre's decision: what a senior is entitled to of one service, per period, for a validity range."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("valid_to >= valid_from", name="validity_order"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )
    id: str = Field(primary_key=True, max_length=ID_LEN)


# --------------------------------------------------------------------------- care plans


class CarePlanBase(SQLModel):
    senior_id: str = Field(foreign_key="seniors.id", index=True, max_length=ID_LEN)
    service: str = Field(foreign_key="services.code", max_length=ID_LEN)
    valid_from: dt.date
    valid_to: dt.date
    skip_public_holidays: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """No visits on Polish public holidays (domain.md 1.3, Końskie: "not on holidays")."""
    note: str = Field(default="", max_length=500)


class CarePlan(CarePlanBase, table=True):
    """A senior's regular visits of one service, line by line, for a validity range."""

    __tablename__ = "care_plans"
    __table_args__ = (CheckConstraint("valid_to >= valid_from", name="validity_order"),)
    id: str = Field(primary_key=True, max_length=ID_LEN)
    lines: list["CarePlanLine"] = Relationship(
        sa_relationship_kwargs={"order_by": "CarePlanLine.id", "cascade": "all, delete-orphan", "lazy": "selectin"}
    )


class CarePlanLineBase(SQLModel):
    weekdays: list[int] = Field(default_factory=list, sa_type=JSON)
    """0 = Monday ... 6 = Sunday."""
    start: dt.time = Field(sa_type=Time)
    end: dt.time = Field(sa_type=Time)
    """The visit happens between ``start`` and ``end`` (local): its latest start is ``end - duration``."""
    duration: int = Field(gt=0, le=720)
    tasks: str = Field(default="", max_length=500)


class CarePlanLine(CarePlanLineBase, table=True):
    """One line of a care plan: "Mon-Fri 07:30-09:00 hygiene 60 min"."""

    __tablename__ = "care_plan_lines"
    __table_args__ = (CheckConstraint('"end" > start', name="end_after_start"),)
    id: int | None = Field(default=None, primary_key=True)
    care_plan_id: str = Field(foreign_key="care_plans.id", index=True, max_length=ID_LEN, ondelete="CASCADE")


class CarePlanVisit(SQLModel, table=True):
    """The visit request a care-plan line became on one date (what makes expansion idempotent)."""

    __tablename__ = "care_plan_visits"
    __table_args__ = (UniqueConstraint("line_id", "date", name="uq_care_plan_visits_line_date"),)
    id: int | None = Field(default=None, primary_key=True)
    line_id: int = Field(foreign_key="care_plan_lines.id", ondelete="CASCADE")
    date: dt.date
    visit_request_id: str = Field(foreign_key="visit_requests.id", index=True, max_length=ID_LEN)


# --------------------------------------------------------------------------- intake rules


class IntakeRuleBase(SQLModel):
    month_quota: int | None = Field(default=None, ge=0, le=1000)
    """Days with a booking per senior per calendar month (taxi: 2 rides, a ride = outbound + return on one day)."""
    year_quota: int | None = Field(default=None, ge=0, le=10_000)
    """The same per calendar year (taxi: 6)."""
    lead_working_days: int | None = Field(default=None, ge=0, le=60)
    """Book at least this many working days ahead (taxi: 3; weekends and Polish public holidays excluded)."""
    service_days: list[int] | None = Field(default=None, sa_type=JSON)
    """Weekdays the service runs (0 = Monday); None: every day."""
    service_from: LocalTime | None = Field(default=None, sa_type=Time)
    """The service runs from this local time (taxi 06:00) ..."""
    service_to: LocalTime | None = Field(default=None, sa_type=Time)
    """... to this one (taxi 20:00): a visit ends, a ride's return starts, by then."""
    cancel_working_days: int | None = Field(default=None, ge=0, le=60)
    """Cancel at least this many working days before (taxi: 1); later, the booking still counts."""
    no_past: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    """Refuse dates before today (every service)."""


class IntakeRule(IntakeRuleBase, table=True):
    """The intake rules of one service; a service without a row has only ``no_past``."""

    __tablename__ = "intake_rules"
    service: str = Field(foreign_key="services.code", primary_key=True, max_length=ID_LEN, ondelete="CASCADE")


class RequestCancellation(SQLModel, table=True):
    """When a request was cancelled, and up to which date its occurrences still count (quota, budget)."""

    __tablename__ = "request_cancellations"
    __table_args__ = (Index("ix_request_cancellations_counts_until", "counts_until"),)
    visit_request_id: str = Field(foreign_key="visit_requests.id", primary_key=True, max_length=ID_LEN)
    cancelled_at: dt.datetime = Field(default_factory=system_clock, sa_type=UTCDateTime)
    counts_until: dt.date | None = None
    """Occurrences on or before this date still count: past ones happened, late-cancelled ones are charged."""
    late: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


#: Tables that refer to scenario data, children first (deleted before a scenario is replaced).
CARE_TABLES: tuple[type[SQLModel], ...] = (
    CarePlanVisit, CarePlanLine, CarePlan, Decision, SeniorAbsence, IntakeRule, RequestCancellation
)
