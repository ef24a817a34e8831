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

Base models (the ``XBase / X(table) / XCreate / XPublic`` pattern of full-stack-fastapi-template):
every record the API writes -- ``PlaceBase``, ``CarBase``, ``UserBase``, ``ServiceBase``,
``SeniorBase`` (with ``SeniorHealth``), ``WorkerBase``, ``VisitRequestBase`` -- holds its fields
*with the API's per-field rules* (lengths, ranges, patterns, local times, sane dates,
descriptions), and both the table and the API bodies (``api.schemas.places``, ``cars``,
``users``, ``services``, ``seniors``, ``workers``, ``requests``) are cut from it, so a rule is
written once.  A table model does not validate when built; the rules bind what the API parses.
Where the API shape differs from the row, the API schema adds or retypes only that field, as the
template's ``UserCreate`` adds ``password``:

* users: ``UserCreate`` adds the password (the row holds only its hash), ``UserPublic`` adds ``active``;
* seniors: the health fields (``disability``, ``mental_disorder``, ``health_notes``) are ``SeniorHealth``, added by the table, ``SeniorCreate`` and
  ``SeniorHealthRead`` but not ``SeniorPublic``; ``SeniorCreate`` lets the coordinates be left
  out to be geocoded and takes ``gender_rule`` as optional (its default depends on
  ``preferred_gender``); the API sends ``gender_rule`` as a plain string;
* workers: ``WorkerCreate`` adds the weekly shifts (a related table, sent inline) and the home
  address (sent only to geocode the home, never stored);
* services: the API parses ``worker_kinds`` as ``WorkerKind`` values, the row keeps them as JSON text;
* visit requests: extra windows are JSON dicts in the row and typed windows in the API;
  ``duration`` and ``mandatory`` may be left out of a body (the service's defaults, filled in by
  ``dispatch.catalog.requests``); ``status`` belongs to the table and the answer, not the body;
  cross-field rules stay in ``dispatch.catalog.requests.prepare``.

