"""The legs a request becomes in a plan, and how each is shown.

An ordinary request is one ``visit``.  A senior-taxi request becomes up to six problem
visits (``dispatch.planning.ride_builder``): the outbound ``pickup`` at the senior's door and
``dropoff`` at the destination, the same two for the return trip (``return_pickup`` at
the destination, ``return_dropoff`` at home), and, when the centre's assistant rides along,
an ``escort`` (and ``return_escort``) visit for the assistant.  Rosters store the leg of every stop
(``RosterAssignment.leg``) because a request's stops can no longer be told apart by time.

``outbound`` and ``return`` are the legs of rosters planned before pooled rides (one driver
visit per trip); they are still read, never written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

VISIT = "visit"
PICKUP = "pickup"
DROPOFF = "dropoff"
RETURN_PICKUP = "return_pickup"
RETURN_DROPOFF = "return_dropoff"
ESCORT = "escort"
RETURN_ESCORT = "return_escort"
LEGACY_OUTBOUND = "outbound"
LEGACY_RETURN = "return"

RIDE_STOPS = (PICKUP, DROPOFF, RETURN_PICKUP, RETURN_DROPOFF)
"""Legs a driver does: stops of a car."""
ESCORTS = (ESCORT, RETURN_ESCORT)
"""Legs an assistant does: riding along with the senior."""

LEGS_PL = {
    VISIT: "wizyta",
    PICKUP: "odbiór z domu",
    DROPOFF: "wysadzenie u celu",
    RETURN_PICKUP: "odbiór (powrót)",
    RETURN_DROPOFF: "odwiezienie do domu",
    ESCORT: "asysta w przejeździe",
    RETURN_ESCORT: "asysta w powrocie",
    LEGACY_OUTBOUND: "przejazd tam",
    LEGACY_RETURN: "przejazd powrót",
}


def is_ride_leg(leg: str) -> bool:
    """Anything but an ordinary visit: a car stop, an escort, or a legacy ride visit."""
    return leg != VISIT


def at_destination(leg: str) -> bool:
    """Whether the stop happens at the ride's destination (else at the senior's home)."""
    return leg in (DROPOFF, RETURN_PICKUP)


@dataclass(frozen=True)
class VisitSource:
    """What a problem visit stands for: a request on a day, and which leg of it."""

    request_id: str
    date: dt.date
    leg: str = VISIT
