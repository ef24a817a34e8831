"""The fixture generator: reproducible, internally consistent, and the size the demo needs.

Two profiles: ``kielce-2026-11`` (the benchmark population, whose figures are recorded in
benchmarks/README.md and must not move) and ``mopr-kielce`` (the default: the real centre's
size, home care in hours a day).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import random
from collections import Counter

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.generator import (
    BENCHMARK_PROFILE,
    HOME_CARE_MAX_DAILY_MINUTES,
    PROFILES,
    REALISTIC_PROFILE,
    SERVICE_BY_CODE,
    TERRITORY_RADIUS_M,
    generate,
)
from fixtures.io import to_jsonable
from fixtures.occurrences import occurrences_on, occurs_on
from fixtures.places import distance_m
from dispatch.domain import Contract, Disability, PlaceKind, ServiceCode, WorkerKind
from fixtures.scenario import Scenario, VisitRequest, Worker

CARE_DURATIONS = {
    ServiceCode.HOME_CARE: (30, 120),
    ServiceCode.SPECIALIST_CARE: (45, 60),
    ServiceCode.SPECIALIST_CARE_MENTAL: (45, 60),
    ServiceCode.PERSONAL_ASSISTANCE: (60, 180),
    ServiceCode.RESPITE: (60, 240),
    ServiceCode.HANDYMAN: (30, 120),
}
"""Minutes on site per visit in the benchmark profile."""
HOURS_CARE_DURATIONS = {
    **CARE_DURATIONS,
    ServiceCode.HOME_CARE: (30, 240),
    ServiceCode.SPECIALIST_CARE_MENTAL: (60, 120),
}
"""Minutes on site per visit in the realistic profile: home care in blocks of up to 4 h."""
BENCHMARK_SCENARIO_SHA256 = "e55f9c08f73e8ebe"
"""First 16 hex digits of the benchmark profile's default scenario as JSON (seed 2026): the
population every recorded benchmark figure comes from.  If this changes, so do those figures."""


def durations_for(s: Scenario) -> dict[ServiceCode, tuple[int, int]]:
    return CARE_DURATIONS if s.name.startswith(("kielce-", "region-")) else HOURS_CARE_DURATIONS


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _can_do(worker: Worker, request: VisitRequest) -> bool:
    service = SERVICE_BY_CODE[request.service]
    return worker.kind in service.worker_kinds and set(request.required_skills) <= set(worker.skills)


def consistency_problems(s: Scenario) -> list[str]:
    """Every broken invariant of a scenario, as readable strings (empty when all hold)."""
    problems: list[str] = []
    places = {p.id: p for p in s.places}
    seniors = {x.id: x for x in s.seniors}
    workers = {w.id: w for w in s.workers}
    cars = {c.id: c for c in s.cars}
    requests = {r.id: r for r in s.requests}
    for table, ids in (("places", [p.id for p in s.places]), ("seniors", list(seniors)),
                       ("workers", [w.id for w in s.workers]), ("cars", [c.id for c in s.cars]),
                       ("requests", [r.id for r in s.requests])):
        dupes = [i for i, n in Counter(ids).items() if n > 1]
        if dupes or len(set(ids)) != len(ids):
            problems.append(f"duplicate {table} ids: {dupes[:5]}")
    tables = (seniors, workers, cars, requests)
    if len(set().union(*tables)) != sum(len(t) for t in tables):
        problems.append("ids are shared between tables")
    last = s.start_date + dt.timedelta(days=s.days - 1)
    by_senior: dict[str, list[VisitRequest]] = {}

    for r in s.requests:
        where = f"request {r.id}"
        senior = seniors.get(r.senior_id)
        if senior is None:
            problems.append(f"{where}: unknown senior {r.senior_id}")
            continue
        by_senior.setdefault(r.senior_id, []).append(r)
        if r.service not in senior.needs:
            problems.append(f"{where}: {r.service.value} not among the senior's needs")
        start, end = _minutes(r.window_start), _minutes(r.window_end)
        if not (start <= end and end + r.duration <= 24 * 60):
            problems.append(f"{where}: window {r.window_start}-{r.window_end} + {r.duration} min not within the day")
        if r.duration <= 0:
            problems.append(f"{where}: duration {r.duration}")
        if not 1 <= r.priority <= 5 or r.workers_needed < 1:
            problems.append(f"{where}: priority {r.priority} / workers {r.workers_needed}")
        if not set(SERVICE_BY_CODE[r.service].required_skills) <= set(r.required_skills):
            problems.append(f"{where}: misses the service's required skills")
        if not r.tasks.strip():
            problems.append(f"{where}: no tasks text")
        if not s.start_date <= r.first_date <= last or (r.until is not None and r.until < r.first_date):
            problems.append(f"{where}: dates {r.first_date}..{r.until} outside the horizon")
        if r.rrule is not None:
            rrulestr(r.rrule, dtstart=dt.datetime.combine(r.first_date, dt.time()))  # parses
        if not any(occurs_on(r, s.start_date + dt.timedelta(days=i)) for i in range(s.days)):
            problems.append(f"{where}: never happens in the scenario's days")
        durations = durations_for(s)
        if r.service in durations:
            low, high = durations[r.service]
            if not low <= r.duration <= high or r.duration % 15:
                problems.append(f"{where}: {r.service.value} duration {r.duration}")
        if r.service is ServiceCode.SPECIALIST_CARE_MENTAL and not senior.mental_disorder:
            problems.append(f"{where}: mental-disorder SUO for a senior without one")
        if r.service is ServiceCode.TAXI:
            ride = r.ride
            if ride is None or r.rrule is not None:
                problems.append(f"{where}: taxi without a ride or recurring")
                continue
            dest = places.get(ride.destination)
            if dest is None or dest.kind not in (PlaceKind.DESTINATION, PlaceKind.OFFICE):
                problems.append(f"{where}: unknown destination {ride.destination}")
            if ride.wheelchair and not senior.wheelchair:
                problems.append(f"{where}: wheelchair ride for a senior without a wheelchair")
            if start < 6 * 60 or _minutes(ride.appointment) < end + r.duration:
                problems.append(f"{where}: pickup {r.window_start}-{r.window_end} vs appointment {ride.appointment}")
            if not 30 <= ride.appointment_minutes <= 120:
                problems.append(f"{where}: appointment length {ride.appointment_minutes}")
            if r.first_date.weekday() >= 5:
                problems.append(f"{where}: taxi on a weekend")
        elif r.ride is not None:
            problems.append(f"{where}: ride on a {r.service.value} request")
        if r.service is ServiceCode.HANDYMAN:
            if r.rrule is not None or start < 8 * 60 or end + r.duration > 16 * 60 or r.first_date.weekday() >= 5:
                problems.append(f"{where}: handyman job outside weekdays 8:00-16:00")
        if r.follows is not None:
            before = requests.get(r.follows)
            if before is None or before.senior_id != r.senior_id:
                problems.append(f"{where}: follows {r.follows} of another senior")
            if r.follow_max_delay is not None and r.follow_max_delay < r.follow_min_delay:
                problems.append(f"{where}: follow delays {r.follow_min_delay}>{r.follow_max_delay}")

    for x in s.seniors:
        where = f"senior {x.id}"
        area = places.get(x.area)
        if area is None or area.kind not in (PlaceKind.AREA, PlaceKind.GMINA):
            problems.append(f"{where}: area {x.area}")
        if not x.needs:
            problems.append(f"{where}: no needs")
        if not 1930 <= x.birth_year <= 1965 or x.gender not in ("F", "M"):
            problems.append(f"{where}: birth year {x.birth_year} / gender {x.gender}")
        if x.wheelchair and x.disability is Disability.NONE:
            problems.append(f"{where}: wheelchair without a disability")
        if set(x.regular_workers) & set(x.forbidden_workers):
            problems.append(f"{where}: a worker both regular and forbidden")
        own = by_senior.get(x.id, [])
        for wid in x.regular_workers + x.forbidden_workers:
            w = workers.get(wid)
            if w is None:
                problems.append(f"{where}: unknown worker {wid}")
            elif not any(_can_do(w, r) for r in own):
                problems.append(f"{where}: worker {wid} ({w.kind.value}) can do none of the senior's visits")
        for wid in x.regular_workers:
            if wid in workers and x.preferred_gender and workers[wid].gender != x.preferred_gender:
                problems.append(f"{where}: regular worker {wid} of the wrong gender")
            if wid in workers:
                w = workers[wid]
                reach = TERRITORY_RADIUS_M[w.travel_mode]
                if distance_m(x.lat, x.lon, w.home_lat, w.home_lon) > reach:
                    problems.append(f"{where}: regular worker {wid} ({w.travel_mode.value}) lives beyond {reach:.0f} m")

    for w in s.workers:
        where = f"worker {w.id}"
        if w.home_area not in places:
            problems.append(f"{where}: home area {w.home_area}")
        if w.kind in (WorkerKind.DRIVER, WorkerKind.HANDYMAN) and (w.car_id not in cars):
            problems.append(f"{where}: {w.kind.value} without a known car")
        for p in w.shifts:
            if not (0 <= p.weekday <= 6 and p.start < p.end):
                problems.append(f"{where}: shift {p}")
    used_cars = [w.car_id for w in s.workers if w.car_id]
    if len(used_cars) != len(set(used_cars)):
        problems.append("a car is assigned to two workers")
    for c in s.cars:
        if c.base_place not in places or places[c.base_place].kind is not PlaceKind.OFFICE:
            problems.append(f"car {c.id}: base {c.base_place} is not an office")
    return problems


@pytest.fixture(scope="module")
def default() -> Scenario:
    """The benchmark population (the figures below are the ones benchmarks/README.md records)."""
    return generate(profile=BENCHMARK_PROFILE)


@pytest.fixture(scope="module")
def centre() -> Scenario:
    """The realistic centre, generate()'s default: the only full-size one these tests build."""
    return generate()


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_scenario(default: Scenario) -> None:
    """Generating twice with the same arguments yields equal dataclasses, field for field."""
    generate(7, seniors=30, workers=10)  # an unrelated call in between must not matter
    assert generate(profile=BENCHMARK_PROFILE) == default
    assert generate(5, seniors=40, workers=12, region="region") == generate(5, seniors=40, workers=12, region="region")
    week = dt.date(2027, 3, 22)
    assert generate(3, seniors=50, workers=15, start_date=week) == generate(3, seniors=50, workers=15, start_date=week)