Where a rule's column would differ (a text limit the column never had, a ``Literal`` type),
``sa_type`` keeps the column as it was: the rule binds the API, and the schema does not change.
Updates (``XUpdate``) stay all-optional copies in ``api.schemas``: each field there repeats the
base's rule with ``None`` allowed.
"""

import datetime as dt
from enum import Enum
from typing import Any, Literal

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Time, UniqueConstraint, false, text
from sqlmodel import AutoString, Field, Relationship, SQLModel

from dispatch.domain import (  # the vocabulary (dispatch.domain); m.UserRole etc. stay reachable from here
    Address,
    Contract,
    Disability,
    GenderRule,
    JobStatus,
    PlaceKind,
    RequestStatus,
    Ride,
    RosterStatus,
    ServiceKind,
    ThrottleKind,
    TravelMode,
    UserRole,
    WorkerKind,
)
from dispatch.fields import DATE_DOC, ID_LEN, LOCAL_TIME_DOC, SaneDate, POSTCODE_PATTERN, USERNAME_PATTERN, USERNAME_RULE, LocalTime, ServiceRef, Skills, WorkerRefs
from dispatch.limits import MAX_FOLLOW_DELAY_MINUTES, MAX_NEEDS, MAX_TASKS_LENGTH, MAX_VISIT_MINUTES, MAX_WORK_MINUTES_PER_DAY
from dispatch.storage.db import UTCDateTime, ValueEnum

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION



def _enum(enum_class: type[Enum], *, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=ValueEnum(enum_class), nullable=nullable, index=index)


def _json(*, nullable: bool = False, server_default: str | None = None) -> Any:
    kwargs = {"server_default": server_default} if server_default is not None else {}
    return Field(default_factory=list, sa_type=JSON, nullable=nullable, sa_column_kwargs=kwargs)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- places, services, cars


class PlaceBase(SQLModel):
    """A place's fields and their rules, once: the table below and the API's bodies
    (``api.schemas.places``) are cut from it."""

    kind: PlaceKind = Field(sa_type=ValueEnum(PlaceKind), nullable=False, description="area, gmina, office or destination")
    name: str = Field(min_length=1, max_length=200)
    # The address, as a senior's (``SeniorBase``): what a place was located from, empty for an
    # area's centroid or a gmina given by coordinates only.
    street: str | None = Field(default=None, min_length=1, max_length=200, description="e.g. Studzienna")
    number: str | None = Field(default=None, min_length=1, max_length=20, description="house number, e.g. 2 or 12a")
    postcode: str | None = Field(default=None, max_length=10, schema_extra={"pattern": POSTCODE_PATTERN},
                                 description="Polish format, e.g. 25-544")
    city: str | None = Field(default=None, min_length=1, max_length=100, description="needed for a lookup")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    note: str = Field(default="", max_length=500)


class Place(PlaceBase, table=True):
    """An area centroid, a gmina, an office or a ride destination."""

    __tablename__ = "places"
    id: str = Field(primary_key=True, max_length=ID_LEN)


class ServiceBase(SQLModel):
    """A service's fields and their rules, once: the table below and the API's bodies
    (``api.schemas.services``) are cut from it.  ``worker_kinds`` is the one field whose API type
    differs: the row keeps the ``WorkerKind`` values as JSON text, the API parses them as the enum
    (``ServiceCreate`` narrows the field; its rule, one kind at least, lives there)."""

    name_pl: str = Field(min_length=1, max_length=200, description="e.g. Usługi opiekuńcze")
    name_en: str = Field(min_length=1, max_length=200, description="e.g. Home care")
    worker_kinds: list[str] = _json()  # WorkerKind values
    required_skills: Skills = Field(default_factory=list, sa_type=JSON, nullable=False,
                                    description="added to every request of the service")
    default_duration: int = Field(ge=1, le=MAX_VISIT_MINUTES, description="minutes on site when a request gives none")
    intimate_care: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")},
                                description="care of the body (washing, dressing, toileting): a senior whose "
                                            "gender_rule is require gets it only from a worker of the preferred gender")
    """Care of the body (washing, dressing, toileting): a senior whose gender rule is ``require``
    gets it only from a worker of the preferred gender."""
    kind: ServiceKind = Field(default=ServiceKind.VISIT, sa_type=ValueEnum(ServiceKind, length=16),
                              sa_column_kwargs={"server_default": ServiceKind.VISIT.value},
                              description="visit (at the senior's home) or ride (the senior taxi: destination, "
                                          "appointment, pickup and drop-off legs)")
    """A ride (the taxi) has the ride fields and is planned as pickup and drop-off legs."""
    working_days_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()},
                                    description="runs Monday to Friday except public holidays "
                                                "(taxi, handyman): other days are not planned")
    """Runs Monday to Friday except public holidays (the taxi, the handyman): occurrences of its
    requests on other days are dropped (``dispatch.catalog.recurrence``)."""
    mandatory: bool = Field(default=False, sa_column_kwargs={"server_default": false()},
                            description="the default of a new request's mandatory")
    """The default of ``mandatory`` for a new request of this service."""


class Service(ServiceBase, table=True):
    """One of the centre's services; its code (an id a centre chooses) is the key requests refer to."""

    __tablename__ = "services"
    code: str = Field(primary_key=True, max_length=ID_LEN)


class CarBase(SQLModel):
    """A car's fields and their rules, once: the table below and the API's bodies
    (``api.schemas.cars``: ``CarCreate``, ``CarPublic``) are cut from it."""

    plate: str = Field(min_length=2, max_length=16, unique=True, description="registration plate, e.g. TK 12345")
    seats: int = Field(ge=0, le=50, description="passenger seats")
    wheelchair_places: int = Field(default=0, ge=0, le=10)
    base_place: str = Field(foreign_key="places.id", max_length=ID_LEN,
                            description="place id where the car is kept (an office)")
    available_from: LocalTime = Field(default=dt.time(6, 0), sa_type=Time, description=LOCAL_TIME_DOC)
    available_to: LocalTime = Field(default=dt.time(22, 0), sa_type=Time,
                                    description=f"{LOCAL_TIME_DOC}; after available_from")


class Car(CarBase, table=True):
    __tablename__ = "cars"
    __table_args__ = (CheckConstraint("available_to > available_from", name="available_order"),)
    id: str = Field(primary_key=True, max_length=ID_LEN)


# --------------------------------------------------------------------------- workers


