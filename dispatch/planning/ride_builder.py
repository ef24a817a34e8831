"""A senior-taxi request -> optimizer visits, pooled rides and dependencies (issue #5).

One request (``VisitRequest.ride``) becomes:

* **pickup** at the senior's home: ``door_to_car`` minutes of helping the senior from the
  flat into the car.  Window: the request's pickup window, cut so the appointment stays
  reachable (latest: drop-off's latest start minus the direct trip minus the pickup
  service) and so that the senior would not sit longer than the ride-time limit before the
  drop-off window opens.  If the cut leaves nothing, the request's own window is kept: the
  optimizer then reports ``appointment_unreachable`` with its explanation, which a
  coordinator can act on, instead of the request silently disappearing.
* **dropoff** at the destination: ``car_to_door`` minutes from the car to the clinic's
  door.  Window ``[appointment - arrival margin, appointment - car_to_door]``: the senior is
  at the door by the appointment, and never waits there longer than the margin.
* ``Ride(pickup, dropoff, load, max_ride_time)``: ``load`` = seats for the senior (see
  ``RideSettings.wheelchair_takes_seat``), a companion (``escort``) and the centre's
  assistant, plus one wheelchair place for a wheelchair; ``max_ride_time`` =
  ``ceil(direct x factor) + extra`` (default 1.5 and 15 min), from the end of the pickup
  service to the start of the drop-off service.  Cars are the drivers' capacity
  (``Worker.capacity``): only a car with a wheelchair place takes a wheelchair ride.
* **return trip** (``return_trip``): a second ride destination -> home whose pickup window
  opens at the appointment's expected end (appointment + ``appointment_minutes``) and stays
  open ``return_wait`` minutes (default 30): the driver waits, or serves others meanwhile
  and comes back.  ``Dependency(dropoff -> return pickup, min_delay = car_to_door +
  appointment minutes, both_or_neither)`` keeps the order even when the senior arrives
  early, and the outbound trip is planned only together with the return: a senior is never
  taken to the clinic without a way home (if the return has no room, both are unplaced and
  the outbound's reason says so).  The return gets one priority step more than the
  outbound trip.
* **on-call return** (``return_on_call``: the senior phones when done): the return pickup
  window runs from the expected end to the end of the taxi day (``on_call_until``, minus the
  trip home).  Planning it anywhere in that window reserves a place in one car's afternoon
  (a slot and the room for the passengers); the planned time is a placeholder, and when the
  senior calls, the dispatcher re-plans the day (minimal change keeps the rest).
* **escort** (``assistant``: the centre's personal assistant rides along): a visit for a
  personal assistant starting at the senior's home with the pickup
  (``Dependency(pickup -> escort, 0, 0, different_workers)``) and ending at the destination
  (``end_location``); it lasts the pickup, the longest allowed ride and the drop-off,
  because the assistant cannot leave a car that is still driving others around.  With a
  return trip a second one (``return_escort``) rides back the same way; the optimizer may
  give the two to different assistants (there is no "same worker" link), which the
  dispatcher sees in the roster.

Times are minutes from the day's origin (see ``dispatch.timeutil``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from dispatch.planning import ride_legs as legs
from dispatch.planning.ride_legs import VisitSource
from dispatch.timeutil import local_time_to_minutes
from optimizer import Dependency, Ride, TimeWindow, Visit, WorkerKind

TRIP_OUTBOUND = "outbound"
TRIP_RETURN = "return"


@dataclass(frozen=True)
class RideSettings:
    """How rides are modelled; ``dispatch.settings.Settings`` fields ``ride_*`` fill it."""

    door_to_car: int = 10
    car_to_door: int = 10
    wheelchair_extra: int = 10
    arrival_margin: int = 30
    factor: float = 1.5
    extra: int = 15
    return_wait: int = 30
    on_call_until: dt.time = dt.time(20, 0)
    wheelchair_takes_seat: bool = True
    """A wheelchair passenger is counted a seat too.  Conservative: in a car with a ramp the
    senior may stay in the wheelchair, but many transfer to a seat and the folded chair takes
    the place; counting both never overbooks a car."""

    @classmethod
    def from_settings(cls, settings: Any) -> RideSettings:
        hours, minutes = (int(x) for x in str(settings.ride_on_call_until).split(":"))
        return cls(
            door_to_car=settings.ride_door_to_car_minutes,
            car_to_door=settings.ride_car_to_door_minutes,
            wheelchair_extra=settings.ride_wheelchair_extra_minutes,
            arrival_margin=settings.ride_arrival_margin_minutes,
            factor=settings.ride_time_factor,
            extra=settings.ride_time_extra_minutes,
            return_wait=settings.ride_return_wait_minutes,
            on_call_until=dt.time(hours, minutes),
            wheelchair_takes_seat=settings.ride_wheelchair_takes_seat,
        )

    def max_ride_time(self, direct: int) -> int:
        """Longest allowed time in the car for a trip whose direct drive takes ``direct`` minutes."""
        return math.ceil(direct * self.factor) + self.extra


@dataclass(frozen=True)
class BuiltRide:
    """One trip of a request as built, for reports (ride statistics, the demo summary)."""

    request_id: str
    trip: str  # outbound | return
    pickup: str
    dropoff: str
    passengers: int
    direct_minutes: int
    wheelchair: bool
    on_call: bool = False
    companion: bool = False
    assistant: bool = False

    @property
    def needs(self) -> str:
        """Short tags a dispatcher reads at a glance: WC (wheelchair), +1 (companion), +A (assistant)."""
        return " ".join(t for flag, t in ((self.wheelchair, "WC"), (self.companion, "+1"), (self.assistant, "+A")) if flag)


@dataclass
class RideParts:
    visits: list[Visit] = field(default_factory=list)
    rides: list[Ride] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    sources: dict[str, VisitSource] = field(default_factory=dict)
    built: list[BuiltRide] = field(default_factory=list)


def ride_load(ride: Any, settings: RideSettings) -> dict[str, int]:
    """Room the passengers take: seats (senior, companion, assistant) and a wheelchair place."""
    wheelchair = bool(ride.wheelchair)
    seats = (1 if (settings.wheelchair_takes_seat or not wheelchair) else 0)
    seats += int(bool(ride.escort)) + int(bool(getattr(ride, "assistant", False)))
    load = {"seats": seats}
    if wheelchair:
        load["wheelchair"] = 1
    return load


def build_ride(
    request: Any,
    day: dt.date,
    tz: str,
    home: int,
    dest: int,
    car_minutes: Sequence[Sequence[int]],
    settings: RideSettings,
    common: Mapping[str, Any],
    assistant_kinds: frozenset[WorkerKind],
    assistant_skills: frozenset[str] = frozenset(),
) -> RideParts:
    """The visits, rides and links of one taxi request on ``day`` (see the module docstring).

    ``common``: the ``Visit`` fields every driver leg shares (kinds, skills, priority,
    mandatory, required, preferred and forbidden workers, client); an escort keeps only the
    forbidden workers of them.
    """
    ride = request.ride
    out = RideParts()
    base = f"{request.id}@{day.isoformat()}"
    extra = settings.wheelchair_extra if ride.wheelchair else 0
    board, alight = settings.door_to_car + extra, settings.car_to_door + extra
    load = ride_load(ride, settings)
    passengers = load["seats"] + (0 if settings.wheelchair_takes_seat else load.get("wheelchair", 0))
    appointment = local_time_to_minutes(day, ride.appointment, tz)
    request_start = local_time_to_minutes(day, request.window_start, tz)
    request_end = local_time_to_minutes(day, request.window_end, tz)

    direct = int(car_minutes[home][dest])
    max_ride = settings.max_ride_time(direct)
    drop_hi = appointment - alight
    drop_lo = min(appointment - settings.arrival_margin, drop_hi)
    pick_hi = min(request_end, drop_hi - direct - board)
    pick_lo = max(request_start, drop_lo - max_ride - board)
    if pick_lo > pick_hi:  # unreachable as requested: keep the request's window, let the optimizer say why
        pick_lo, pick_hi = request_start, request_end
    assistant = bool(getattr(ride, "assistant", False))

    def leg(leg_name: str, location: int, duration: int, lo: int, hi: int, **fields: Any) -> str:
        vid = f"{base}/{leg_name}"
        args = {**common, **fields}
        out.visits.append(Visit(id=vid, location=location, duration=duration, windows=(TimeWindow(lo, hi),), **args))
        out.sources[vid] = VisitSource(request.id, day, leg_name)
        return vid

    def escort(leg_name: str, start_at: int, end_at: int, duration: int, lo: int, hi: int, after: str,
               **over: Any) -> None:
        # The request's required and preferred workers are its drivers, not the assistant.
        fields = dict(common, worker_kinds=assistant_kinds, required_skills=assistant_skills, end_location=end_at,
                      required_workers=frozenset(), preferred_workers=frozenset(), **over)
        vid = f"{base}/{leg_name}"
        out.visits.append(Visit(id=vid, location=start_at, duration=duration, windows=(TimeWindow(lo, hi),), **fields))
        out.sources[vid] = VisitSource(request.id, day, leg_name)
        out.dependencies.append(Dependency(after, vid, 0, 0, different_workers=True))

    pickup = leg(legs.PICKUP, home, board, pick_lo, pick_hi)
    dropoff = leg(legs.DROPOFF, dest, alight, drop_lo, drop_hi)
    out.rides.append(Ride(pickup, dropoff, load, max_ride))
    flags = dict(companion=bool(ride.escort), assistant=assistant)
    out.built.append(BuiltRide(request.id, TRIP_OUTBOUND, pickup, dropoff, passengers, direct, bool(ride.wheelchair),
                               **flags))
    if assistant:
        escort(legs.ESCORT, home, dest, board + max_ride + alight, pick_lo, pick_hi, pickup)

    if not ride.return_trip:
        return out
    back = int(car_minutes[dest][home])
    max_back = settings.max_ride_time(back)
    ready = appointment + int(ride.appointment_minutes or 0)
    if ride.return_on_call:
        day_end = local_time_to_minutes(day, settings.on_call_until, tz)
        ret_hi = max(ready, day_end - (board + back + alight))
    else:
        ret_hi = ready + settings.return_wait
    returned = dict(priority=min(5, int(common.get("priority", 3)) + 1))
    ret_pickup = leg(legs.RETURN_PICKUP, dest, board, ready, ret_hi, **returned)
    ret_dropoff = leg(legs.RETURN_DROPOFF, home, alight, ready + board + back, ret_hi + board + max_back, **returned)
    out.rides.append(Ride(ret_pickup, ret_dropoff, load, max_back))
    out.built.append(BuiltRide(request.id, TRIP_RETURN, ret_pickup, ret_dropoff, passengers, back,
                               bool(ride.wheelchair), bool(ride.return_on_call), **flags))
    # Both or neither: a senior taken to the clinic must be brought home (the optimizer
    # plans the outbound ride only together with the return).
    out.dependencies.append(Dependency(dropoff, ret_pickup, min_delay=alight + int(ride.appointment_minutes or 0),
                                       both_or_neither=True))
    if assistant:
        escort(legs.RETURN_ESCORT, dest, home, board + max_back + alight, ready, ret_hi, ret_pickup, **returned)
    return out