def test_the_benchmark_population_has_not_moved(default: Scenario) -> None:
    """profile="kielce-2026-11" is exactly the scenario the recorded benchmark figures were measured on."""
    text = json.dumps(to_jsonable(default), sort_keys=True).encode()
    assert hashlib.sha256(text).hexdigest()[:16] == BENCHMARK_SCENARIO_SHA256
    assert default.name == "kielce-seed2026-420s-42w-7d"


def test_the_week_is_the_callers_and_the_centre_stays_the_same() -> None:
    """start_date moves the requests to another week; without holidays in either week the people and
    their care plans stay the same (a holiday changes which days rides and outings can take)."""
    first = generate(4, seniors=60, workers=20)
    later = generate(4, seniors=60, workers=20, start_date=dt.date(2027, 3, 1))
    assert later.start_date == dt.date(2027, 3, 1) and later.demo_date == dt.date(2027, 3, 2)
    assert later.seniors == first.seniors and later.workers == first.workers
    assert {r.first_date for r in later.requests} <= {dt.date(2027, 3, 1) + dt.timedelta(days=i) for i in range(7)}
    shift = dt.timedelta(days=91)
    assert [dataclasses.replace(r, first_date=r.first_date + shift, until=r.until and r.until + shift)
            for r in first.requests if r.rrule] == [r for r in later.requests if r.rrule]