Gender = Literal["F", "M"]
"""A person's gender as the centre records it (a senior's, a preferred worker's)."""
_GENDER_COLUMN = AutoString(length=1)  # the column stays VARCHAR(1) whatever the API type


class WorkerBase(SQLModel):
    """A worker's fields and their rules, once: the table below and the API's bodies
    (``api.schemas.workers``: ``WorkerCreate``, ``WorkerPublic``) are cut from it.  Left out: the
    weekly shifts (a related table, sent inline) and the home address (sent only to geocode the
    home, never stored), which ``WorkerCreate`` adds; it also lets home_lat/home_lon be left out."""

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    gender: Gender = Field(sa_type=_GENDER_COLUMN, nullable=False)
    kind: WorkerKind = _enum(WorkerKind, index=True)
    skills: Skills = Field(default_factory=list, sa_type=JSON, nullable=False,
                           description="e.g. community_carer, driving_licence_b")
    contract: Contract = _enum(Contract)
    weekly_hours: float = Field(ge=0, le=60)
    home_area: str = Field(foreign_key="places.id", max_length=ID_LEN, description="place id")
    home_lat: float = Field(ge=-90, le=90)
    home_lon: float = Field(ge=-180, le=180)
    travel_mode: TravelMode = _enum(TravelMode)
    starts_at_office: bool = False
    max_daily_minutes: int = Field(default=480, ge=1, le=MAX_WORK_MINUTES_PER_DAY)
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
    """A senior's fields and their rules, once: the table below and the API's bodies
    (``api.schemas.seniors``: ``SeniorCreate``, ``SeniorPublic``) are cut from it.

    Left out: ``disability``, ``mental_disorder`` and ``health_notes`` (``SeniorHealth``: the table, ``SeniorCreate`` and ``SeniorHealthRead``
    add it, ``SeniorPublic`` does not).  ``gender_rule`` is the enum here; the API sends it as a
    plain string and takes it as optional (its default depends on ``preferred_gender``), so
    ``SeniorCreate`` and ``SeniorPublic`` retype it; ``SeniorCreate`` lets lat/lon be left out
    to be geocoded.
    """

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    gender: Gender = Field(sa_type=_GENDER_COLUMN, nullable=False)
    birth_year: int = Field(ge=1900, le=2100)
    street: str = Field(min_length=1, max_length=200)
    number: str = Field(min_length=1, max_length=20)
    flat: str | None = Field(default=None, max_length=20)
    postcode: str = Field(max_length=10, schema_extra={"pattern": POSTCODE_PATTERN}, description="Polish format, e.g. 25-001")
    city: str = Field(min_length=1, max_length=100)
    area: str = Field(foreign_key="places.id", index=True, max_length=ID_LEN,
                      description="place id of the senior's area or gmina")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    phone: str = Field(default="", max_length=32)
    lives_alone: bool = False
    wheelchair: bool = Field(default=False, description="the taxi needs a car and time for it: shown to dispatchers")
    needs: list[ServiceRef] = Field(default_factory=list, max_length=MAX_NEEDS, sa_type=JSON, nullable=False)
    preferred_gender: Gender | None = Field(default=None, sa_type=_GENDER_COLUMN)
    gender_rule: GenderRule = Field(default=GenderRule.NONE, sa_type=ValueEnum(GenderRule),
                                    sa_column_kwargs={"server_default": GenderRule.NONE.value})
    regular_workers: WorkerRefs = Field(default_factory=list, sa_type=JSON, nullable=False,
                                        description="worker ids, continuity of care")
    forbidden_workers: WorkerRefs = Field(default_factory=list, sa_type=JSON, nullable=False,
                                          description="worker ids never to send")
    notes_for_workers: str = Field(default="", max_length=2000, sa_type=AutoString,
                                   description="e.g. access notes; shown to workers")


class SeniorHealth(SQLModel):
    """Special-category data (RODO art. 9): the disability grade, a mental disorder and the health
    notes.  Never in lists or in the answers dispatchers and workers get; read one senior at a time
    by ``GET /seniors/{id}/health?purpose=...`` (coordinators and admins), each read audited with its
    purpose (``dispatch.catalog.senior_privacy``)."""

    disability: Disability = _enum(Disability)
    mental_disorder: bool = False
    health_notes: str = Field(default="", max_length=4000, sa_type=AutoString,
                              description="special-category data (RODO art. 9)")


