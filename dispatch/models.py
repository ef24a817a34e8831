"""The stored domain: SQLModel tables for places, people, requests, rosters, users and the audit log.

Field names match the fixture dataclasses in ``fixtures.scenario`` wherever the two overlap, and
enum columns give back the same ``str`` enums, so code that plans from a ``Scenario`` can plan
from rows too.  Where the scenario nests (``Senior.address``, ``VisitRequest.ride``,
``Worker.shifts``) the table is flat or related, and a read-only property rebuilds the
nested value.

Conventions:

* Domain entities keep the coordinator-facing string ids (``"S0001"``, ``"W012"``); rows the
  system creates (rosters, assignments, shifts, audit) get integer autoincrement ids.
* Instants are aware UTC (``UTCDateTime``); local wall-clock times (windows, shifts) are
  ``time`` columns interpreted in the roster time zone by ``dispatch.timeutil``.
* Lists (skills, needs, worker id lists, KPIs) are JSON: they are read whole, never queried.
* Constraint names follow ``NAMING_CONVENTION`` so Alembic's SQLite batch mode can drop them.

The ``XBase / X(table)`` split is used where API schemas will be cut from the same fields
later; API schemas themselves live in ``api/``.
"""

import datetime as dt
from enum import Enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Time, UniqueConstraint, text
from sqlmodel import Field, Relationship, SQLModel

