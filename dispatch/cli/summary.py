"""A planned day as a dispatcher reads it in a terminal: per-worker table, rides, KPIs, and the
visits left out with their reasons (mandatory first).

Printed by ``carepath rosters plan`` and by ``carepath demo`` (``fixtures.demo``).  Every
figure is read from the stored roster's solution; the reasons' wording comes from
``dispatch.planning.explanations`` (through ``rosters.unplaced_visits``), clock times through
the day's own zone (DST days have 23 or 25 hours).
"""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from dispatch.catalog.labour_words import limit_words
from dispatch.planning.explanations import Clock, day_clock
from dispatch.planning.ride_stats import ride_stats
from dispatch.planning.rosters import PlannedDay, UnplacedVisit, unplaced_visits

def _duration(minutes: int) -> str:
    """A length of time as hours and minutes ("7:05"); clock times go through ``day_clock``."""
    return f"{minutes // 60}:{minutes % 60:02d}"



def _clock(planned: PlannedDay) -> Clock:
    """The planned day's minutes as local clock times (DST days have 23 or 25 hours)."""
    return day_clock(planned.roster.date, planned.built.tz)



def print_rides(console: Console, planned: PlannedDay) -> None:
    """Senior taxi: rides planned/unplaced, shared rides, cars, km, then each car stop in time order.

    A stop line names the senior by client id only (the terminal is the dispatcher's, but a
    demo output gets pasted around) and the needs that decide the car: wheelchair (WC),
    companion (+1), assistant (+A); "on call" marks a return whose time is a reservation.
    """
    built, solution = planned.built, planned.solution
    if not built.rides:
        return
    clock = _clock(planned)
    problem = built.problem
    st = ride_stats(problem, solution, built.rides)
    console.print(
        f"[bold]Senior taxi[/]: {st.rides_planned} of {st.rides_total} rides planned "
        f"(outbound {st.outbound_planned}/{st.outbound_total}, return {st.return_planned}/{st.return_total}), "
        f"{st.rides_unplaced} unplaced; {st.shared_rides} shared rides; {st.cars_used} cars used, "
        f"{st.vehicle_km:.1f} vehicle km, {st.passengers_per_car_hour:.2f} passengers per car-hour; "
        f"time in the car over the direct drive: mean {st.excess_mean_min:.0f} min, max {st.excess_max_min} min."
    )
    if st.returns_missing:
        console.print(f"[bold red]{st.returns_missing} seniors have an outbound ride but no planned return[/]: "
                      "see the unplaced return legs below.")
    visits = problem.visit_by_id()
    needs_of = {vid: r.needs + (" on call" if r.on_call else "") for r in built.rides for vid in (r.pickup, r.dropoff)}
    stops = [(route.worker_id, s) for route in solution.routes for s in route.stops
             if built.sources[s.visit_id].leg != "visit"]
    for wid, s in sorted(stops, key=lambda x: (x[1].start, x[0])):
        v = visits[s.visit_id]
        leg = built.sources[s.visit_id].leg
        place = problem.locations[v.location].id
        place = "home" if place.startswith("senior:") else place.removeprefix("destination-")[:24]
        console.print(
            f"  {clock(s.start):>5}-{clock(s.end):5} {wid} {leg:14} {v.client_id or '':8} {place:24} "
            f"{needs_of.get(s.visit_id, '')}".rstrip(),
            highlight=False,
        )


def print_labour_limits(console: Console, planned: PlannedDay) -> None:
    """The labour rules across days that cut a worker's day (``dispatch.catalog.labour``), one line each."""
    for wid, limits in sorted(planned.built.labour_limits.items()):
        for limit in limits:
            words = limit_words(limit.rule, limit.details, planned.roster.date, planned.built.tz)
            console.print(f"labour rule, {wid}: {words.en}", highlight=False)


def print_summary(console: Console, planned: PlannedDay) -> None:
    """Per worker: visits, travel, working time, utilisation; rides; unplaced visits with reasons."""
    problem, solution = planned.built.problem, planned.solution
    workers = problem.worker_by_id()
    roster = planned.roster
    k = solution.kpis
    clock = _clock(planned)
    console.print()
    console.rule(f"Roster {roster.date} (version {roster.version}, {roster.status.value})")
    table = Table(show_lines=False, header_style="bold")
    for column in ("worker", "kind", "shift", "visits", "travel", "service", "working", "utilisation"):
        table.add_column(column, justify="right" if column not in ("worker", "kind") else "left")
    by_worker: dict[str, list] = {}
    for r in solution.routes:
        by_worker.setdefault(r.worker_id, []).append(r)
    for wid, w in sorted(workers.items()):
        routes = by_worker.get(wid, [])
        shift_minutes = sum(s.end - s.start for s in w.shifts)
        shifts = " + ".join(f"{clock(s.start)}-{clock(s.end)}" for s in w.shifts)
        n = sum(len(r.stops) for r in routes)
        travel = sum(r.travel_minutes for r in routes)
        service = sum(r.service_minutes for r in routes)
        working = sum(r.end - r.start for r in routes)
        util = service / shift_minutes if shift_minutes else 0.0
        table.add_row(wid, w.kind.value, shifts, str(n), _duration(travel), _duration(service), _duration(working),
                      f"{util:.0%}")
    console.print(table)
    print_labour_limits(console, planned)
    print_rides(console, planned)
    if k is not None:
        console.print(
            f"[bold]Placed {k.visits_placed} of {k.visits_total} visits[/] (mandatory {k.mandatory_placed}/"
            f"{k.mandatory_total}); {k.workers_used} workers; travel {_duration(k.travel_minutes)}; "
            f"utilisation {k.utilisation:.0%}; continuity of care {k.continuity_share:.0%}; "
            f"overtime {k.overtime_minutes} min."
        )
    if solution.stats is not None:
        console.print(
            f"Solver: {solution.stats.status}, {solution.stats.solutions_found} solutions, "
            f"{solution.stats.elapsed_s:.1f} s; the plan passed the independent checker."
        )
    print_unplaced(console, planned)


def print_unplaced(console: Console, planned: PlannedDay) -> None:
    """The visits left out, as the roster stores them: the mandatory ones first, loudly, with their
    reasons and what publishing then needs; then the optional ones with theirs."""
    unplaced = unplaced_visits(planned.roster.date, planned.built, planned.solution)
    mandatory = [u for u in unplaced if u.mandatory]
    optional = [u for u in unplaced if not u.mandatory]
    if mandatory:
        ids = sorted({u.request_id for u in mandatory})
        console.print(
            f"[bold red]Mandatory visits NOT placed: {len(ids)}[/] ({', '.join(ids)}); publishing this roster "
            "needs them acknowledged (acknowledge_unplaced_mandatory)."
        )
        _print_reasons(console, mandatory)
    if optional:
        counts = Counter(u.reason for u in optional)
        console.print(
            f"[bold]Optional visits not placed: {len(optional)}[/] ("
            + ", ".join(f"{n} {code}" for code, n in counts.most_common())
            + ")"
        )
        _print_reasons(console, optional)


def _print_reasons(console: Console, unplaced: list[UnplacedVisit]) -> None:
    for u in unplaced:
        name = u.request_id if u.leg == "visit" else f"{u.request_id} ({u.leg})"
        console.print(f"  {name}: {u.reason}: {u.message_pl}", highlight=False)
        console.print(f"  {'':{len(name)}}  [dim]{u.message_en}[/]", highlight=False)