class Senior(SeniorBase, SeniorHealth, table=True):
    """A programme participant who receives visits or rides."""

    __tablename__ = "seniors"
    id: str = Field(primary_key=True, max_length=ID_LEN)
    erased_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the senior's personal data was erased by anonymisation (``dispatch.catalog.senior_privacy``);
    the row stays so that delivered hours and the audit keep their references."""

    @property
    def address(self) -> Address:
        """The address as the fixture ``Address``, so ``senior.address.line()`` works on rows too."""
        return Address(street=self.street, number=self.number, postcode=self.postcode, city=self.city, flat=self.flat)


# --------------------------------------------------------------------------- visit requests


Purpose = Literal["medical", "office", "bank", "cemetery", "shopping", "activity"]
"""A senior-taxi trip's purpose (domain.md 1.1; ``dispatch.catalog.requests.PURPOSES``)."""
PRIORITY_MIN, PRIORITY_MAX = 1, 5
WORKERS_NEEDED_MAX = 2
REQUIRED_DOC = ("worker ids: only these may do it (hard; a two-person visit names at least two); if they do not "
                "work that day, the visit is unplaced with the reason. Taxi: its drivers")
PREFERRED_DOC = "worker ids preferred for it, besides the senior's regular workers. Taxi: its drivers"
FORBIDDEN_DOC = "worker ids never to send to it, besides the senior's forbidden workers"


def _refs(doc: str) -> Any:
    return Field(default_factory=list, sa_type=JSON, nullable=False, sa_column_kwargs={"server_default": "[]"},
                 description=doc)