from dispatch.db import UTCDateTime, ValueEnum
from fixtures.scenario import (
    Address,
    Contract,
    Disability,
    PlaceKind,
    Ride,
    ServiceCode,
    TravelMode,
    WorkerKind,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

ID_LEN = 32  # domain ids such as "S0001", "W012", "R00042"


class RequestStatus(str, Enum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class RosterStatus(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class UserRole(str, Enum):
    """Who may do what: coordinators enter requests, dispatchers plan and publish, workers
    read their own schedule, admins manage users."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    DISPATCHER = "dispatcher"
    WORKER = "worker"


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _enum(enum_class: type[Enum], *, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=ValueEnum(enum_class), nullable=nullable, index=index)


def _json(*, nullable: bool = False) -> Any:
    return Field(default_factory=list, sa_type=JSON, nullable=nullable)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- places, services, cars


class PlaceBase(SQLModel):
    kind: PlaceKind = _enum(PlaceKind)
    name: str = Field(max_length=200)
    lat: float
    lon: float
    note: str = Field(default="", max_length=500)


class Place(PlaceBase, table=True):
    """An area centroid, a gmina, an office or a ride destination."""

    __tablename__ = "places"
    id: str = Field(primary_key=True, max_length=ID_LEN)


class ServiceBase(SQLModel):
    name_pl: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    worker_kinds: list[str] = _json()  # WorkerKind values
    required_skills: list[str] = _json()
    default_duration: int = Field(gt=0)


class Service(ServiceBase, table=True):
    """One of the programme's services; its code is the key requests refer to."""

    __tablename__ = "services"
    code: ServiceCode = Field(primary_key=True, sa_type=ValueEnum(ServiceCode))


class CarBase(SQLModel):
    plate: str = Field(max_length=16, unique=True)
    seats: int = Field(ge=0)
    wheelchair_places: int = Field(default=0, ge=0)
    base_place: str = Field(foreign_key="places.id", max_length=ID_LEN)
    available_from: dt.time = Field(default=dt.time(6, 0), sa_type=Time)
    available_to: dt.time = Field(default=dt.time(22, 0), sa_type=Time)


class Car(CarBase, table=True):
    __tablename__ = "cars"
    __table_args__ = (CheckConstraint("available_to > available_from", name="available_order"),)
    id: str = Field(primary_key=True, max_length=ID_LEN)


# --------------------------------------------------------------------------- workers


class WorkerBase(SQLModel):
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    gender: str = Field(max_length=1)
    kind: WorkerKind = _enum(WorkerKind, index=True)
    skills: list[str] = _json()
    contract: Contract = _enum(Contract)
    weekly_hours: float = Field(ge=0)
    home_area: str = Field(foreign_key="places.id", max_length=ID_LEN)
    home_lat: float
    home_lon: float
    travel_mode: TravelMode = _enum(TravelMode)
    starts_at_office: bool = False
    max_daily_minutes: int = Field(default=480, gt=0)
    car_id: str | None = Field(default=None, foreign_key="cars.id", max_length=ID_LEN)


class Worker(WorkerBase, table=True):
    """A carer, specialist, assistant, driver or handyman."""

    __tablename__ = "workers"
    id: str = Field(primary_key=True, max_length=ID_LEN)
    shifts: list["WorkerShift"] = Relationship(
        sa_relationship_kwargs={
            "order_by": "[WorkerShift.weekday, WorkerShift.start]",
            "cascade": "all, delete-orphan",
            "lazy": "selectin",
        }
    )


class WorkerShift(SQLModel, table=True):
    """A worker's regular shift on one weekday (0 = Monday), local wall-clock time."""

    __tablename__ = "worker_shifts"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint('"end" > start', name="end_after_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str = Field(foreign_key="workers.id", index=True, max_length=ID_LEN, ondelete="CASCADE")
    weekday: int
    start: dt.time = Field(sa_type=Time)
    end: dt.time = Field(sa_type=Time)


class WorkerAbsence(SQLModel, table=True):
    """Leave, sickness or training: the worker is not planned on any day in [from_date, to_date]."""

    __tablename__ = "worker_absences"
    __table_args__ = (CheckConstraint("to_date >= from_date", name="date_order"),)
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str = Field(foreign_key="workers.id", index=True, max_length=ID_LEN, ondelete="CASCADE")
    from_date: dt.date
    to_date: dt.date
    reason: str = Field(default="", max_length=200)


# --------------------------------------------------------------------------- seniors


class SeniorBase(SQLModel):
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    gender: str = Field(max_length=1)
    birth_year: int
    street: str = Field(max_length=200)
    number: str = Field(max_length=20)
    flat: str | None = Field(default=None, max_length=20)
    postcode: str = Field(max_length=10)
    city: str = Field(max_length=100)
    area: str = Field(foreign_key="places.id", index=True, max_length=ID_LEN)
    lat: float
    lon: float
    phone: str = Field(default="", max_length=32)
    disability: Disability = _enum(Disability)
    lives_alone: bool = False
    wheelchair: bool = False
    mental_disorder: bool = False
    needs: list[str] = _json()  # ServiceCode values
    preferred_gender: str | None = Field(default=None, max_length=1)
    regular_workers: list[str] = _json()  # worker ids, continuity of care
    forbidden_workers: list[str] = _json()  # worker ids never to send
    notes_for_workers: str = ""
    # Special-category data (RODO art. 9): never shown to drivers or handymen.
    health_notes: str = ""


class Senior(SeniorBase, table=True):
    """A programme participant who receives visits or rides."""

    __tablename__ = "seniors"
    id: str = Field(primary_key=True, max_length=ID_LEN)

    @property
    def address(self) -> Address:
        """The address as the fixture ``Address``, so ``senior.address.line()`` works on rows too."""
        return Address(street=self.street, number=self.number, postcode=self.postcode, city=self.city, flat=self.flat)


# --------------------------------------------------------------------------- visit requests


class VisitRequestBase(SQLModel):
    senior_id: str = Field(foreign_key="seniors.id", index=True, max_length=ID_LEN)
    service: ServiceCode = Field(foreign_key="services.code", sa_type=ValueEnum(ServiceCode), index=True)
    first_date: dt.date
    window_start: dt.time = Field(sa_type=Time)
    window_end: dt.time = Field(sa_type=Time)  # latest start
    duration: int = Field(gt=0)  # minutes on site
    rrule: str | None = Field(default=None, max_length=500)  # RFC 5545 RRULE, no DTSTART
    until: dt.date | None = None
    required_skills: list[str] = _json()
    workers_needed: int = Field(default=1, ge=1)
    priority: int = Field(default=3, ge=1, le=5)
    mandatory: bool = False
    soft_window: bool = False
    max_lateness: int = Field(default=0, ge=0)
    # Ride (senior taxi) fields: all None unless the request is a ride.
    destination_place_id: str | None = Field(default=None, foreign_key="places.id", max_length=ID_LEN)
    appointment: dt.time | None = Field(default=None, sa_type=Time)
    appointment_minutes: int | None = None
    return_trip: bool | None = None
    return_on_call: bool | None = None
    escort: bool | None = None
    # The centre's personal assistant accompanies the senior (usługi asystenckie: "accompanying
    # outings, doctor, office"): a second worker, one more seat.  ``escort`` is a companion of
    # the senior's own (family), one seat and nobody to plan.
    assistant: bool | None = None
    wheelchair: bool | None = None
    purpose: str | None = Field(default=None, max_length=32)
    follows_request_id: str | None = Field(default=None, foreign_key="visit_requests.id", max_length=ID_LEN)
    follow_min_delay: int = Field(default=0, ge=0)
    follow_max_delay: int | None = None
    tasks: str = ""
    status: RequestStatus = Field(default=RequestStatus.ACTIVE, sa_type=ValueEnum(RequestStatus), index=True)


class VisitRequest(VisitRequestBase, table=True):
    """A coordinator's request: one-off (``rrule`` None) or recurring from ``first_date``."""

    __tablename__ = "visit_requests"
    __table_args__ = (
        CheckConstraint("window_end >= window_start", name="window_order"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("workers_needed >= 1", name="workers_needed_positive"),
        CheckConstraint("until IS NULL OR until >= first_date", name="until_order"),
    )
    id: str = Field(primary_key=True, max_length=ID_LEN)

    @property
    def follows(self) -> str | None:
        """Alias with the fixture's name for ``follows_request_id``."""
        return self.follows_request_id

    @property
    def ride(self) -> Ride | None:
        """The fixture ``Ride`` rebuilt from the flat ride columns, or None for a non-ride request."""
        if self.destination_place_id is None or self.appointment is None:
            return None
        return Ride(
            destination=self.destination_place_id,
            appointment=self.appointment,
            appointment_minutes=self.appointment_minutes or 0,
            return_trip=bool(self.return_trip) if self.return_trip is not None else True,
            return_on_call=bool(self.return_on_call),
            escort=bool(self.escort),
            assistant=bool(self.assistant),
            wheelchair=bool(self.wheelchair),
            purpose=self.purpose or "medical",
        )


# --------------------------------------------------------------------------- rosters


class Roster(SQLModel, table=True):
    """One version of the plan for a day (and optionally one area); published versions are immutable."""

    __tablename__ = "rosters"
    __table_args__ = (
        # One version number per (day, area); the partial index covers the city-wide roster (area
        # NULL), which a plain UNIQUE would not, since NULLs never compare equal.
        UniqueConstraint("date", "area", "version", name="uq_rosters_date_area_version"),
        Index(
            "uq_rosters_date_version_citywide",
            "date",
            "version",
            unique=True,
            sqlite_where=text("area IS NULL"),
            postgresql_where=text("area IS NULL"),
        ),
        Index("ix_rosters_date_status", "date", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    date: dt.date
    area: str | None = Field(default=None, foreign_key="places.id", max_length=ID_LEN)
    version: int = Field(default=1, ge=1)
    status: RosterStatus = Field(default=RosterStatus.DRAFT, sa_type=ValueEnum(RosterStatus))
    created_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)
    objective: float | None = None
    kpis: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    solver_stats: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class RosterAssignment(SQLModel, table=True):
    """One planned visit (or ride leg) of one worker in a roster, in route order (``sequence``)."""

    __tablename__ = "roster_assignments"
    __table_args__ = (Index("ix_roster_assignments_roster_worker", "roster_id", "worker_id", "sequence"),)
    id: int | None = Field(default=None, primary_key=True)
    roster_id: int = Field(foreign_key="rosters.id", ondelete="CASCADE")
    worker_id: str = Field(foreign_key="workers.id", index=True, max_length=ID_LEN)
    shift_index: int = 0
    visit_request_id: str = Field(foreign_key="visit_requests.id", index=True, max_length=ID_LEN)
    occurrence_date: dt.date
    sequence: int
    arrival: dt.datetime = Field(sa_type=UTCDateTime)
    start: dt.datetime = Field(sa_type=UTCDateTime)
    end: dt.datetime = Field(sa_type=UTCDateTime)
    travel_minutes: int = 0
    waiting_minutes: int = 0
    leg: str | None = Field(default=None, max_length=16)
    """visit | pickup | dropoff | return_pickup | return_dropoff | escort (``dispatch.ride_legs``);
    None on rows planned before legs were stored (then derived from the appointment time)."""


class RosterUnassigned(SQLModel, table=True):
    """A request occurrence the roster could not place, with a reason a coordinator can act on."""

    __tablename__ = "roster_unassigned"
    id: int | None = Field(default=None, primary_key=True)
    roster_id: int = Field(foreign_key="rosters.id", index=True, ondelete="CASCADE")
    visit_request_id: str = Field(foreign_key="visit_requests.id", index=True, max_length=ID_LEN)
    reason: str = Field(max_length=64)  # stable reason code, e.g. "no_skilled_worker"
    message_en: str = ""
    message_pl: str = ""
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


# --------------------------------------------------------------------------- users and audit


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True)
    password_hash: str = Field(max_length=255)
    role: UserRole = Field(sa_type=ValueEnum(UserRole))
    worker_id: str | None = Field(default=None, foreign_key="workers.id", max_length=ID_LEN, ondelete="SET NULL")
    active: bool = True
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Raised by a password reset: tokens carry the version they were issued under."""


class AuditLog(SQLModel, table=True):
    """Append-only record of who changed (or read, for health fields) what and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=64)
    entity_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class IdempotencyKey(SQLModel, table=True):
    """A creating POST already answered: a retry with the same key gets the same answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("username", "key", name="uq_idempotency_user_key"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    key: str = Field(max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    location: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)


class PlanJob(SQLModel, table=True):
    """A background planning run for a day (and area); never left "running" after it dies."""

    __tablename__ = "plan_jobs"
    __table_args__ = (Index("ix_plan_jobs_date_status", "date", "status"),)
    id: str = Field(primary_key=True, max_length=36)
    date: dt.date
    area: str | None = Field(default=None, foreign_key="places.id", max_length=ID_LEN)
    status: JobStatus = Field(default=JobStatus.QUEUED, sa_type=ValueEnum(JobStatus))
    time_limit_s: float = 10.0
    progress: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str | None = Field(default=None, max_length=2000)
    roster_id: int | None = Field(default=None, foreign_key="rosters.id")
    cancel_requested: bool = False
    created_by: str = Field(max_length=100)
    created_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)
    started_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    runner_pid: int | None = None


class CalendarToken(SQLModel, table=True):
    """A secret calendar-feed URL of one worker; only its hash is stored, and it can be revoked."""

    __tablename__ = "calendar_tokens"
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str = Field(foreign_key="workers.id", index=True, max_length=ID_LEN, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


#: Tables holding scenario data, in insertion order (parents first).
SCENARIO_TABLES: tuple[type[SQLModel], ...] = (
    Place, Service, Car, Worker, WorkerShift, WorkerAbsence, Senior, VisitRequest
)
#: Tables derived from scenario data by planning, in insertion order.
ROSTER_TABLES: tuple[type[SQLModel], ...] = (Roster, RosterAssignment, RosterUnassigned)

__all__ = [
    "AuditLog",
    "CalendarToken",
    "IdempotencyKey",
    "JobStatus",
    "PlanJob",
    "Car",
    "CarBase",
    "NAMING_CONVENTION",
    "Place",
    "PlaceBase",
    "RequestStatus",
    "ROSTER_TABLES",
    "Roster",
    "RosterAssignment",
    "RosterStatus",
    "RosterUnassigned",
    "SCENARIO_TABLES",
    "Senior",
    "SeniorBase",
    "Service",
    "ServiceBase",
    "User",
    "UserRole",
    "VisitRequest",
    "VisitRequestBase",
    "Worker",
    "WorkerAbsence",
    "WorkerBase",
    "WorkerShift",
]