def test_different_seed_gives_different_scenario(default: Scenario) -> None:
    """Another seed changes people and requests (same sizes, different content)."""
    other = generate(2027, profile=BENCHMARK_PROFILE)
    assert other != default
    assert [x.first_name for x in other.seniors] != [x.first_name for x in default.seniors]
    assert len(other.workers) == len(default.workers)


def test_global_random_state_is_left_alone() -> None:
    """The generator draws from its own Random instances, never from the global one."""
    random.seed(12345)
    before = random.getstate()
    generate(3, seniors=20, workers=8)
    assert random.getstate() == before


# --------------------------------------------------------------------------- consistency


def test_default_scenario_is_internally_consistent(default: Scenario) -> None:
    """Every cross-reference, window, duration, ride, continuity and territory rule holds in the demo scenario."""
    assert consistency_problems(default) == []


def test_region_scenario_is_consistent_and_reaches_the_gminas() -> None:
    """region="region" puts seniors (and some workers) in the partner gminas, with their postcodes."""
    s = generate(region="region", profile=BENCHMARK_PROFILE)
    assert consistency_problems(s) == []
    kinds = {p.id: p.kind for p in s.places}
    in_gminas = [x for x in s.seniors if kinds[x.area] is PlaceKind.GMINA]
    assert 0.2 * len(s.seniors) < len(in_gminas) < 0.5 * len(s.seniors)
    assert len({x.area for x in in_gminas}) >= 8
    assert all(x.address.postcode.startswith("26-") and x.address.city != "Kielce" for x in in_gminas)
    assert any(kinds[w.home_area] is PlaceKind.GMINA for w in s.workers)
    kielce_only = generate(seniors=80, workers=20)
    assert all(kinds[x.area] is PlaceKind.AREA for x in kielce_only.seniors)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=10**9),
    seniors=st.integers(min_value=1, max_value=60),
    workers=st.integers(min_value=0, max_value=25),
    days=st.integers(min_value=1, max_value=10),
    region=st.sampled_from(["kielce", "region"]),
    profile=st.sampled_from(sorted(PROFILES)),
    monday=st.dates(min_value=dt.date(2025, 1, 6), max_value=dt.date(2028, 12, 25)).map(
        lambda d: d - dt.timedelta(days=d.weekday())),
)
def test_consistency_holds_for_any_seed_and_size(
    seed: int, seniors: int, workers: int, days: int, region: str, profile: str, monday: dt.date
) -> None:
    """The invariants do not depend on the profile, the seed, the sizes, the week, the horizon or the region."""
    s = generate(seed, profile=profile, seniors=seniors, workers=workers, days=days, region=region,
                 start_date=monday)
    cared_for = round(PROFILES[profile].family_carers * seniors / PROFILES[profile].seniors)
    assert len(s.seniors) == seniors + cared_for and len(s.workers) == workers
    assert consistency_problems(s) == []