class VisitRequestBase(SQLModel):
    """A visit request's fields and their per-field rules, once: the table below and the API's
    bodies (``api.schemas.requests``) are cut from it; cross-field rules are
    ``dispatch.catalog.requests.prepare``.  The API retypes what differs from the row:
    ``extra_windows`` (JSON dicts here, typed windows there), and ``duration`` and ``mandatory``,
    which a body may leave out for the service's defaults.  ``status`` is the table's and the
    answer's, never the body's."""

    senior_id: str = Field(foreign_key="seniors.id", index=True, max_length=ID_LEN)
    service: ServiceRef = Field(foreign_key="services.code", index=True, max_length=ID_LEN)
    first_date: SaneDate = Field(description=f"first (or only) day; {DATE_DOC}")
    window_start: LocalTime = Field(sa_type=Time,
                                    description=f"earliest start: {LOCAL_TIME_DOC}. On a one-off request's own date a "
                                                "time that does not exist (the spring-forward hour) is refused; see "
                                                "`local_time_notes` of the answer for DST days of a recurring one")
    window_end: LocalTime = Field(sa_type=Time, description=f"latest start: {LOCAL_TIME_DOC}")
    extra_windows: list[dict[str, str]] = _json(server_default="[]")
    """Further windows after the first, in order: ``[{"start": "17:00:00", "end": "18:00:00"}]``
    (``dispatch.catalog.visit_windows``); the visit starts in any one of them."""
    duration: int = Field(ge=1, le=MAX_VISIT_MINUTES, description="minutes on site; default: the service's")
    rrule: str | None = Field(default=None, max_length=500, description="RFC 5545 RRULE without DTSTART, e.g. "
                                                                       "FREQ=WEEKLY;BYDAY=MO,WE,FR; omit for one-off")
    until: SaneDate | None = Field(default=None, description=f"last day of a recurring request (inclusive); {DATE_DOC}")
    required_skills: Skills = Field(default_factory=list, sa_type=JSON, nullable=False,
                                    description="the service's own skills are always added")
    workers_needed: int = Field(default=1, ge=1, le=WORKERS_NEEDED_MAX)
    priority: int = Field(default=3, ge=PRIORITY_MIN, le=PRIORITY_MAX, description="1 lowest, 5 highest")
    mandatory: bool = False
    soft_window: bool = False
    max_lateness: int = Field(default=0, ge=0, le=MAX_VISIT_MINUTES)
    # Ride (senior taxi) fields: all None unless the request is a ride.
    destination_place_id: str | None = Field(default=None, foreign_key="places.id", max_length=ID_LEN,
                                             description="taxi: destination place id")
    appointment: LocalTime | None = Field(default=None, sa_type=Time,
                                          description=f"taxi: arrive no later than; {LOCAL_TIME_DOC}")
    appointment_minutes: int | None = Field(default=None, ge=0, le=MAX_VISIT_MINUTES, description="taxi: appointment length")
    return_trip: bool | None = Field(default=None, description="taxi: default true")
    return_on_call: bool | None = Field(default=None, description="taxi: default false")
    escort: bool | None = Field(default=None, description="taxi: default false")
    # The centre's personal assistant accompanies the senior (usługi asystenckie: "accompanying
    # outings, doctor, office"): a second worker, one more seat.  ``escort`` is a companion of
    # the senior's own (family), one seat and nobody to plan.
    assistant: bool | None = Field(default=None, description="taxi: the centre's personal assistant rides along; "
                                                             "default false")
    wheelchair: bool | None = Field(default=None, description="taxi: default as the senior")
    purpose: Purpose | None = Field(default=None, sa_type=AutoString(length=32), description="taxi: default medical")
    follows_request_id: str | None = Field(default=None, foreign_key="visit_requests.id", max_length=ID_LEN)
    follow_min_delay: int = Field(default=0, ge=0, le=MAX_FOLLOW_DELAY_MINUTES,
                                  description="minutes after the followed visit at least (same day: at most a day)")
    follow_max_delay: int | None = Field(default=None, ge=0, le=MAX_FOLLOW_DELAY_MINUTES,
                                         description="minutes after the followed visit at most")
    tasks: str = Field(default="", max_length=MAX_TASKS_LENGTH, sa_type=AutoString)
    # Who may do it, beyond the senior's own regular and forbidden workers (worker ids).
    required_workers: WorkerRefs = _refs(REQUIRED_DOC)  # only these (hard)
    preferred_workers: WorkerRefs = _refs(PREFERRED_DOC)
    forbidden_workers: WorkerRefs = _refs(FORBIDDEN_DOC)


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
    status: RequestStatus = Field(default=RequestStatus.ACTIVE, sa_type=ValueEnum(RequestStatus), index=True)
    service_info: Service | None = Relationship(sa_relationship_kwargs={"lazy": "selectin", "viewonly": True})
    """The request's service row (read only; loaded with the request in one more query per batch)."""

    @property
    def working_days_only(self) -> bool:
        """True if the service runs on working days only (``dispatch.catalog.recurrence`` drops other days)."""
        return bool(self.service_info is not None and self.service_info.working_days_only)

    @property
    def is_ride(self) -> bool:
        """True if the service is a ride (the senior taxi): pickup and drop-off legs, no pins."""
        return bool(self.service_info is not None and self.service_info.kind == ServiceKind.RIDE)

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


