"""Senior taxi (issue #5): ride requests -> pickup/drop-off visits, pooled rides, returns, escorts.

Every plan solved here is checked by the independent checker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from dispatch.planning.explanations import explain_unassigned
from dispatch.planning.problem_builder import BuiltProblem, build_problem
from dispatch.planning.ride_builder import RideSettings
from dispatch.planning.ride_stats import ride_stats
from fixtures.problem import problem_for_day
from dispatch.timeutil import local_time_to_minutes
from dispatch.providers.travel import GeodesicProvider
from fixtures import scenario as sc
from fixtures.generator import BENCHMARK_PROFILE, generate
from optimizer.checker import check, is_feasible
from optimizer.model import ReasonCode, Solution, TravelMode, WorkerKind
from optimizer.params import SolveParams
from optimizer import solve

DAY = dt.date(2026, 12, 1)  # a Tuesday
T = dt.time
TZ = "Europe/Warsaw"
TRAVEL = GeodesicProvider({"walk": 4.5, "public_transport": 15.0, "car": 30.0}, 1.35)


@dataclasses.dataclass(frozen=True)
class WorkerDay:
    worker: sc.Worker
    shifts: tuple[sc.ShiftPattern, ...]


def minutes(t: dt.time) -> int:
    return local_time_to_minutes(DAY, t, TZ)


PLACES = {p.id: p for p in (
    sc.Place("area", sc.PlaceKind.AREA, "Centrum", 50.8703, 20.6280),
    sc.Place("wsz", sc.PlaceKind.DESTINATION, "WSZ (ul. Grunwaldzka 45)", 50.8737, 20.6012),
    sc.Place("office", sc.PlaceKind.OFFICE, "MOPR", 50.8660, 20.6380),
)}
SERVICES = {s.code.value: s for s in (
    sc.Service(sc.ServiceCode.TAXI, "Taksówka", "Taxi", (sc.WorkerKind.DRIVER,), ("driving_licence_b",), 30),
    sc.Service(sc.ServiceCode.PERSONAL_ASSISTANCE, "Asystent", "Assistance", (sc.WorkerKind.PERSONAL_ASSISTANT,),
               (), 120),
)}


def senior(i: int, wheelchair: bool = False) -> sc.Senior:
    return sc.Senior(f"S{i}", "Halina", "Zając", "F", 1940, sc.Address("Sienkiewicza", str(i), "25-001", "Kielce"),
                     "area", 50.8650 + i / 500, 20.6400 + i / 500, "+48 500 000 001", sc.Disability.SEVERE, True,
                     wheelchair, False, (sc.ServiceCode.TAXI,))


def driver(wid: str, car: str, start: int = 6, end: int = 14) -> sc.Worker:
    return sc.Worker(wid, "Jan", "Kowal", "M", sc.WorkerKind.DRIVER, ("driving_licence_b",),
                     sc.Contract.FULL_TIME_BASIC, 40, "area", 50.87, 20.63, sc.TravelMode.CAR,
                     (sc.ShiftPattern(1, T(start), T(end)),), starts_at_office=True, car_id=car)


def assistant(wid: str = "A1") -> sc.Worker:
    return sc.Worker(wid, "Ewa", "Nowak", "F", sc.WorkerKind.PERSONAL_ASSISTANT, ("personal_assistant",),
                     sc.Contract.FULL_TIME_BASIC, 40, "area", 50.871, 20.629, sc.TravelMode.PUBLIC_TRANSPORT,
                     (sc.ShiftPattern(1, T(7), T(15)),))


def taxi(rid: str, senior_id: str, appointment: dt.time, **ride: object) -> sc.VisitRequest:
    pickup_end = (dt.datetime.combine(DAY, appointment) - dt.timedelta(minutes=35)).time()
    pickup_start = (dt.datetime.combine(DAY, appointment) - dt.timedelta(minutes=90)).time()
    return sc.VisitRequest(rid, senior_id, sc.ServiceCode.TAXI, DAY, pickup_start, pickup_end, 30,
                           required_skills=("driving_licence_b",), priority=4,
                           ride=sc.Ride("wsz", appointment, **{"appointment_minutes": 60, **ride}))


def build(workers: list[sc.Worker], cars: list[sc.Car], requests: list[sc.VisitRequest], seniors: list[sc.Senior],
          settings: RideSettings | None = None) -> BuiltProblem:
    days = [WorkerDay(w, w.shifts) for w in workers]
    return build_problem(DAY, days, requests, {s.id: s for s in seniors}, PLACES, {c.id: c for c in cars},
                         SERVICES, TRAVEL, TZ, ride_settings=settings)


def solved(built: BuiltProblem, seconds: float = 2) -> Solution:
    solution = solve(built.problem, SolveParams(time_limit_s=seconds, seed=1))
    violations = check(built.problem, solution)
    assert is_feasible(violations), [v.message for v in violations]
    return solution


CAR = sc.Car("C1", "TK 1", seats=3, wheelchair_places=0, base_place="office")
WHEELCHAIR_CAR = sc.Car("C2", "TK 2", seats=3, wheelchair_places=1, base_place="office")


def test_a_round_trip_with_an_assistant_becomes_two_rides_and_two_escorts() -> None:
    """Pickup at home, drop-off at the destination before the appointment, a return after it,
    the assistant riding along both ways; windows from the appointment, max ride time x1.5 + 15."""
    built = build([driver("D1", "C1"), assistant()], [CAR], [taxi("R1", "S1", T(10), assistant=True)], [senior(1)])
    p = built.problem
    visits = p.visit_by_id()
    legs = {src.leg: vid for vid, src in built.sources.items()}
    assert set(legs) == {"pickup", "dropoff", "return_pickup", "return_dropoff", "escort", "return_escort"}
    pickup, dropoff = visits[legs["pickup"]], visits[legs["dropoff"]]
    home, dest = pickup.location, dropoff.location
    assert p.locations[home].id == "senior:S1" and p.locations[dest].id == "wsz"
    direct = p.travel_times[TravelMode.CAR][home][dest]
    appointment = minutes(T(10))
    # Drop-off: at the door by the appointment, at most 30 minutes early.
    assert dropoff.duration == 10 and dropoff.windows[0].start == appointment - 30
    assert dropoff.windows[0].end == appointment - 10
    # Pickup: the request's window, its end cut so the appointment stays reachable.
    assert pickup.duration == 10
    assert pickup.windows[0].end == min(minutes(T(9, 25)), appointment - 10 - direct - 10)
    assert pickup.worker_kinds == frozenset({WorkerKind.DRIVER}) and "driving_licence_b" in pickup.required_skills
    out, back = p.rides
    assert (out.pickup, out.dropoff) == (legs["pickup"], legs["dropoff"])
    assert out.load == {"seats": 2} and out.max_ride_time == math.ceil(direct * 1.5) + 15
    # Return: picked up from the appointment's expected end, waiting at most 30 minutes.
    ret = visits[legs["return_pickup"]]
    assert (back.pickup, back.dropoff) == (legs["return_pickup"], legs["return_dropoff"])
    assert ret.location == dest and visits[legs["return_dropoff"]].location == home
    assert (ret.windows[0].start, ret.windows[0].end) == (appointment + 60, appointment + 90)
    assert ret.priority == 5  # one step above the outbound trip: nobody is left at the clinic
    deps = {(d.before, d.after): d for d in p.dependencies}
    assert deps[(legs["dropoff"], legs["return_pickup"])].min_delay == 10 + 60
    # Escort: an assistant's visit that starts with the pickup and ends at the destination.
    escort = visits[legs["escort"]]
    assert escort.worker_kinds == frozenset({WorkerKind.PERSONAL_ASSISTANT}) and not escort.required_skills
    assert escort.location == home and escort.end_location == dest
    assert escort.duration == 10 + out.max_ride_time + 10
    link = deps[(legs["pickup"], legs["escort"])]
    assert (link.min_delay, link.max_delay, link.different_workers) == (0, 0, True)
    assert visits[legs["return_escort"]].end_location == home

    solution = solved(built)
    stops = {s.visit_id: (r.worker_id, s) for r in solution.routes for s in r.stops}
    assert not solution.unassigned
    assert stops[legs["pickup"]][0] == stops[legs["dropoff"]][0] == "D1"
    assert stops[legs["escort"]][0] == "A1" and stops[legs["escort"]][1].start == stops[legs["pickup"]][1].start
    assert stops[legs["dropoff"]][1].end <= appointment


def test_ride_settings_change_windows_and_the_ride_time_limit() -> None:
    """Factor, extra minutes, margin, door-to-car time and return wait come from the settings."""
    settings = RideSettings(door_to_car=5, car_to_door=7, arrival_margin=20, factor=2.0, extra=5, return_wait=45)
    built = build([driver("D1", "C1")], [CAR], [taxi("R1", "S1", T(10), escort=True)], [senior(1)], settings)
    p = built.problem
    legs = {src.leg: vid for vid, src in built.sources.items()}
    visits = p.visit_by_id()
    out = p.rides[0]
    direct = p.travel_times[TravelMode.CAR][visits[out.pickup].location][visits[out.dropoff].location]
    assert out.max_ride_time == direct * 2 + 5 and out.load == {"seats": 2}  # senior + companion
    assert visits[out.pickup].duration == 5 and visits[out.dropoff].duration == 7
    assert visits[out.dropoff].windows[0].start == minutes(T(10)) - 20
    assert visits[legs["return_pickup"]].windows[0].end == minutes(T(11)) + 45
    assert "escort" not in legs  # a companion of the senior's own is a seat, not a visit


def test_settings_object_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from dispatch.settings import Settings

    monkeypatch.setenv("CAREPATH_RIDE_TIME_FACTOR", "1.25")
    monkeypatch.setenv("CAREPATH_RIDE_ON_CALL_UNTIL", "18:30")
    settings = RideSettings.from_settings(Settings())
    assert settings.factor == 1.25 and settings.on_call_until == T(18, 30) and settings.extra == 15


def test_on_call_return_keeps_a_slot_until_the_end_of_the_taxi_day() -> None:
    built = build([driver("D1", "C1", 6, 20)], [CAR], [taxi("R1", "S1", T(10), return_on_call=True)], [senior(1)])
    legs = {src.leg: vid for vid, src in built.sources.items()}
    visits = built.problem.visit_by_id()
    window = visits[legs["return_pickup"]].windows[0]
    back = built.problem.rides[1]
    direct = built.problem.travel_times[TravelMode.CAR][visits[back.pickup].location][visits[back.dropoff].location]
    assert window.start == minutes(T(11)) and window.end == minutes(T(20)) - (10 + direct + 10)
    assert [r.on_call for r in built.rides] == [False, True]
    solved(built)


def test_car_hours_cut_the_drivers_shift_and_set_capacity() -> None:
    car = dataclasses.replace(WHEELCHAIR_CAR, available_from=T(7), available_to=T(12))
    built = build([driver("D1", "C2", 6, 14)], [car], [], [])
    (w,) = built.problem.workers
    assert (w.shifts[0].start, w.shifts[0].end) == (minutes(T(7)), minutes(T(12)))
    assert w.shifts[0].max_overtime == 0  # the car goes back at 12:00
    assert dict(w.capacity) == {"seats": 3, "wheelchair": 1}


def test_wheelchair_ride_without_a_wheelchair_car_on_duty_is_unplaced_with_a_reason() -> None:
    """The only wheelchair car's driver works in the afternoon: the morning wheelchair ride has no car."""
    workers = [driver("D1", "C1", 6, 14), driver("D2", "C2", 14, 20)]
    built = build(workers, [CAR, WHEELCHAIR_CAR], [taxi("R1", "S1", T(10), wheelchair=True, return_trip=False)],
                  [senior(1, wheelchair=True)])
    assert built.problem.rides[0].load == {"seats": 1, "wheelchair": 1}
    solution = solved(built)
    reasons = {u.visit_id: u.reason for u in solution.unassigned}
    assert set(reasons) == {v.id for v in built.problem.visits}
    assert set(reasons.values()) <= {ReasonCode.NO_CAR_ROOM, ReasonCode.NO_WORKER_FREE}
    assert ReasonCode.NO_CAR_ROOM in reasons.values() or ReasonCode.NO_WORKER_FREE in reasons.values()
    messages = " ".join(explain_unassigned(u, DAY, built.tz, strict=True).en for u in solution.unassigned)
    assert "room" in messages or "wheelchair" in messages or "free" in messages


