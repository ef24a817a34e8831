"""``carepath demo``: from nothing to a planned Kielce day on the embedded database.

Steps: create (or upgrade) the SQLite database, load the generated Kielce scenario
(replacing an earlier demo), plan the demo day with the optimizer, check the plan with the
independent checker, store it as a draft roster and print what a dispatcher wants to see.
Nothing here fakes a result: every figure printed is read from the stored roster's solution.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dispatch.db import make_engine, session_scope
from dispatch.errors import UserError
from dispatch.migrate import upgrade
from dispatch.ride_stats import ride_stats
from dispatch.rosters import PlannedDay, plan_day
from dispatch.seed import load_scenario
from dispatch.settings import get_settings
from dispatch.travel import provider_from_settings
from dispatch.users import ensure_demo_users
from optimizer.params import Progress, load_params, load_weights


@dataclass(frozen=True)
class DemoResult:
    database_url: str
    planned: PlannedDay
    users: tuple = ()
    """(username, password, role, worker_id) of the demo accounts, one per role."""


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def run_demo(
    directory: Path | None,
    *,
    day: dt.date | None = None,
    time_limit: float = 10.0,
    seed: int = 2026,
    console: Console | None = None,
) -> DemoResult:
    """Create the demo database in ``directory``, plan the demo day, print the summary."""
    from fixtures.generator import generate

    console = console or Console()
    settings = get_settings()
    data_dir = Path(directory) if directory is not None else settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create data directory {data_dir}: {exc.strerror or exc}") from None
    url = f"sqlite:///{(data_dir / 'carepath-demo.db').resolve()}"
    with console.status("creating the database schema..."):
        upgrade(url)
    with console.status("generating the Kielce demo scenario..."):
        scenario = generate(seed)
    day = day or scenario.demo_date
    if not (scenario.start_date <= day < scenario.start_date + dt.timedelta(days=scenario.days)):
        raise UserError(
            f"--date {day} is outside the demo week {scenario.start_date} .. "
            f"{scenario.start_date + dt.timedelta(days=scenario.days - 1)}"
        )
    engine = make_engine(url)
    with console.status("loading seniors, workers, cars and requests..."):
        with session_scope(engine) as session:
            written = load_scenario(session, scenario, replace=True, actor="carepath demo")
    console.print(
        f"Loaded the Kielce demo into {url}: {written.get('seniors', 0)} seniors, "
        f"{written.get('workers', 0)} workers, {written.get('cars', 0)} cars, "
        f"{written.get('visit_requests', 0)} visit requests."
    )
    status = console.status(f"planning {day.isoformat()} ...")
    last = [0.0]

    def progress(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5:
            last[0] = now
            status.update(
                f"planning {day.isoformat()}: {p.elapsed_s:4.1f} s, placed {p.visits_placed}/{p.visits_total}, "
                f"best cost {p.best_cost:,d}"
            )

    try:
        weights = load_weights(settings.weights_file)
        params = load_params(settings.weights_file, time_limit_s=time_limit, on_progress=progress)
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"weights file {settings.weights_file}: {exc}") from None
    with status:
        with session_scope(engine) as session:
            planned = plan_day(session, day, provider_from_settings(settings), params, settings.timezone, weights)
    with session_scope(engine) as session:
        users = tuple(ensure_demo_users(session, day))
    engine.dispose()
    print_summary(console, planned)
    return DemoResult(url, planned, users)


def print_rides(console: Console, planned: PlannedDay) -> None:
    """Senior taxi: rides planned/unplaced, shared rides, cars, km, then each car stop in time order.

    A stop line names the senior by client id only (the terminal is the dispatcher's, but a
    demo output gets pasted around) and the needs that decide the car: wheelchair (WC),
    companion (+1), assistant (+A); "on call" marks a return whose time is a reservation.
    """
    built, solution = planned.built, planned.solution
    if not built.rides:
        return
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
            f"  {_hhmm(s.start):>5}-{_hhmm(s.end):5} {wid} {leg:14} {v.client_id or '':8} {place:24} "
            f"{needs_of.get(s.visit_id, '')}".rstrip(),
            highlight=False,
        )


def print_summary(console: Console, planned: PlannedDay) -> None:
    """Per worker: visits, travel, working time, utilisation; rides; unplaced visits with reasons."""
    problem, solution = planned.built.problem, planned.solution
    workers = problem.worker_by_id()
    roster = planned.roster
    k = solution.kpis
    console.print()
    console.rule(f"Roster {roster.date} (version {roster.version}, {roster.status.value})")
    table = Table(show_lines=False, header_style="bold")
    for col in ("worker", "kind", "shift", "visits", "travel", "service", "working", "utilisation"):
        table.add_column(col, justify="right" if col not in ("worker", "kind") else "left")
    by_worker: dict[str, list] = {}
    for r in solution.routes:
        by_worker.setdefault(r.worker_id, []).append(r)
    for wid, w in sorted(workers.items()):
        routes = by_worker.get(wid, [])
        shift_minutes = sum(s.end - s.start for s in w.shifts)
        shifts = " + ".join(f"{_hhmm(s.start)}-{_hhmm(s.end)}" for s in w.shifts)
        n = sum(len(r.stops) for r in routes)
        travel = sum(r.travel_minutes for r in routes)
        service = sum(r.service_minutes for r in routes)
        working = sum(r.end - r.start for r in routes)
        util = service / shift_minutes if shift_minutes else 0.0
        table.add_row(wid, w.kind.value, shifts, str(n), _hhmm(travel), _hhmm(service), _hhmm(working), f"{util:.0%}")
    console.print(table)
    print_rides(console, planned)
    if k is not None:
        console.print(
            f"[bold]Placed {k.visits_placed} of {k.visits_total} visits[/] (mandatory {k.mandatory_placed}/"
            f"{k.mandatory_total}); {k.workers_used} workers; travel {_hhmm(k.travel_minutes)}; "
            f"utilisation {k.utilisation:.0%}; continuity of care {k.continuity_share:.0%}; "
            f"overtime {k.overtime_minutes} min."
        )
    if solution.stats is not None:
        console.print(
            f"Solver: {solution.stats.status}, {solution.stats.solutions_found} solutions, "
            f"{solution.stats.elapsed_s:.1f} s; the plan passed the independent checker."
        )
    if solution.unassigned:
        counts = Counter(u.reason.value for u in solution.unassigned)
        console.print(
            f"[bold]Not placed: {len(solution.unassigned)}[/] ("
            + ", ".join(f"{n} {code}" for code, n in counts.most_common())
            + ")"
        )
        for u in solution.unassigned:
            console.print(f"  {u.visit_id}: {u.message_pl}", highlight=False)
            console.print(f"  {'':{len(u.visit_id)}}  [dim]{u.message_en}[/]", highlight=False)
    for rid, why in planned.built.skipped:
        console.print(f"  request {rid} skipped: {why}", highlight=False)