class VisitPin(SQLModel, table=True):
    """The dispatcher's "this one, at 10:00" for one occurrence of a request (``dispatch.planning.pins``).

    A pin belongs to a day, not to the request: it is a decision about that day's plan (Anna is
    in the area on Tuesday; the senior has the doctor at 11 that day), and a standing rule for
    every occurrence is what ``required_workers`` and the windows already say.  One pin per
    (request, date); at least one of ``worker_id`` and ``start``.
    """

    __tablename__ = "visit_pins"
    __table_args__ = (
        UniqueConstraint("visit_request_id", "date", name="uq_visit_pins_request_date"),
        CheckConstraint("worker_id IS NOT NULL OR start IS NOT NULL", name="worker_or_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    visit_request_id: str = Field(foreign_key="visit_requests.id", index=True, max_length=ID_LEN)
    date: dt.date = Field(index=True)
    worker_id: str | None = Field(default=None, foreign_key="workers.id", index=True, max_length=ID_LEN)
    start: dt.time | None = Field(default=None, sa_type=Time)  # local wall-clock time on ``date``
    created_by: str = Field(max_length=100)
    created_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)


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
    """visit | pickup | dropoff | return_pickup | return_dropoff | escort (``dispatch.planning.ride_legs``);
    None on rows planned before legs were stored (then derived from the appointment time)."""


class RosterBreak(SQLModel, table=True):
    """A worker's planned break in a roster (Kodeks pracy art. 134), kept with the version like its visits.

    The optimizer places breaks between visits (travel may be interrupted by one); the worker's
    schedule, the calendar feed and the export show them, so the break planned is the break taken.
    """

    __tablename__ = "roster_breaks"
    __table_args__ = (
        Index("ix_roster_breaks_roster_worker", "roster_id", "worker_id", "start"),
        CheckConstraint('"end" > start', name="end_after_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    roster_id: int = Field(foreign_key="rosters.id", ondelete="CASCADE")
    worker_id: str = Field(foreign_key="workers.id", index=True, max_length=ID_LEN)
    shift_index: int = 0
    start: dt.datetime = Field(sa_type=UTCDateTime)
    end: dt.datetime = Field(sa_type=UTCDateTime)


class VisitCheckin(SQLModel, table=True):
    """A worker's check-in to one stop of a published roster: started, finished, and how it went.

    One row per stop and worker (request, occurrence date, leg, worker: a two-person visit has one
    per worker), kept across roster versions (a re-plan keeps a started stop where it is).
    ``outcome``: ``delivered``, or not delivered because the senior was ``absent`` or ``refused``
    (``dispatch.planning.checkin``); set when the stop is finished.
    """

    __tablename__ = "visit_checkins"
    __table_args__ = (
        UniqueConstraint("visit_request_id", "occurrence_date", "leg", "worker_id", name="uq_visit_checkins_stop"),
        Index("ix_visit_checkins_date", "occurrence_date"),
        CheckConstraint("finished_at IS NULL OR finished_at >= started_at", name="finish_after_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str = Field(foreign_key="workers.id", index=True, max_length=ID_LEN)
    visit_request_id: str = Field(foreign_key="visit_requests.id", max_length=ID_LEN)
    occurrence_date: dt.date
    leg: str = Field(max_length=16)
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=16)
    note: str = Field(default="", max_length=500)


class RosterUnassigned(SQLModel, table=True):
    """A request occurrence the roster could not place, with a reason a coordinator can act on."""

    __tablename__ = "roster_unassigned"
    id: int | None = Field(default=None, primary_key=True)
    roster_id: int = Field(foreign_key="rosters.id", index=True, ondelete="CASCADE")
    visit_request_id: str = Field(foreign_key="visit_requests.id", index=True, max_length=ID_LEN)
    reason: str = Field(max_length=64)  # stable reason code, e.g. "no_skilled_worker"
    message_en: str = ""  # worded from reason and details when stored (dispatch.planning.explanations), local times
    message_pl: str = ""
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the facts; times in minutes of the day
    mandatory: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """The visit was mandatory when planned: such a roster is published only with an explicit
    acknowledgement (``dispatch.planning.publish``).  Rows planned before this was stored read False."""


class WorkerWorkSpan(SQLModel, table=True):
    """A worker's working day in one roster version: the first start and last end (leaving the start
    place to coming back, aware UTC) and the minutes worked, for every contract (a zlecenie's hours are
    recorded too).  Planning a neighbouring day reads these (``dispatch.planning.work_spans``) to keep
    the rest between days and the week's and settlement period's hours (``dispatch.catalog.labour``)."""

    __tablename__ = "worker_work_spans"
    __table_args__ = (
        Index("ix_worker_work_spans_worker_date", "worker_id", "date"),
        CheckConstraint('"end" >= start', name="end_after_start"),
    )
    id: int | None = Field(default=None, primary_key=True)
    roster_id: int = Field(foreign_key="rosters.id", index=True, ondelete="CASCADE")
    worker_id: str = Field(foreign_key="workers.id", max_length=ID_LEN)
    date: dt.date
    start: dt.datetime = Field(sa_type=UTCDateTime)
    end: dt.datetime = Field(sa_type=UTCDateTime)
    work_minutes: int = Field(ge=0)


class RosterLabourLimit(SQLModel, table=True):
    """A labour rule that limited a worker's day when the roster was planned (reason code and its
    numbers, ``dispatch.catalog.labour.DayLimit``); worded at the edge (``dispatch.planning.labour_words``)."""

    __tablename__ = "roster_labour_limits"
    id: int | None = Field(default=None, primary_key=True)
    roster_id: int = Field(foreign_key="rosters.id", index=True, ondelete="CASCADE")
    worker_id: str = Field(foreign_key="workers.id", max_length=ID_LEN)
    rule: str = Field(max_length=32)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


# --------------------------------------------------------------------------- users and audit


class UserBase(SQLModel):
    """A user's fields and their rules, once: the table below and the API's bodies
    (``api.schemas.users``: ``UserCreate``, ``UserPublic``) are cut from it.  The password is
    not here: it comes in on ``UserCreate`` only and is stored as ``User.password_hash``."""

    # The column is longer than the rule allows (100 > 64): users stored before the rule still fit.
    username: str = Field(max_length=100, unique=True, schema_extra={"pattern": USERNAME_PATTERN},
                          description=USERNAME_RULE)
    role: UserRole = Field(sa_type=ValueEnum(UserRole))
    worker_id: str | None = Field(default=None, foreign_key="workers.id", max_length=ID_LEN, ondelete="SET NULL",
                                  description="required for role worker, forbidden otherwise")


class User(UserBase, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
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
    replan: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)
    """A re-plan of the published version (``dispatch.planning.replan.ReplanSpec.to_json``: from when, who
    or which car is unavailable, why); None: a plan from scratch."""
    days: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    """How many days from ``date`` the job plans: 1 (a day) or 7 (a week from a Monday, one draft per
    day in order, ``dispatch.planning.week_plan``)."""


class PlanJobArea(SQLModel, table=True):
    """One area of a split day's planning job, handed to the queue's workers (``dispatch.jobs.areas``).

    The job's solver writes a row per area (the area's problem and search parameters as JSON) and
    a queue task per row; whoever claims the row first (a ``carepath worker`` anywhere, or the job's
    own solver) solves it and writes the result here.  Rows live only while their job solves: the
    job deletes them when it has merged the areas, and they go with the job.
    """

    __tablename__ = "plan_job_areas"
    job_id: str = Field(primary_key=True, foreign_key="plan_jobs.id", max_length=36, ondelete="CASCADE")
    idx: int = Field(primary_key=True)
    """The area's place in ``optimizer.plan_areas``' list."""
    status: JobStatus = Field(default=JobStatus.QUEUED, sa_type=ValueEnum(JobStatus))
    """queued (nobody has it), running (``claimed_by`` solves it), succeeded (``result`` holds it),
    failed (``error`` says why), cancelled (the job no longer wants it)."""
    problem: dict[str, Any] = Field(sa_type=JSON)
    """The area's problem (``optimizer.problem_to_dict``)."""
    params: dict[str, Any] = Field(sa_type=JSON)
    """The job's search parameters (``SolveParams.recorded()``)."""
    budget_s: float
    """Seconds of search the area gets (an equal share of the job's search time)."""
    deadline_at: dt.datetime = Field(sa_type=UTCDateTime)
    """When the job's search ends (the database's clock): an area claimed late gets only what is left."""
    claimed_by: str | None = Field(default=None, max_length=100)
    """Who solves it: ``host:pid`` of the solver process."""
    heartbeat_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)
    """``optimizer.area_result_to_dict`` of the area's search."""
    error: str | None = Field(default=None, max_length=2000)


class CalendarToken(SQLModel, table=True):
    """A secret calendar-feed URL of one worker; only its hash is stored, and it can be revoked."""

    __tablename__ = "calendar_tokens"
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str = Field(foreign_key="workers.id", index=True, max_length=ID_LEN, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """The worker account's ``User.token_version`` when the feed was issued: a password reset,
    deactivation or any other account change (which raise the version) ends the feed too, so a
    feed URL made by whoever had taken over the account stops with the account's tokens."""


class ScheduleRead(SQLModel, table=True):
    """The roster version of a day a worker's schedule last showed them (``dispatch.planning.schedule_changes``):
    the next fetch marks what changed since.  ``area`` is ``""`` for the city-wide roster (not NULL, so
    the unique key holds on every backend)."""

    __tablename__ = "schedule_reads"
    __table_args__ = (UniqueConstraint("worker_id", "date", "area", name="uq_schedule_reads_worker_date_area"),)
    id: int | None = Field(default=None, primary_key=True)
    worker_id: str = Field(foreign_key="workers.id", max_length=ID_LEN, ondelete="CASCADE")
    date: dt.date
    area: str = Field(default="", max_length=ID_LEN)
    roster_version: int
    read_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)


class IdCounter(SQLModel, table=True):
    """The last serial handed out by one id scheme (``name`` is its prefix, e.g. ``"s-"``).

    New readable ids (``s-00042``) come from ``UPDATE ... SET value = value + n ... RETURNING``
    on this row inside the writing transaction (``dispatch.catalog.records.IdScheme``): the row lock
    (PostgreSQL) or the write lock (SQLite) makes two simultaneous creates get different ids,
    and a rolled-back create gives its serial back.
    """

    __tablename__ = "id_counters"
    name: str = Field(primary_key=True, max_length=32)
    value: int = Field(sa_type=BigInteger)


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one account, one address or one (account, address) pair, shared by
    every API process; rows past ``expires_at`` mean nothing any more and are deleted."""

    __tablename__ = "login_throttles"
    key: str = Field(primary_key=True, max_length=200)
    kind: ThrottleKind = Field(sa_type=ValueEnum(ThrottleKind))
    account: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=64)
    level: float = 0.0
    """Failures not yet leaked away, as of ``updated_at``."""
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_failure_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    retry_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    """No login is tried for this key before then (the back-off)."""
    last_success_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Pair rows: the account last logged in from this address then (a known address)."""
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


class GeocodeCache(SQLModel, table=True):
    """One address looked up by the geocoder, keyed by its normalised query (``dispatch.providers.geocoding``).

    Nominatim's usage policy asks that results be cached: an address is never asked twice.  A miss
    is kept too (``lat``/``lon`` NULL) and asked again only after ``geocoding.MISS_TTL``.
    """

    __tablename__ = "geocode_cache"
    query: str = Field(primary_key=True, max_length=500)
    lat: float | None = None
    lon: float | None = None
    label: str = Field(default="", max_length=500)
    """What the geocoder called the place it found (Nominatim's ``display_name``)."""
    source: str = Field(default="", max_length=200)
    """The geocoder asked (its URL)."""
    looked_up_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)


class RevokedToken(SQLModel, table=True):
    """An access token ended before its expiry (logout); kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"
    jti: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=100)
    revoked_at: dt.datetime = Field(default_factory=_utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)


#: Tables holding scenario data, in insertion order (parents first).
SCENARIO_TABLES: tuple[type[SQLModel], ...] = (
    Place, Service, Car, Worker, WorkerShift, WorkerAbsence, Senior, VisitRequest, VisitPin
)
#: Tables derived from scenario data by planning, in insertion order.
ROSTER_TABLES: tuple[type[SQLModel], ...] = (Roster, RosterAssignment, RosterBreak, RosterUnassigned, WorkerWorkSpan,
                                              RosterLabourLimit)

__all__ = [
    "AuditLog",
    "CalendarToken",
    "IdCounter",
    "IdempotencyKey",
    "JobStatus",
    "LoginThrottle",
    "PlanJob",
    "Car",
    "CarBase",
    "GeocodeCache",
    "NAMING_CONVENTION",
    "Place",
    "PlaceBase",
    "RequestStatus",
    "RevokedToken",
    "ROSTER_TABLES",
    "Roster",
    "RosterAssignment",
    "RosterBreak",
    "RosterLabourLimit",
    "RosterStatus",
    "RosterUnassigned",
    "SCENARIO_TABLES",
    "ScheduleRead",
    "Senior",
    "SeniorBase",
    "ThrottleKind",
    "Service",
    "ServiceBase",
    "ServiceKind",
    "User",
    "UserRole",
    "GenderRule",
    "VisitPin",
    "VisitRequest",
    "VisitRequestBase",
    "Worker",
    "WorkerAbsence",
    "WorkerBase",
    "WorkerShift",
    "WorkerWorkSpan",
]

# Care decisions (absences, entitlements, care plans, intake rules) live in their own module; importing
# it here registers their tables wherever the stored domain is imported (Alembic, tests).
from dispatch.storage import care_models as _care_models  # noqa: E402,F401