def test_wheelchair_ride_with_no_wheelchair_car_at_all_says_no_car_with_room() -> None:
    built = build([driver("D1", "C1")], [CAR], [taxi("R1", "S1", T(10), wheelchair=True, return_trip=False)],
                  [senior(1, wheelchair=True)])
    solution = solved(built)
    assert {u.reason for u in solution.unassigned} == {ReasonCode.NO_CAR_ROOM}


def test_two_seniors_to_the_same_clinic_share_one_car() -> None:
    """Neighbours with the same appointment: one car, both on board together, ride times kept."""
    requests = [taxi("R1", "S1", T(10), return_trip=False), taxi("R2", "S2", T(10), return_trip=False)]
    built = build([driver("D1", "C1")], [CAR], requests, [senior(1), senior(2)])
    solution = solved(built, 3)
    st = ride_stats(built.problem, solution, built.rides)
    assert st.rides_planned == 2 and st.cars_used == 1
    assert st.shared_rides == 2 and st.passengers == 2 and st.vehicle_km > 0
    assert st.excess_max_min <= max(r.max_ride_time for r in built.problem.rides)


def test_unreachable_appointment_keeps_the_request_window_and_is_explained() -> None:
    """A pickup window that ends after the appointment could be reached: the optimizer says so."""
    request = dataclasses.replace(taxi("R1", "S1", T(10), return_trip=False), window_start=T(9, 50),
                                  window_end=T(10, 30))
    built = build([driver("D1", "C1")], [CAR], [request], [senior(1)])
    solution = solved(built)
    assert {u.reason for u in solution.unassigned} == {ReasonCode.APPOINTMENT_UNREACHABLE}