# --------------------------------------------------------------------------- size and mix


def test_demo_day_has_the_size_of_a_kielce_day(default: Scenario) -> None:
    """Tue 2026-12-01: 250-350 visits, about 20 taxi rides and 8 handyman jobs."""
    assert default.demo_date == dt.date(2026, 12, 1) and default.start_date == dt.date(2026, 11, 30)
    day = occurrences_on(default, default.demo_date)
    by_service = Counter(o.request.service for o in day)
    assert 250 <= len(day) <= 350
    assert 15 <= by_service[ServiceCode.TAXI] <= 25
    assert 6 <= by_service[ServiceCode.HANDYMAN] <= 10
    assert all(by_service[code] > 0 for code in ServiceCode)
    assert any(o.request.workers_needed == 2 for o in day)
    assert any(o.request.follows for o in day)
    assert any(o.request.mandatory for o in day)


def test_default_workforce_mix(default: Scenario) -> None:
    """35-45 workers: carers, specialists (some SUO-mental), assistants, drivers and handymen with cars."""
    kinds = Counter(w.kind for w in default.workers)
    assert 35 <= len(default.workers) <= 45
    assert 20 <= kinds[WorkerKind.CARER] <= 25
    assert kinds[WorkerKind.SPECIALIST_CARER] == 6 and kinds[WorkerKind.PERSONAL_ASSISTANT] == 6
    assert kinds[WorkerKind.DRIVER] == 4 and kinds[WorkerKind.HANDYMAN] == 2
    specialist_skills = {s for w in default.workers if w.kind is WorkerKind.SPECIALIST_CARER for s in w.skills}
    assert {"suo_mental", "nurse", "physiotherapist", "psychologist"} <= specialist_skills
    for w in default.workers:
        if w.kind is WorkerKind.DRIVER:
            assert "driving_licence_b" in w.skills and w.car_id and w.travel_mode.value == "car"
        if w.kind is WorkerKind.HANDYMAN:
            assert "handyman" in w.skills and w.car_id
    carer_modes = Counter(w.travel_mode.value for w in default.workers if w.kind is WorkerKind.CARER)
    assert carer_modes["walk"] + carer_modes["public_transport"] > carer_modes["car"]


