"""The vocabulary every layer speaks: the domain's enums and small value types, defined once.

``dispatch`` (tables, services, the problem builder), ``api`` (schemas, routers) and ``fixtures``
(the Kielce generator) all import these names from here; ``fixtures`` may import ``dispatch``,
never the reverse (``tests/test_layers.py``).  The optimizer does not: it sees opaque string
tags (a worker's kind, a travel mode, skills), as VROOM sees profiles, and the problem builder
hands it the ``.value`` of these enums.

Every enum is a ``str`` enum whose values are what is stored and what JSON carries, so a value
read from a row, a file or a request body compares equal to its member.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

# --------------------------------------------------------------------------- places and services


class PlaceKind(str, Enum):
    AREA = "area"
    DESTINATION = "destination"
    OFFICE = "office"
    GMINA = "gmina"


class ServiceCode(str, Enum):
    """Services of the Kielce programme (see shared domain.md, section 1); a centre's catalogue
    may hold others (a service code is any id, ``Service.code``)."""

    HOME_CARE = "home_care"  # usługi opiekuńcze
    SPECIALIST_CARE = "specialist_care"  # specjalistyczne usługi opiekuńcze (SUO)
    SPECIALIST_CARE_MENTAL = "specialist_care_mental"  # SUO for people with mental disorders
    PERSONAL_ASSISTANCE = "personal_assistance"  # usługi asystenckie
    RESPITE = "respite"  # opieka wytchnieniowa (day form, at home)
    TAXI = "taxi"  # taksówka dla seniora (door-to-door ride)
    HANDYMAN = "handyman"  # złota rączka


class ServiceKind(str, Enum):
    """How a service is delivered: a visit at the senior's home, or a ride (the senior taxi:
    pickup, drop-off and return legs, a car's seats; ``dispatch.planning.ride_builder``)."""

    VISIT = "visit"
    RIDE = "ride"


# --------------------------------------------------------------------------- people


class WorkerKind(str, Enum):
    CARER = "carer"
    SPECIALIST_CARER = "specialist_carer"
    PERSONAL_ASSISTANT = "personal_assistant"
    DRIVER = "driver"
    HANDYMAN = "handyman"


class TravelMode(str, Enum):
    WALK = "walk"
    PUBLIC_TRANSPORT = "public_transport"
    CAR = "car"


class Contract(str, Enum):
    """Working-time system (Kodeks pracy) or civil contract; see domain.md section 2."""

    FULL_TIME_BASIC = "etat_podstawowy"  # 8 h/day
    FULL_TIME_EQUIVALENT = "etat_rownowazny"  # up to 12 h/day
    FULL_TIME_SPLIT = "etat_przerywany"  # one unpaid break <= 5 h
    PART_TIME = "etat_czesc"
    CIVIL = "zlecenie"


class Disability(str, Enum):
    NONE = "brak"
    MILD = "lekki"
    MODERATE = "umiarkowany"
    SEVERE = "znaczny"


class GenderRule(str, Enum):
    """How a senior's ``preferred_gender`` binds the plan; the centre decides it per senior.

    ``prefer``: a soft wish, weighed against travel and continuity.  ``require``: intimate care
    (``Service.intimate_care``) is never given by a worker of the other gender, even if the
    visit stays unplaced; other services (a taxi ride, the handyman) keep it as a wish.
    """

    NONE = "none"
    PREFER = "prefer"
    REQUIRE = "require"


class UserRole(str, Enum):
    """Who may do what: coordinators enter requests, dispatchers plan and publish, workers
    read their own schedule, admins manage users."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    DISPATCHER = "dispatcher"
    WORKER = "worker"


# --------------------------------------------------------------------------- requests, rosters, jobs


class RequestStatus(str, Enum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class RosterStatus(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ThrottleKind(str, Enum):
    """What a login throttle row counts failures of (see ``dispatch.access.login_throttle``)."""

    PAIR = "pair"  # one account from one address
    ACCOUNT = "account"  # one account from any address
    ADDRESS = "address"  # any account from one address


# --------------------------------------------------------------------------- value types


@dataclass(frozen=True)
class Address:
    street: str
    number: str
    postcode: str
    city: str
    flat: str | None = None

    def line(self) -> str:
        flat = f"/{self.flat}" if self.flat else ""
        return f"ul. {self.street} {self.number}{flat}, {self.postcode} {self.city}"


@dataclass(frozen=True)
class Ride:
    """Senior-taxi details of a TAXI request (home -> destination, optional return)."""

    destination: str  # place id (kind destination or office)
    appointment: dt.time  # arrive no later than this
    appointment_minutes: int  # expected length of the appointment
    return_trip: bool = True
    return_on_call: bool = False
    escort: bool = False  # a companion of the senior's own: +1 seat
    assistant: bool = False  # the centre's personal assistant rides along: +1 seat and an escort visit
    wheelchair: bool = False
    purpose: str = "medical"


def as_text(value: object) -> str:
    """The stored text of a vocabulary value, whether it comes as a member (``WorkerKind.CARER``,
    from a typed API body, a row or a fixture) or as its value (``"carer"``, from a spreadsheet).

    ``str()`` alone would not do: ``str(WorkerKind.CARER)`` is ``"WorkerKind.CARER"`` on
    Python 3.11.  Comparisons, dict look-ups and ``Enum(value)`` need no conversion (a str enum
    member equals and hashes as its value); storing, showing and hashing text does.
    """
    return str(value.value) if isinstance(value, Enum) else str(value)


# Polish letters that NFKD does not decompose into an ASCII base letter.
_TRANSLITERATION = str.maketrans({"ł": "l", "Ł": "L"})


def slugify(text: str) -> str:
    """ASCII, lower-case, dash-separated: ids that survive URLs, file names and shells."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