def test_the_demo_day_with_rides_passes_the_checker() -> None:
    """The Kielce demo day: rides, escorts and care in one plan; checked; ride legs on one car."""
    scenario = generate(2026, profile=BENCHMARK_PROFILE)
    built = problem_for_day(scenario, scenario.demo_date, TRAVEL)
    legs = {src.leg for src in built.sources.values()}
    assert {"pickup", "dropoff", "return_pickup", "return_dropoff", "escort", "visit"} <= legs
    assert any(r.load.get("wheelchair") for r in built.problem.rides)
    solution = solved(built, 5)
    st = ride_stats(built.problem, solution, built.rides)
    assert st.rides_planned >= st.rides_total // 2 and st.cars_used >= 2
    worker_of = {s.visit_id: r.worker_id for r in solution.routes for s in r.stops}
    for ride in built.problem.rides:
        if ride.pickup in worker_of:
            assert worker_of[ride.pickup] == worker_of[ride.dropoff]


@dataclasses.dataclass(frozen=True)
class TaxiWithDrivers(sc.VisitRequest):
    """A taxi request naming its drivers, as a stored request can (``required_workers``)."""

    required_workers: tuple[str, ...] = ()


def test_a_ride_s_required_driver_drives_and_the_assistant_still_rides_along() -> None:
    """The request's required worker binds the driver's legs only: D2 drives both ways (D1 is idle and as
    near), the escorts stay open to the assistant."""
    base = taxi("R1", "S1", T(10), assistant=True)
    request = TaxiWithDrivers(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)},
                              required_workers=("D2",))
    built = build([driver("D1", "C1"), driver("D2", "C2"), assistant()], [CAR, WHEELCHAIR_CAR], [request], [senior(1)])
    legs = {src.leg: vid for vid, src in built.sources.items()}
    visits = built.problem.visit_by_id()
    assert {visits[legs[leg]].required_workers for leg in ("pickup", "dropoff", "return_pickup", "return_dropoff")} \
        == {frozenset({"D2"})}
    assert visits[legs["escort"]].required_workers == frozenset()
    placed = solved(built).assignments()
    assert {placed[legs[leg]][0][0] for leg in ("pickup", "dropoff", "return_pickup", "return_dropoff")} == {"D2"}
    assert placed[legs["escort"]][0][0] == "A1" and placed[legs["return_escort"]][0][0] == "A1"