def test_shifts_follow_the_labour_code(default: Scenario) -> None:
    """Split, weekend, part-time and zlecenie shifts exist; <= 12 h a day and >= 11 h rest between days."""
    contracts = Counter(w.contract for w in default.workers)
    assert all(contracts[c] > 0 for c in Contract)
    split = [w for w in default.workers if w.contract is Contract.FULL_TIME_SPLIT]
    assert all(len([p for p in w.shifts if p.weekday == 0]) == 2 for w in split)
    assert any(p.weekday >= 5 for w in default.workers for p in w.shifts)
    for w in default.workers:
        per_day: dict[int, list[tuple[int, int]]] = {}
        for p in w.shifts:
            per_day.setdefault(p.weekday, []).append((_minutes(p.start), _minutes(p.end)))
        for day, spans in per_day.items():
            assert sum(e - s for s, e in spans) <= 12 * 60, w.id
            assert sum(e - s for s, e in spans) <= w.max_daily_minutes, w.id
            following = per_day.get((day + 1) % 7)
            if following:
                rest = 24 * 60 - max(e for _, e in spans) + min(s for s, _ in following)
                assert rest >= 11 * 60, (w.id, day)
        assert w.weekly_hours == sum(_minutes(p.end) - _minutes(p.start) for p in w.shifts) / 60


def test_cars_and_seniors_look_like_the_programme(default: Scenario) -> None:
    """~5 cars (some wheelchair-accessible); ~25-30 % wheelchair users, ~half disabled, Kielce postcodes."""
    assert 5 <= len(default.cars) <= 7
    assert any(c.wheelchair_places >= 1 for c in default.cars)
    taxi_cars = {w.car_id for w in default.workers if w.kind is WorkerKind.DRIVER}
    assert all(3 <= c.seats <= 4 for c in default.cars if c.id in taxi_cars)
    n = len(default.seniors)
    assert 0.22 * n <= sum(x.wheelchair for x in default.seniors) <= 0.32 * n
    assert 0.4 * n <= sum(x.disability is not Disability.NONE for x in default.seniors) <= 0.6 * n
    assert all(x.address.postcode.startswith("25-") and x.address.city == "Kielce" for x in default.seniors)
    phones = [x.phone for x in default.seniors]
    assert len(set(phones)) == n and all(p.startswith("+48 500 ") for p in phones)
    assert any(x.health_notes for x in default.seniors) and any(x.notes_for_workers for x in default.seniors)
    assert any(x.forbidden_workers for x in default.seniors)
    assert Counter(x.preferred_gender for x in default.seniors)["F"] > 5


def test_demo_day_rides_are_realistic(default: Scenario) -> None:
    """Senior taxi on the demo day: weekday 6:00-20:00 rides to clinics and offices of the places file,
    some needing a wheelchair car, with a companion or the centre's assistant, round trips and on-call returns;
    appointments cluster so that some seniors head for the same place within the same half hour."""
    places = {p.id: p for p in default.places}
    rides = [o.request for o in occurrences_on(default, default.demo_date) if o.request.ride]
    assert rides and all(r.service is ServiceCode.TAXI for r in rides)
    kinds = {places[r.ride.destination].kind.value for r in rides}
    assert kinds <= {"destination", "office"} and "destination" in kinds
    for r in rides:
        assert 6 * 60 <= _minutes(r.window_start) <= _minutes(r.window_end) < _minutes(r.ride.appointment)
        end = _minutes(r.ride.appointment) + (r.ride.appointment_minutes if r.ride.return_trip else 0)
        assert end + r.duration <= 20 * 60
        assert not (r.ride.escort and r.ride.assistant)
    flags = [r.ride for r in rides]
    assert any(f.wheelchair for f in flags) and any(f.escort for f in flags) and any(f.assistant for f in flags)
    assert any(f.return_trip and not f.return_on_call for f in flags) and any(f.return_on_call for f in flags)
    assert any(not f.return_trip for f in flags)
    slots = Counter((r.ride.destination, _minutes(r.ride.appointment) // 30) for r in rides)
    assert max(slots.values()) >= 2
    drivers = [w for w in default.workers if w.kind is WorkerKind.DRIVER]
    cars = {c.id: c for c in default.cars}
    assert any(cars[w.car_id].wheelchair_places for w in drivers)
    assert any(not cars[w.car_id].wheelchair_places for w in drivers)


def test_requests_use_rrules_and_the_whole_service_range(default: Scenario) -> None:
    """Care recurs by RRULE; rides and handyman jobs are one-off; respite names the family carer."""
    rules = Counter(r.rrule for r in default.requests)
    assert rules["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"] > 0 and rules["FREQ=DAILY"] > 0
    rides = [r.ride for r in default.requests if r.ride]
    assert any(r.escort for r in rides) and any(r.wheelchair for r in rides) and any(r.return_trip for r in rides)
    assert all(r.rrule is None for r in default.requests if r.service in (ServiceCode.TAXI, ServiceCode.HANDYMAN))
    respite = [r for r in default.requests if r.service is ServiceCode.RESPITE]
    assert respite and all("opiekuna faktycznego" in r.tasks for r in respite)
    assert any(r.follow_min_delay == 240 and r.follow_max_delay == 360 for r in default.requests)


# --------------------------------------------------------------------------- scaling


def test_scale_ten_gives_about_ten_times_the_visits(default: Scenario) -> None:
    """scale=10 multiplies seniors, workers, cars and the demo day's visits by about ten."""
    big = generate(scale=10, profile=BENCHMARK_PROFILE)
    assert len(big.seniors) == 10 * len(default.seniors)
    assert len(big.workers) == 10 * len(default.workers) and len(big.cars) == 10 * len(default.cars)
    ratio = len(occurrences_on(big, big.demo_date)) / len(occurrences_on(default, default.demo_date))
    assert 8.5 <= ratio <= 11.5


def test_explicit_sizes_override_scale() -> None:
    """seniors=, family_carers= and workers= win over scale; family carers follow the seniors by default."""
    s = generate(seniors=25, family_carers=0, workers=9, scale=10)
    assert len(s.seniors) == 25 and len(s.workers) == 9
    s = generate(seniors=41, workers=9, scale=10)
    assert len(s.seniors) == 41 + 9 and sum(x.needs == (ServiceCode.RESPITE,) for x in s.seniors) == 9
    assert s.name == "mopr-kielce-seed2026-41s-9fc-9w-7d"


@pytest.mark.parametrize(
    "kwargs",
    [{"region": "warszawa"}, {"start_date": dt.date(2026, 12, 1)}, {"days": 0}, {"scale": 0}, {"seniors": 0},
     {"profile": "warszawa"}, {"family_carers": -1}],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object]) -> None:
    """Unknown regions or profiles, a non-Monday start, an empty horizon and empty populations raise ValueError."""
    with pytest.raises(ValueError):
        generate(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the realistic centre


def _on_shift(s: Scenario, day: dt.date, kind: WorkerKind, at: dt.time) -> int:
    """How many workers of ``kind`` are on shift at ``at`` on ``day``."""
    return sum(1 for w in s.workers if w.kind is kind
               and any(p.weekday == day.weekday() and p.start <= at < p.end for p in w.shifts))


def test_the_realistic_centre_has_the_real_size_and_shape(centre: Scenario) -> None:
    """generate()'s default is MOPR Kielce's project: 820 seniors in care and 180 people looked after by
    family carers (respite only, severe disability, living with the carer); home care granted in hours a
    day (2-6 h for heavy needs, a morning and a later block, never over 6 h); ~10 % wheelchair users among
    the seniors; 142 workers on labour-code shifts (8 h days, 12 h only in the równoważny system, 11 h
    rest); on every day of the week enough carers on shift at 7:00 for the mandatory morning care."""
    assert PROFILES[REALISTIC_PROFILE].seniors == 820 and PROFILES[REALISTIC_PROFILE].family_carers == 180
    assert consistency_problems(centre) == []
    cared_for = [x for x in centre.seniors if x.needs == (ServiceCode.RESPITE,)]
    in_care = [x for x in centre.seniors if x.needs != (ServiceCode.RESPITE,)]
    assert len(in_care) == 820 and len(cared_for) == 180
    assert all(x.disability is Disability.SEVERE and not x.lives_alone for x in cared_for)
    assert 0.07 * 820 <= sum(x.wheelchair for x in in_care) <= 0.13 * 820
    assert 0.55 * 820 <= sum(x.disability is not Disability.NONE for x in in_care) <= 0.67 * 820
    respite = [r for r in centre.requests if r.service is ServiceCode.RESPITE]
    assert {r.senior_id for r in respite} == {x.id for x in cared_for}
    assert all(120 <= r.duration <= 240 and "opiekuna faktycznego" in r.tasks for r in respite)

    kinds = Counter(w.kind for w in centre.workers)
    assert kinds == {WorkerKind.CARER: 100, WorkerKind.SPECIALIST_CARER: 18, WorkerKind.PERSONAL_ASSISTANT: 12,
                     WorkerKind.DRIVER: 8, WorkerKind.HANDYMAN: 4}
    for w in centre.workers:
        per_day: dict[int, int] = {}
        for p in w.shifts:
            per_day[p.weekday] = per_day.get(p.weekday, 0) + _minutes(p.end) - _minutes(p.start)
        longest = 12 * 60 if w.contract is Contract.FULL_TIME_EQUIVALENT else 8 * 60
        assert max(per_day.values()) <= longest, w.id
        assert w.weekly_hours <= 40, w.id

    week = [centre.start_date + dt.timedelta(days=i) for i in range(7)]
    heavy_days = []
    for day in week:
        visits = occurrences_on(centre, day)
        home = Counter()
        for o in visits:
            if o.request.service is ServiceCode.HOME_CARE:
                home[o.request.senior_id] += o.request.duration
        assert max(home.values()) <= HOME_CARE_MAX_DAILY_MINUTES
        heavy_days.extend(m for m in home.values() if m >= 120)
        # The morning peak: every mandatory visit that must start by 8:30 (counted per worker it
        # needs) has a carer on shift from 7:00 (later ones can follow a first, shorter block).
        early = sum(o.request.workers_needed for o in visits
                    if o.request.mandatory and o.request.window_end <= dt.time(8, 30))
        carers_at_7 = _on_shift(centre, day, WorkerKind.CARER, dt.time(7, 0))
        assert early > 0 and carers_at_7 >= early, (day, early, carers_at_7)
    assert len(heavy_days) > 300 and max(heavy_days) >= 300  # hours a day, up to 5-6 h

    tuesday = occurrences_on(centre, centre.demo_date)
    home_care = [o.request for o in tuesday if o.request.service is ServiceCode.HOME_CARE]
    assert sum(r.duration >= 120 for r in home_care) > len(home_care) / 2  # blocks of hours, not 30-min slots
    by_senior: dict[str, list[VisitRequest]] = {}
    for r in home_care:
        by_senior.setdefault(r.senior_id, []).append(r)
    split = [rs for rs in by_senior.values() if len(rs) >= 2 and min(r.window_start for r in rs) < dt.time(9)
             and max(r.window_start for r in rs) >= dt.time(11)]
    assert len(split) >= 40  # a morning block and a later one
    services = Counter(o.request.service for o in tuesday)
    assert 350 <= len(tuesday) <= 500 and 30 <= services[ServiceCode.TAXI] <= 50
    assert 80 <= sum(o.request.mandatory for o in tuesday) <= 120
